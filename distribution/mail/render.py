"""Render a release (or a notice about one) into message bytes: a pure function.

`prepare` does the expensive part once per (release, language, marked, list, kind): the
templates, CSS inlining, header encoding and serialisation. `PreparedMessage.personalise`
then only joins bytes with the recipient's own values. The tests hold it to a slow
reference that builds one full EmailMessage per recipient.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime
from functools import lru_cache

import jinja2

from config import Settings
from distribution.mail import headers as h
from distribution.mail.draft import Draft, draft_for
from distribution.mail.folding import check_header_block
from distribution.mail.media import NO_MEDIA, InlineImage, MessageMedia
from distribution.mail.stencil import Stencil, cut
from distribution.mail.templates import load_templates
from distribution.store.models import Release

__all__ = ["PreparedMessage", "Recipient", "load_templates", "prepare", "render"]

HEADER_ORDER = ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
                "References", "MIME-Version", "List-Id", "List-Unsubscribe",
                "List-Unsubscribe-Post", "Precedence")
# In-Reply-To and References: empty for a recipient whose message answers none.
PERSONAL_HEADERS = ("To", "Date", "Message-ID", "In-Reply-To", "References",
                    "List-Unsubscribe")
LINK_NAMES = ("unsubscribe_url", "preferences_url")


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str | None
    timezone: str | None  # IANA zone or None
    message_id: str  # full "<...@domain>" made by the caller (stable across retries)
    unsubscribe_url: str  # https://…/u/<token>
    preferences_url: str
    unsubscribe_mailto: str  # "mailto:unsubscribe@domain?subject=unsubscribe-<token>"
    # Message-IDs of the copies this recipient holds that this message follows up, oldest
    # first: a notice threads with the release it is about.
    references: tuple[str, ...] = ()


class PreparedMessage:
    """One rendered message with holes for the recipient; one stencil per embargo line."""

    def __init__(self, draft: Draft) -> None:
        self._draft = draft
        line = draft.embargo_line(None)
        default = _stencil(draft, line)
        self._by_zone: dict[str | None, Stencil] = {None: default}
        self._by_line: dict[str | None, Stencil] = {line: default}

    def personalise(self, recipient: Recipient, *, date: datetime | None = None) -> bytes:
        stencil, lines, links = self._holes(recipient, date)
        return stencil.fill(lines, links)

    def personalise_for_smtp(self, recipient: Recipient, *,
                             date: datetime | None = None) -> bytes:
        """The message as an SMTP data block (dot-stuffed, ending in CRLF.CRLF)."""
        stencil, lines, links = self._holes(recipient, date)
        return stencil.fill_for_smtp(lines, links)

    def _holes(self, recipient: Recipient, date: datetime | None,
               ) -> tuple[Stencil, dict[str, bytes], dict[str, str]]:
        """The recipient's stencil, and what fills its header and link holes."""
        links = _links(recipient)
        lines = _header_lines(recipient, links, date or datetime.now(UTC))
        return self._stencil_for(recipient.timezone), lines, links

    def _stencil_for(self, zone: str | None) -> Stencil:
        stencil = self._by_zone.get(zone)
        if stencil is None:
            # A recipient's own zone changes the embargo line; prepared once per zone.
            line = self._draft.embargo_line(zone)
            stencil = self._by_line.get(line)
            if stencil is None:
                stencil = self._by_line[line] = _stencil(self._draft, line)
            self._by_zone[zone] = stencil
        return stencil


def prepare(release: Release, settings: Settings, templates: jinja2.Environment, *,
            marked: bool, list_name: str | None = None, kind: str = "release",
            note: str | None = None, media: MessageMedia = NO_MEDIA,
            list_title: str | None = None,
            notice_language: str | None = None) -> PreparedMessage:
    return PreparedMessage(draft_for(release, settings, templates, marked=marked,
                                     list_name=list_name, kind=kind, note=note, media=media,
                                     list_title=list_title, notice_language=notice_language))


def render(release: Release, recipient: Recipient, templates: jinja2.Environment,
           settings: Settings, *, marked: bool, list_name: str | None = None,
           kind: str = "release", note: str | None = None,
           date: datetime | None = None, media: MessageMedia = NO_MEDIA,
           list_title: str | None = None, notice_language: str | None = None) -> bytes:
    """The message for one recipient: no database, no network."""
    prepared = prepare(release, settings, templates, marked=marked, list_name=list_name,
                       kind=kind, note=note, media=media, list_title=list_title,
                       notice_language=notice_language)
    return prepared.personalise(recipient, date=date)


def build_message(fixed: Mapping[str, object], personal: Mapping[str, object], text: str,
                  html: str, inline: tuple[InlineImage, ...] = ()) -> EmailMessage:
    """multipart/alternative: text/plain first, then text/html, both UTF-8 quoted-printable.

    With embedded photos the HTML and its images are one multipart/related part.
    """
    message = EmailMessage(policy=h.POLICY)
    for name in HEADER_ORDER:
        value = personal.get(name, fixed.get(name))
        if value is not None:
            message[name] = value
    message.make_alternative()
    # typeshed wants parts of the message's own class; the email package takes any MIMEPart.
    message.attach(_text_part(text, "plain"))  # type: ignore[arg-type]
    message.attach(_with_images(_text_part(html, "html"), inline) if inline  # type: ignore[arg-type]
                   else _text_part(html, "html"))
    if language := fixed.get("Content-Language"):
        message["Content-Language"] = language  # after the content: set_content clears it
    return message


def _with_images(html: MIMEPart, inline: tuple[InlineImage, ...]) -> MIMEPart:
    related = MIMEPart(policy=h.POLICY)
    related.make_related()
    related.attach(html)
    for image in inline:
        part = MIMEPart(policy=h.POLICY)
        maintype, _, subtype = image.content_type.partition("/")
        part.set_content(image.data, maintype, subtype, disposition="inline",
                         filename=h.clean_header_value(image.filename), cid=f"<{image.cid}>")
        related.attach(part)
    return related


def _text_part(content: str, subtype: str) -> MIMEPart:
    # MIMEPart, not EmailMessage: a body part carries no MIME-Version of its own.
    part = MIMEPart(policy=h.POLICY)
    part.set_content(content, subtype=subtype, charset="utf-8", cte="quoted-printable")
    return part


def _stencil(draft: Draft, embargo_line: str | None) -> Stencil:
    """Render and serialise once, with placeholder lines where the recipient goes."""
    nonce = f"{secrets.randbelow(10**16):016d}"  # unguessable: no release text contains it
    value_tokens = {f"PRESSROOM{nonce}V{i}": name for i, name in enumerate(LINK_NAMES)}
    subject, text, html = draft.render(embargo_line, {v: k for k, v in value_tokens.items()})
    _check_links(nonce, value_tokens, subject, text, html)
    header_slots = {f"PRESSROOM{nonce}H{i}": name for i, name in enumerate(PERSONAL_HEADERS)}
    text_token, html_token = f"PRESSROOM{nonce}T", f"PRESSROOM{nonce}M"
    personal = {name: h.FoldedHeader(name, token + "\r\n") for token, name in header_slots.items()}
    skeleton = build_message(_fixed(draft, subject), personal, text_token, html_token,
                             draft.inline)
    blob = skeleton.as_bytes(policy=h.POLICY)
    check_header_block(blob, skeleton.keys(),
                       {f"{token}".encode(): name for token, name in header_slots.items()})
    return cut(blob, header_slots, {text_token: (text, False), html_token: (html, True)},
               value_tokens)


def _check_links(nonce: str, tokens: Mapping[str, str], subject: str, *bodies: str) -> None:
    """Links go into the bodies as given: a site template that altered one (|lower keeps
    the nonce's digits) would send everyone a broken link; a subject cannot hold one."""
    if nonce in subject or any(
            body.count(nonce) != sum(body.count(token) for token in tokens) for body in bodies):
        raise ValueError("a template changed a per-recipient link or put one in the subject")


def _fixed(draft: Draft, subject: str) -> dict[str, object]:
    return {**draft.headers, "Subject": h.text("Subject", subject)}


def _header_lines(recipient: Recipient, links: Mapping[str, str],
                  date: datetime) -> dict[str, bytes]:
    # The email package's fold for each value; its header parser would cost 100-500 µs a
    # header, ten times the budget of a whole message, so values are formatted directly.
    lines = {
        "To": h.mailbox_line("To", recipient.name, recipient.email, utf8=True),
        "Date": _date_line(date),
        "Message-ID": h.header_line("Message-ID", h.message_id(recipient.message_id)),
        "List-Unsubscribe": h.list_unsubscribe(links["unsubscribe_url"],
                                               recipient.unsubscribe_mailto).line,
        **_threading(recipient.references),
    }
    # ASCII all, but To may carry an address whose local part is not (SMTPUTF8, RFC 6532).
    return {name: line.encode("utf-8" if name == "To" else "ascii")
            for name, line in lines.items()}


def _threading(references: tuple[str, ...]) -> dict[str, str]:
    """In-Reply-To (the latest) and References (all, one per line), or empty lines."""
    if not references:
        return {"In-Reply-To": "", "References": ""}
    ids = [h.message_id(ref) for ref in references]
    return {"In-Reply-To": f"In-Reply-To: {ids[-1]}\r\n",
            "References": "References: " + "\r\n ".join(ids) + "\r\n"}


@lru_cache(maxsize=16)
def _date_line(date: datetime) -> str:
    # One batch stamps all its messages with the same instant: format it once.
    return h.header_line("Date", format_datetime(_aware(date)))


def _links(recipient: Recipient) -> dict[str, str]:
    return {"unsubscribe_url": h.header_url(recipient.unsubscribe_url),
            "preferences_url": h.header_url(recipient.preferences_url)}


def _aware(date: datetime) -> datetime:
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("the Date of a message must be an aware datetime")
    return date
