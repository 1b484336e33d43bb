"""A list's title in what its members receive: the footer names it, List-Id's phrase too,
while List-Id's machine id stays the slug. Releases, notices, corrections and test copies."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from distribution.audience.lists import rename_list
from distribution.audience.viewer import viewer_for
from distribution.embargo.corrections import correct_release
from distribution.embargo.notices import change_embargo
from distribution.engine import dispatch
from distribution.engine.batch import run_batch
from distribution.engine.runner import deliver_due
from distribution.engine.sweep import sweep
from distribution.engine.testsend import send_test_copy
from distribution.releases.parse import ParsedRelease
from distribution.store.models import MailingList, Release
from distribution.times import WhenParsed
from tests.fixtures.builders import addresses, make_list, make_release, now_utc
from tests.fixtures.settings import make_settings
from tests.fixtures.smtpd import Received, parse

TITLE = "Médias & presse (Genève)"
ORG = "International, Impartial and Independent Mechanism"


@pytest.fixture
def settings(tmp_path, store, smtp_server):
    return make_settings(tmp_path, store.url, smtp_url=smtp_server.url)


def _lists(session, *, embargo_in: timedelta | None = None) -> Release:
    release = make_release(session, embargo_in=embargo_in)
    media = make_list(session, "media", ["ana@example.org"], trusted=True)
    media.title = TITLE
    make_list(session, "public", ["reader@example.org"])
    return release


def _send(store, settings, release_id: int, lists: list[str]) -> None:
    with store.Session() as session, session.begin():
        plan = dispatch.plan(session, release_id, lists)
        dispatch.schedule(session, plan, now=now_utc())
    deliver_due(store.Session, settings)


def _footers(received: Received) -> tuple[str, str]:
    """The footer's line about the list, in the plain text and in the HTML."""
    message = parse(received)
    text = " ".join(message.get_body(("plain",)).get_content().split())
    html = " ".join(message.get_body(("html",)).get_content().split())
    [plain] = re.findall(r"You receive this as a member of the list “[^”]*”", text)
    [marked] = re.findall(r"You receive this as a member of the list “.*?”", html)
    return plain, marked


def _list_id_line(received: Received) -> bytes:
    """List-Id as written, continuation lines unfolded."""
    head = received.data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ")
    [line] = [h for h in head.split(b"\r\n") if h.startswith(b"List-Id:")]
    return line


def test_a_releases_footer_and_list_id_show_the_title_and_keep_the_slug_as_the_id(
        store, settings, smtp_server):
    with store.Session() as session, session.begin():
        release = _lists(session)
    _send(store, settings, release.id, ["media", "public"])

    by = {r.rcpt_tos[0]: r for r in smtp_server.messages}
    text, html = _footers(by["ana@example.org"])
    assert text == f"You receive this as a member of the list “{TITLE}”"
    assert "Médias &amp; presse (Genève)" in html and "“media”" not in html
    # A list without a title is shown by its name, as before.
    assert _footers(by["reader@example.org"])[0].endswith("the list “public”")

    line = _list_id_line(by["ana@example.org"])
    assert line.isascii() and line.endswith(b" <media.iiim.example.org>")
    assert b"=?utf-8?q?" in line  # the phrase is encoded-words: "&", "(", "é"
    assert parse(by["ana@example.org"])["List-Id"] == \
        f"{ORG} – {TITLE} <media.iiim.example.org>"
    assert parse(by["reader@example.org"])["List-Id"] == f"{ORG} – public <public.iiim.example.org>"


def test_a_hostile_title_never_adds_a_header_or_breaks_the_id(store, settings, smtp_server):
    with store.Session() as session, session.begin():
        release = _lists(session)
        # Titles are checked when set; a value written around that check must hold too.
        found = session.query(MailingList).filter_by(name="media").one()
        found.title = "Press <x@evil.example>\r\nBcc: victim@example.org, =?utf-8?q?X?="
    _send(store, settings, release.id, ["media"])

    [received] = smtp_server.messages
    message = parse(received)
    assert "Bcc" not in message and received.rcpt_tos == ("ana@example.org",)
    assert _list_id_line(received).endswith(b" <media.iiim.example.org>")
    assert message["List-Id"].startswith(f"{ORG} – Press <x@evil.example> Bcc: victim@")


def test_notices_corrections_and_copies_sent_again_name_the_title_of_the_moment(
        store, settings, smtp_server):
    with store.Session() as session, session.begin():
        release = _lists(session, embargo_in=timedelta(hours=2))
    _send(store, settings, release.id, ["media"])
    assert _footers(smtp_server.messages[0])[0].endswith(f"“{TITLE}”")
    with store.Session() as session, session.begin():
        rename_list(session, "media", None, title="Press corps")

    with store.Session() as session, session.begin():
        until = WhenParsed(now_utc() + timedelta(hours=3), "Europe/Zurich", False)
        change_embargo(session, release.id, until=until, now=now_utc())
    deliver_due(store.Session, settings)
    moved = parse(smtp_server.messages[1])
    assert "EMBARGO" in moved["Subject"].upper()
    assert _footers(smtp_server.messages[1]) == (
        "You receive this as a member of the list “Press corps”",
        "You receive this as a member of the list “Press corps”")

    with store.Session() as session, session.begin():
        parsed = ParsedRelease(headline="IIIM Head Concludes Visit to Damascus and Beirut",
                               body="The meetings focused on cooperation.")
        correct_release(session, release.id, parsed, now=now_utc())
    deliver_due(store.Session, settings)
    correction = smtp_server.messages[-1]
    assert "CORRECTION" in parse(correction)["Subject"]
    assert _footers(correction)[0].endswith("“Press corps”")
    assert parse(correction)["List-Id"] == f"{ORG} – Press corps <media.iiim.example.org>"


def test_a_title_changed_during_a_send_is_in_the_next_batchs_copies(store, settings,
                                                                     smtp_server):
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["ana@example.org", "bo@example.org"]).title = TITLE
        dist, _ = dispatch.schedule(session, dispatch.plan(session, release.id, ["media"]),
                                    now=now_utc())
    sweep(store.Session, settings)
    run_batch(store.Session, settings, dist.id, worker="test", limit=1)
    with store.Session() as session, session.begin():
        rename_list(session, "media", None, title="Press corps")
    deliver_due(store.Session, settings)

    # The same release, list and kind: only the title tells the two copies apart.
    first, second = (_footers(r)[0] for r in smtp_server.messages)
    assert first.endswith(f"“{TITLE}”") and second.endswith("“Press corps”")


def test_a_test_copy_as_a_member_names_their_lists_title(store, settings, smtp_server):
    with store.Session() as session, session.begin():
        release = _lists(session)
    with store.Session() as session:
        viewer = viewer_for(session, "ana@example.org")
        release = session.get_one(Release, release.id)
        session.expunge(release)
    send_test_copy(settings, release, "officer@iiim.example.org", now_utc(), viewer)

    [received] = smtp_server.messages
    assert _footers(received)[0].endswith(f"“{TITLE}”")
    assert parse(received)["List-Id"] == f"{ORG} – {TITLE} <media.iiim.example.org>"


def test_titles_are_read_once_per_batch_not_per_recipient(store, settings, smtp_server):
    with store.Session() as session, session.begin():
        release = make_release(session)
        for n, name in enumerate(("media", "wire", "public")):
            make_list(session, name, addresses(name, 15), trusted=n < 2).title = name.title()
    reads: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if re.search(r"\bFROM lists\b", statement):
            reads.append(statement)

    with store.Session() as session, session.begin():
        plan = dispatch.plan(session, release.id, ["media", "wire", "public"])
        dispatch.schedule(session, plan, now=now_utc())
    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        deliver_due(store.Session, settings)
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)

    assert len(smtp_server.messages) == 45
    shown = {_footers(r)[0].rsplit("“", 1)[1] for r in smtp_server.messages}
    assert shown == {"Media”", "Wire”", "Public”"}
    assert len(reads) == 1  # one batch, one read of every list's name and title
