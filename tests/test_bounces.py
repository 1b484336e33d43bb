"""`pressroom bounces`: DSNs, complaints and the rest, matched to their delivery by VERP."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from distribution.cli import main
from distribution.embargo.notices import change_embargo
from distribution.engine import dispatch
from distribution.engine.runner import deliver_due
from distribution.store.models import Bounce, Delivery, Suppression
from distribution.times import WhenParsed
from tests.fixtures.bounces import arf, auto_reply, dsn, qmail_bounce
from tests.fixtures.builders import make_list, make_release, now_utc
from tests.fixtures.settings import make_settings

BOUNCES = "bounces@press.iiim.example.org"
PEOPLE = ["a@example.org", "b@example.org", "c@example.org"]


def _env(tmp_path, store, smtp_server, bounce_address):
    return {
        "PRESSROOM_HOME": str(tmp_path / "home"), "PRESSROOM_DATABASE_URL": store.url,
        "PRESSROOM_FROM": "IIIM Press Office <press@iiim.example.org>",
        "PRESSROOM_SECRET_KEY": "test-secret-key", "PRESSROOM_SMTP_URL": smtp_server.url,
        "PRESSROOM_BOUNCE_ADDRESS": bounce_address, "PRESSROOM_BROKER_URL": "",
        "PRESSROOM_CONFIG": "", "PRESSROOM_TIMEZONE": "Europe/Zurich",
        "PRESSROOM_BASE_URL": "https://press.iiim.example.org",
    }


class Sent:
    """A release delivered to PEOPLE; what each received, and `pressroom bounces`."""

    def __init__(self, tmp_path, store, smtp_server, bounce_address=BOUNCES, *,
                 embargo_in=None):
        self.store, self.tmp_path = store, tmp_path
        self.env = _env(tmp_path, store, smtp_server, bounce_address)
        self.settings = settings = make_settings(tmp_path, store.url, smtp_url=smtp_server.url,
                                                 bounce_address=bounce_address)
        with store.Session() as session, session.begin():
            release = make_release(session, embargo_in=embargo_in)
            make_list(session, "media", PEOPLE, trusted=embargo_in is not None)
            plan = dispatch.plan(session, release.id, ["media"])
            dist, _ = dispatch.schedule(session, plan, now=now_utc())
        deliver_due(store.Session, settings)
        self.distribution_id, self.release_id = dist.id, release.id
        self.received = {m.rcpt_tos[0]: m for m in smtp_server.messages}

    def sender(self, address):
        return self.received[address].mail_from

    def original(self, address):
        return self.received[address].data

    def feed(self, *messages: bytes, stdin: bytes | None = None, args=()):
        paths = []
        for i, raw in enumerate(messages):
            path = self.tmp_path / f"bounce{len(list(self.tmp_path.glob('bounce*')))}-{i}.eml"
            path.write_bytes(raw)
            paths.append(str(path))
        result = CliRunner().invoke(main, ["bounces", *args, *paths], env=self.env,
                                    input=stdin, catch_exceptions=False)
        return result

    def row(self, address):
        with self.store.Session() as session:
            return session.scalar(select(Delivery).where(Delivery.email == address))

    def suppressed(self):
        with self.store.Session() as session:
            return {s.email: s.reason for s in session.scalars(select(Suppression))}

    def bounce_rows(self):
        with self.store.Session() as session:
            return session.scalar(select(func.count()).select_from(Bounce))


@pytest.fixture
def sent(tmp_path, store, smtp_server):
    return Sent(tmp_path, store, smtp_server)


def test_a_hard_bounce_marks_the_delivery_bounced_and_suppresses_the_address(sent):
    result = sent.feed(dsn(sent.sender("a@example.org"), "a@example.org"))
    assert result.exit_code == 0, result.output
    assert "a@example.org" in result.output and "suppressed" in result.output
    row = sent.row("a@example.org")
    assert row.status == "bounced"
    assert "5.1.1" in row.bounce_diagnostic and "User unknown" in row.bounce_diagnostic
    assert set(sent.suppressed()) == {"a@example.org"}
    assert sent.row("b@example.org").status == "sent"


def test_the_same_bounce_fed_twice_changes_nothing(sent):
    message = dsn(sent.sender("a@example.org"), "a@example.org")
    sent.feed(message)
    before = (sent.suppressed(), sent.bounce_rows())
    result = sent.feed(message)
    assert result.exit_code == 0 and "already recorded" in result.output
    assert (sent.suppressed(), sent.bounce_rows()) == before


def test_soft_bounces_suppress_only_after_the_configured_number(sent):
    sender = sent.sender("b@example.org")
    for attempt in range(1, 4):
        result = sent.feed(dsn(sender, "b@example.org", action="delayed", status="4.4.7",
                               diagnostic=f"smtp; 451 4.4.7 mailbox busy ({attempt})"))
        assert f"soft bounce {attempt} of 3" in result.output
        assert ("b@example.org" in sent.suppressed()) == (attempt == 3)
    assert sent.row("b@example.org").status == "sent"
    assert "4.4.7" in sent.row("b@example.org").bounce_diagnostic


def test_a_complaint_marks_the_delivery_complained_and_suppresses_everywhere(sent):
    report = arf(sent.sender("c@example.org"), "c@example.org", sent.original("c@example.org"))
    result = sent.feed(stdin=report)
    assert result.exit_code == 0, result.output
    assert sent.row("c@example.org").status == "complained"
    assert sent.suppressed()["c@example.org"].startswith("complaint")


def test_a_redacted_complaint_is_matched_by_the_message_id_it_quotes(sent):
    # Providers often strip the recipient and the envelope: the original's headers remain.
    original = sent.original("c@example.org").replace(sent.sender("c@example.org").encode(),
                                                      b"x@example.net")
    result = sent.feed(arf("fbl-inbox@press.iiim.example.org", None, original))
    assert result.exit_code == 0, result.output
    assert sent.row("c@example.org").status == "complained"


def test_a_bounce_in_a_non_standard_format_is_read_by_flufl_bounce(sent):
    result = sent.feed(qmail_bounce(sent.sender("a@example.org"), "a@example.org"))
    assert "suppressed" in result.output, result.output
    assert sent.row("a@example.org").status == "bounced"


def test_auto_replies_and_unrecognised_mail_are_reported_and_left_alone(sent):
    other = b"From: someone@example.net\r\nSubject: hello\r\n\r\nJust saying hi.\r\n"
    result = sent.feed(auto_reply(sent.sender("a@example.org")), other)
    assert result.exit_code == 0
    assert "autoreply" in result.output and "unrecognised" in result.output
    assert sent.suppressed() == {} and sent.bounce_rows() == 0


def test_a_forged_token_is_reported_and_suppresses_nobody(sent):
    genuine = sent.sender("a@example.org")
    local, domain = genuine.split("@")
    forged = f"{local[:-1]}{'b' if local[-1] != 'b' else 'c'}@{domain}"
    result = sent.feed(dsn(forged, "a@example.org"))
    assert result.exit_code == 0 and "forged" in result.output
    assert sent.suppressed() == {}


def test_a_dsn_naming_no_delivery_suppresses_nobody(sent):
    result = sent.feed(dsn("press@iiim.example.org", "a@example.org"))
    assert result.exit_code == 0 and "skipped" in result.output
    assert sent.suppressed() == {}


@pytest.mark.parametrize("raw", [
    b"\x00\xff" * 1000,
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"x\"\r\n\r\n"
    b"--x\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822;\r\n"
    b"Action: failed\r\nStatus: 5.1.1\r\n",
    b"Content-Type: multipart/report; boundary=\r\n\r\n--\r\n--\r\n",
    b"",
    # Nested multiparts three thousand deep: the parser's recursion gives out.
    b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
             for i in range(3000)),
])
def test_broken_mime_is_reported_without_a_traceback(sent, raw):
    result = sent.feed(raw)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and sent.suppressed() == {}


def test_a_fifty_megabyte_message_is_skipped_unread(sent):
    huge = dsn(sent.sender("a@example.org"), "a@example.org") + b"x" * (50 * 1024 * 1024)
    result = sent.feed(huge)
    assert result.exit_code == 0 and "larger than" in result.output
    assert sent.suppressed() == {}


def test_a_suppressed_address_gets_no_further_mail(sent, store):
    sent.feed(dsn(sent.sender("a@example.org"), "a@example.org"))
    with store.Session() as session, session.begin():
        release = make_release(session, headline="Second release")
        plan = dispatch.plan(session, release.id, ["media"])
        dist, _ = dispatch.schedule(session, plan, now=now_utc())
    with store.Session() as session:
        emails = set(session.scalars(select(Delivery.email)
                                     .where(Delivery.distribution_id == dist.id)))
    assert "a@example.org" not in emails and "b@example.org" in emails


def test_without_verp_only_a_dsn_quoting_our_copy_changes_anything(tmp_path, store,
                                                                    smtp_server):
    sent = Sent(tmp_path, store, smtp_server, bounce_address="")
    result = sent.feed(dsn("press@iiim.example.org", "stranger@example.net"))
    assert "nothing changed" in result.output and sent.suppressed() == {}
    # Naming a recipient proves nothing: anyone can write that report.
    result = sent.feed(dsn("press@iiim.example.org", "a@example.org"))
    assert "nothing changed" in result.output and sent.suppressed() == {}
    assert sent.row("a@example.org").status == "sent"
    result = sent.feed(dsn("press@iiim.example.org", "a@example.org",
                           original=sent.original("a@example.org")))
    assert sent.row("a@example.org").status == "bounced"


def test_a_delivery_notice_quoting_our_copy_changes_nothing_in_one_line(tmp_path, store,
                                                                         smtp_server):
    """A report that names no failure ("delivered", "relayed") raised a traceback and
    stopped the run: a recipient could mail one to their own copy's bounce address."""
    sent = Sent(tmp_path, store, smtp_server, bounce_address="")
    result = sent.feed(dsn("press@iiim.example.org", "a@example.org", action="delivered",
                           status="2.0.0", original=sent.original("a@example.org")),
                       dsn("press@iiim.example.org", "b@example.org",
                           original=sent.original("b@example.org")))
    assert "names no failed delivery; nothing changed" in result.output
    assert sent.row("a@example.org").status == "sent"
    assert sent.row("b@example.org").status == "bounced"  # the next report still applied


def test_a_guessed_message_id_of_another_recipient_changes_nothing(tmp_path, store,
                                                                    smtp_server):
    sent = Sent(tmp_path, store, smtp_server, bounce_address="")
    mine = sent.original("a@example.org")
    # The IDs of others differ only by a number: a stranger counts up and forges the rest.
    with store.Session() as session:
        other = session.scalars(select(Delivery).where(Delivery.email == "b@example.org")).one()
    forged = re.sub(rb"<pressroom\.(\d+)\.(\d+)\.", lambda m: b"<pressroom." + m.group(1)
                    + b"." + str(other.id).encode() + b".", mine, count=1)
    result = sent.feed(dsn("press@iiim.example.org", "b@example.org", original=forged))
    assert "nothing changed" in result.output and sent.suppressed() == {}
    assert sent.row("b@example.org").status == "sent"


# --- what the office sees -------------------------------------------------------------------

def _cli(sent, *args):
    result = CliRunner().invoke(main, list(args), env=sent.env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_status_shows_bounce_and_complaint_rates_with_a_warning(sent):
    sent.feed(arf(sent.sender("c@example.org"), "c@example.org", sent.original("c@example.org")))
    shown = json.loads(_cli(sent, "status", str(sent.distribution_id), "--json"))
    assert (shown["sent"], shown["complained"], shown["bounced"]) == (2, 1, 0)
    assert shown["complaint_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert any("complaint rate" in w and "0.3%" in w for w in shown["warnings"])
    assert "WARNING  complaint rate 33.33%" in _cli(sent, "status", str(sent.distribution_id))


def test_the_office_sets_the_rates_status_warns_above(sent):
    sent.feed(arf(sent.sender("c@example.org"), "c@example.org", sent.original("c@example.org")))
    sent.feed(dsn(sent.sender("a@example.org"), "a@example.org"))
    dist = str(sent.distribution_id)
    # One complaint and one bounce of three: 33.33 % each, above both defaults.
    assert len(json.loads(_cli(sent, "status", dist, "--json"))["warnings"]) == 2
    sent.env.update(PRESSROOM_COMPLAINT_RATE_WARNING="0.25", PRESSROOM_BOUNCE_RATE_WARNING="0.5")
    shown = json.loads(_cli(sent, "status", dist, "--json"))
    assert shown["warnings"] == ["complaint rate 33.33% is above 25%: providers junk or refuse "
                                 "mail from senders like this"]
    text = _cli(sent, "status", dist)
    assert "WARNING  complaint rate 33.33% is above 25%" in text and "bounce rate" not in text
    sent.env.update(PRESSROOM_COMPLAINT_RATE_WARNING="1")
    assert json.loads(_cli(sent, "status", dist, "--json"))["warnings"] == []
    assert json.loads(_cli(sent, "distributions", "--json"))[0]["warnings"] == []


def test_status_warns_of_nothing_while_rates_are_low(sent):
    shown = json.loads(_cli(sent, "status", str(sent.distribution_id), "--json"))
    assert shown["warnings"] == [] and shown["complaint_rate"] == 0


def test_the_report_lists_every_recipient_with_what_became_of_their_copy(sent):
    sent.feed(dsn(sent.sender("a@example.org"), "a@example.org"))
    rows = {r["email"]: r for r in json.loads(_cli(sent, "report", str(sent.distribution_id),
                                                   "--json"))}
    assert set(rows) == set(PEOPLE)
    bounced = rows["a@example.org"]
    assert (bounced["status"], bounced["list"], bounced["language"]) == ("bounced", "media", "en")
    assert bounced["smtp_code"] == 250 and bounced["time"]
    assert "User unknown" in bounced["bounce"]
    assert rows["b@example.org"]["status"] == "sent" and rows["b@example.org"]["bounce"] is None
    failed = json.loads(_cli(sent, "report", str(sent.distribution_id), "--failed", "--json"))
    assert [r["email"] for r in failed] == ["a@example.org"]


def test_the_report_as_csv_quotes_what_a_spreadsheet_would_run(sent):
    sent.feed(dsn(sent.sender("a@example.org"), "a@example.org",
                  diagnostic="smtp; =HYPERLINK(\"http://x\") 550 gone"))
    table = list(csv.DictReader(io.StringIO(_cli(sent, "report", str(sent.distribution_id),
                                                 "--csv"))))
    assert [r["email"] for r in table] == PEOPLE
    assert table[0]["status"] == "bounced" and not table[0]["bounce"].startswith("=")


def test_the_report_of_a_missing_distribution_is_one_line(sent):
    result = CliRunner().invoke(main, ["report", "999"], env=sent.env)
    assert result.exit_code != 0 and "no distribution with id 999" in result.output
    assert "Traceback" not in result.output


def test_contacts_list_carries_each_suppression(sent):
    sent.feed(dsn(sent.sender("a@example.org"), "a@example.org"))
    contacts = {c["email"]: c for c in json.loads(_cli(sent, "contacts", "list", "--json"))}
    assert contacts["a@example.org"]["suppressed"].startswith("hard: 5.1.1")
    assert contacts["b@example.org"]["suppressed"] is None


def test_a_bounced_address_gets_no_notice(tmp_path, store, smtp_server):
    sent = Sent(tmp_path, store, smtp_server, embargo_in=timedelta(hours=2))
    sent.feed(dsn(sent.sender("a@example.org"), "a@example.org"))
    before = len(smtp_server.messages)
    with store.Session() as session, session.begin():
        change_embargo(session, sent.release_id, now=now_utc(), until=WhenParsed(
            now_utc() + timedelta(days=1), "Europe/Zurich", False))
    deliver_due(store.Session, sent.settings)
    notified = {m.rcpt_tos[0] for m in smtp_server.messages[before:]}
    assert notified == {"b@example.org", "c@example.org"}


def test_a_pending_row_of_an_address_that_bounces_is_cancelled(sent, store):
    with store.Session() as session, session.begin():
        release = make_release(session, headline="Scheduled release")
        plan = dispatch.plan(session, release.id, ["media"])
        dist, _ = dispatch.schedule(session, plan, now=now_utc() + timedelta(hours=1))
    sent.feed(dsn(sent.sender("b@example.org"), "b@example.org"))
    with store.Session() as session:
        statuses = dict(session.execute(select(Delivery.email, Delivery.status)
                                        .where(Delivery.distribution_id == dist.id)).all())
    assert statuses["b@example.org"] == "cancelled"
    assert statuses["a@example.org"] == "pending"
