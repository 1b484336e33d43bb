"""Forgotten and suppressed people are never mailed, by whatever path a message would take:
a send, a held copy at the lift, a notice, a correction, a test copy, an import."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from distribution.audience.forget import REASON, forget, forgotten_key
from distribution.audience.membership import unsubscribe_all
from distribution.embargo.notices import change_embargo
from distribution.engine import dispatch
from distribution.engine.runner import deliver_due
from distribution.store.models import Contact, Delivery, DeliveryStatus, Suppression
from tests.fixtures.builders import make_list, make_release, now_utc
from tests.fixtures.cli import Cli
from tests.fixtures.settings import make_settings
from tests.fixtures.smtpd import parse

DAMASCUS = Path(__file__).parent / "data" / "releases" / "01-iiim-head-concludes-damascus-visit.txt"


def _outbox(tmp_path) -> list[bytes]:
    folder = tmp_path / "outbox"
    return sorted(f.read_bytes() for f in folder.glob("*.eml")) if folder.exists() else []


def _recipients(tmp_path) -> list[str]:
    found = []
    for data in _outbox(tmp_path):
        head = data.split(b"\r\n\r\n", 1)[0].decode("ascii").replace("\r\n ", " ")
        [to] = [line for line in head.split("\r\n") if line.startswith("To: ")]
        found.append(to.rsplit(" ", 1)[-1].strip("<>"))
    return sorted(found)


def test_forget_then_reimport_in_another_case_then_send_reaches_nobody_of_them(
        cli: Cli, tmp_path, sqlite_store):
    people = tmp_path / "people.csv"
    people.write_text("email,name\nana@example.com,Ana Ribeiro\nsam@example.net,Sam\n")
    assert cli("lists", "create", "media", "--trusted").exit_code == 0
    assert cli("contacts", "import", str(people), "--list", "media").exit_code == 0
    first = cli.json("release", "add", str(DAMASCUS))["id"]
    assert cli("send", str(first), "--list", "media", "--yes").exit_code == 0
    assert _recipients(tmp_path) == ["ana@example.com", "sam@example.net"]

    assert cli("contacts", "forget", "ana@example.com", "--yes").exit_code == 0
    people.write_text("email,name\nANA@Example.COM,Ana Ribeiro\nsam@example.net,Sam\n")
    again = cli("contacts", "import", str(people), "--list", "media")
    assert again.exit_code == 0, again.output
    assert "1 skipped: they asked to be forgotten" in again.stdout
    without_list = cli("contacts", "import", str(people), "--json")
    assert json.loads(without_list.stdout)["forgotten"] == 1

    second = cli.json("release", "add", str(DAMASCUS))["id"]
    assert cli("send", str(second), "--list", "media", "--yes").exit_code == 0
    corrected = tmp_path / "corrected.txt"
    corrected.write_text(DAMASCUS.read_text().replace("Damascus", "Damascus and Beirut", 1))
    assert cli("release", "correct", str(first), str(corrected), "--yes").exit_code == 0
    refused = cli("send", str(second), "--test-to", "Ana@Example.com")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == ("Error: --test-to: Ana@Example.com asked to be "
                                      "forgotten; nothing is sent to it")

    # The first release to both, then the second release and the correction to Sam alone.
    assert _recipients(tmp_path) == ["ana@example.com", "sam@example.net",
                                     "sam@example.net", "sam@example.net"]
    log = json.dumps(cli.json("log"))
    assert "ana@" not in log.lower()


def test_an_import_says_who_it_keeps_but_will_never_mail(cli: Cli, tmp_path, sqlite_store):
    people = tmp_path / "people.csv"
    people.write_text("email\nana@example.com\nsam@example.net\n")
    assert cli("lists", "create", "media").exit_code == 0
    assert cli("contacts", "import", str(people), "--list", "media").exit_code == 0
    with sqlite_store.Session.begin() as session:
        ana = session.scalar(select(Contact).where(Contact.email == "ana@example.com"))
        unsubscribe_all(session, ana.id, now_utc())
    report = cli("contacts", "import", str(people))
    assert report.exit_code == 0
    assert ("1 never mailed: they unsubscribed from everything or their address bounced"
            in report.stdout)


@pytest.fixture
def settings(tmp_path, store, smtp_server):
    return make_settings(tmp_path, store.url, smtp_url=smtp_server.url)


@pytest.fixture
def held(store, settings, smtp_server):
    """An embargoed release: the trusted copy sent, two public copies held for the lift."""
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=timedelta(hours=2))
        make_list(session, "media", ["t0@example.org"], trusted=True)
        make_list(session, "public", ["p0@example.org", "p1@example.org"])
        plan = dispatch.plan(session, release.id, ["media", "public"])
        dist, _ = dispatch.schedule(session, plan, now=now_utc())
    deliver_due(store.Session, settings)
    assert list(smtp_server.by_recipient()) == ["t0@example.org"]
    return release.id, dist.id


def _lift(store, settings, release_id: int) -> None:
    with store.Session() as session, session.begin():
        change_embargo(session, release_id, lift=True, now=now_utc())
    deliver_due(store.Session, settings)


def _rows(store, distribution_id: int) -> dict[str, tuple[DeliveryStatus, str | None]]:
    with store.Session() as session:
        return {r.email: (r.status, r.last_error) for r in session.scalars(
            select(Delivery).where(Delivery.distribution_id == distribution_id))}


def test_a_copy_held_for_the_lift_never_reaches_someone_forgotten_meanwhile(
        store, settings, smtp_server, held):
    release_id, dist_id = held
    with store.Session() as session, session.begin():
        forget(session, "P0@example.org")
    _lift(store, settings, release_id)

    assert sorted(smtp_server.by_recipient()) == ["p1@example.org", "t0@example.org"]
    rows = _rows(store, dist_id)
    assert rows[forgotten_key("p0@example.org")] == (DeliveryStatus.CANCELLED, REASON)
    assert "p0@example.org" not in rows


def test_a_copy_held_for_the_lift_never_reaches_someone_who_left_everything_meanwhile(
        store, settings, smtp_server, held):
    release_id, dist_id = held
    with store.Session() as session, session.begin():
        p0 = session.scalar(select(Contact).where(Contact.email == "p0@example.org"))
        unsubscribe_all(session, p0.id, now_utc())
    _lift(store, settings, release_id)

    assert sorted(smtp_server.by_recipient()) == ["p1@example.org", "t0@example.org"]
    assert _rows(store, dist_id)["p0@example.org"] == (
        DeliveryStatus.CANCELLED, "suppressed: unsubscribed from all via web")
    # The lifted notice goes to whoever holds the marked copy, and to no one else.
    assert parse(smtp_server.by_recipient()["t0@example.org"][-1])["Subject"].startswith(
        "EMBARGO LIFTED")


def test_a_forgotten_person_whose_rows_raced_the_erasure_is_skipped_and_erased_again(
        store, settings, smtp_server):
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "media", ["Ana@Example.com", "sam@example.net"])
        plan = dispatch.plan(session, release.id, ["media"])
        dist, _ = dispatch.schedule(session, plan, now=now_utc())
        # The erasure committed by another process while these rows were being made: it
        # could not see them, so they still carry the address.
        session.add(Suppression(email=forgotten_key("ana@example.com"), reason=REASON))
    deliver_due(store.Session, settings)

    assert list(smtp_server.by_recipient()) == ["sam@example.net"]
    rows = _rows(store, dist.id)
    assert rows[forgotten_key("ana@example.com")] == (DeliveryStatus.CANCELLED,
                                                      f"suppressed: {REASON}")
    with store.Session() as session:
        assert session.scalars(select(Contact.email)).all() == ["sam@example.net"]
