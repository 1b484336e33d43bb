"""What a message mailed back to the bounce address says: pure, no database.

A DSN (RFC 3464, multipart/report; report-type=delivery-status) names each recipient with
an action and a status: `failed` with 5.x.x is a hard bounce, `delayed` or 4.x.x a soft
one. An ARF report (RFC 5965, report-type=feedback-report) is a complaint. Bounces in other
shapes (old qmail, Exchange, Yahoo...) go to flufl.bounce. Auto-replies and anything else
are reported and left alone. Which delivery it is about comes from the VERP address it was
mailed to, or from the Message-ID of the original it quotes.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses
from typing import cast

from flufl.bounce import all_failures

from distribution.mail.signing.verp import Verp

# flufl.bounce logs a traceback for a message one of its detectors chokes on (then raises,
# which is reported here as an unreadable message): a stranger's mail must not fill the log.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
log = logging.getLogger(__name__)

# Larger than any bounce: a DSN quotes headers or a truncated copy. Read no further.
MAX_BYTES = 5 * 1024 * 1024

HARD, SOFT, COMPLAINT = "hard", "soft", "complaint"
_ADDRESS_TYPE = re.compile(r"^\s*rfc822\s*;\s*", re.IGNORECASE)
_AUTO_SUBJECT = re.compile(r"^\s*(auto(matic)?[ -]?reply|out of (the )?office|abwesenheit|"
                           r"absence|r[ée]ponse automatique|vacation)", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^\s<>@]+@[^\s<>@]+>")
_VERP_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")


@dataclass(frozen=True)
class Failure:
    email: str
    kind: str                  # hard | soft | complaint
    diagnostic: str


@dataclass
class Report:
    """One message read: what it is, and what it says about whom."""

    verdict: str               # dsn | arf | nonstandard | autoreply | unrecognised | skipped
    failures: list[Failure] = field(default_factory=list)
    delivery_id: int | None = None       # from a genuine VERP address
    forged: bool = False                 # a VERP address whose signature does not hold
    original_message_id: str | None = None
    fingerprint: str = ""
    note: str = ""


def read_report(raw: bytes, verp: Verp) -> Report:
    """Never raises on what a stranger can mail: a bad message is a report that says so."""
    if len(raw) > MAX_BYTES:
        return Report("skipped", note=f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        report = _classify(message)
        if report.verdict in ("dsn", "arf", "nonstandard"):
            _find_delivery(message, raw, verp, report)
    except Exception as exc:  # noqa: BLE001 - broken MIME takes many shapes in the parser
        # (deep nesting, bad encodings, a flufl.bounce detector choking): a stranger's mail.
        log.info("unreadable report: %s: %s", type(exc).__name__, exc)
        return Report("skipped", note="cannot read the message: its MIME structure is broken")
    report.fingerprint = hashlib.sha256(raw).hexdigest()
    return report


def _classify(message: Message) -> Report:
    if message.get_content_type() == "multipart/report":
        kind = collapse_rfc2231_value(message.get_param("report-type") or "").lower()
        if kind == "delivery-status":
            return _dsn(message)
        if kind == "feedback-report":
            return _arf(message)
    if _auto_reply(message):
        return Report("autoreply", note="an automatic reply")
    return _nonstandard(message)


def _parts(message: Message, content_type: str) -> list[Message]:
    return [part for part in message.walk() if part.get_content_type() == content_type]


def _dsn(message: Message) -> Report:
    report = Report("dsn")
    for status_part in _parts(message, "message/delivery-status"):
        payload = status_part.get_payload()
        blocks = payload if isinstance(payload, list) else []
        for fields in blocks[1:]:  # the first block is about the message, the rest recipients
            failure = _dsn_failure(cast(Message, fields))
            if failure is not None:
                report.failures.append(failure)
    if not report.failures:
        report.note = "a delivery report that reports no failure"
    return report


def _dsn_failure(fields: Message) -> Failure | None:
    action = str(fields.get("Action", "")).strip().lower()
    status = str(fields.get("Status", "")).strip()
    recipient = _ADDRESS_TYPE.sub("", str(fields.get("Final-Recipient")
                                          or fields.get("Original-Recipient") or ""))
    address = _address(recipient)
    if not address or action not in ("failed", "delayed"):
        return None  # delivered, relayed, expanded: not a failure
    hard = action == "failed" and status.startswith("5")
    diagnostic = " ".join(str(fields.get("Diagnostic-Code", "")).split())
    diagnostic = _ADDRESS_TYPE.sub("", re.sub(r"^\s*smtp\s*;\s*", "", diagnostic,
                                              flags=re.IGNORECASE))
    text = f"{status} {diagnostic}".strip()[:500] or action
    return Failure(address, HARD if hard else SOFT, text)


def _arf(message: Message) -> Report:
    report = Report("arf")
    fields = next(iter(_feedback_fields(message)), None)
    original = _original_headers(message)
    if fields is None:
        report.note = "a feedback report without its machine-readable part"
        return report
    feedback = str(fields.get("Feedback-Type", "abuse")).strip().lower()
    candidates = [str(fields.get(name, "")) for name in ("Original-Rcpt-To", "Removal-Recipient")]
    if original is not None:
        candidates.append(str(original.get("To", "")))
    address = next((a for a in map(_address, candidates) if a), "")
    if address:
        report.failures.append(Failure(address, COMPLAINT, f"complaint ({feedback})"))
    else:
        report.note = "a complaint that names no recipient (redacted)"
        report.failures.append(Failure("", COMPLAINT, f"complaint ({feedback})"))
    return report


def _feedback_fields(message: Message) -> list[Message]:
    found = []
    for part in _parts(message, "message/feedback-report"):
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            found.append(cast(Message, payload[0]))
        elif isinstance(payload, str):
            found.append(email.message_from_string(payload.strip() + "\n\n"))
    return found


def _nonstandard(message: Message) -> Report:
    temporary, permanent = all_failures(message)
    report = Report("nonstandard")
    for raw, kind in [*((a, HARD) for a in permanent), *((a, SOFT) for a in temporary)]:
        address = _address(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)
        if address and all(f.email != address for f in report.failures):
            report.failures.append(Failure(address, kind, "non-standard bounce"))
    if not report.failures:
        return Report("unrecognised", note="neither a bounce nor a complaint")
    return report


def _auto_reply(message: Message) -> bool:
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    return (auto not in ("", "no") or "X-Autoreply" in message or "X-Autorespond" in message
            or str(message.get("Precedence", "")).lower() == "auto_reply"
            or bool(_AUTO_SUBJECT.match(str(message.get("Subject", "")))))


def _original_headers(message: Message) -> Message | None:
    """The original message a report quotes (message/rfc822 or text/rfc822-headers)."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                return cast(Message, payload[0])
        elif kind == "text/rfc822-headers":
            text = cast(bytes, part.get_payload(decode=True) or b"")
            return email.message_from_bytes(text.split(b"\r\n\r\n")[0].split(b"\n\n")[0]
                                            + b"\n\n")
    return None


def _find_delivery(message: Message, raw: bytes, verp: Verp, report: Report) -> None:
    """The delivery from our VERP address (where the bounce was mailed, or the original's
    Return-Path), else the original's Message-ID; a VERP address that fails its signature
    marks the report forged."""
    original = _original_headers(message)
    headers = [str(message.get(name, "")) for name in _VERP_HEADERS]
    if original is not None:
        headers += [str(original.get("Return-Path", ""))]
        mid = _MESSAGE_ID.search(str(original.get("Message-ID", "")))
        report.original_message_id = mid.group(0) if mid else None
    text = " ".join(headers)
    report.delivery_id = verp.find(text)
    if report.delivery_id is None and verp.enabled and verp.mentions(text):
        report.forged = True


def _address(text: str) -> str:
    pairs = getaddresses([text.strip()])
    address = pairs[0][1].strip().lower() if pairs else ""
    return address if "@" in address and len(address) <= 320 else ""

