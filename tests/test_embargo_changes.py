"""Changing an embargo after copies went out: moved, lifted, withdrawn, corrected.

Each notice goes to exactly the recipients who had received the release: a trusted list got
it (marked) before the lift, a public list is held; the held public recipients never get a
notice, only the release itself at the lift, unmarked.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from distribution.cli import main
from distribution.embargo.corrections import correct_release, what_changed
from distribution.embargo.notices import change_embargo
from distribution.engine import dispatch
from distribution.engine.runner import deliver_due
from distribution.errors import InvalidInput
from distribution.locales.dates import embargo_short
from distribution.releases.parse import ParsedRelease
from distribution.store.models import (
    Delivery,
    Distribution,
    DistributionKind,
    DistributionStatus,
    Release,
    ReleaseStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
)
from distribution.times import WhenParsed, format_in_zone
from tests.fixtures.builders import make_list, make_release, now_utc
from tests.fixtures.environment import environment
from tests.fixtures.settings import make_settings
from tests.fixtures.smtpd import parse

TRUSTED = {"t0@example.org", "t1@example.org"}
PUBLIC = {"p0@example.org", "p1@example.org"}
ZONE = "Europe/Zurich"


@pytest.fixture
def settings(tmp_path, store, smtp_server):
    return make_settings(tmp_path, store.url, smtp_url=smtp_server.url)


@pytest.fixture
def sent(store, settings, smtp_server):
    """An embargoed release: trusted copies delivered (marked), public copies held."""
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=timedelta(hours=2))
        make_list(session, "media", sorted(TRUSTED), trusted=True)
        make_list(session, "public", sorted(PUBLIC))
        plan = dispatch.plan(session, release.id, ["media", "public"])
        dist, _ = dispatch.schedule(session, plan, now=now_utc())
    deliver_due(store.Session, settings)
    assert set(smtp_server.by_recipient()) == TRUSTED
    return release.id, dist.id


def _change(store, release_id, **change):
    with store.Session() as session, session.begin():
        return change_embargo(session, release_id, now=now_utc(), **change)


def _statuses(store, distribution_id):
    with store.Session() as session:
        rows = session.execute(select(Delivery.email, Delivery.status)
                               .where(Delivery.distribution_id == distribution_id))
        return {email: status.value for email, status in rows}


def _new_messages(server, before):
    """{recipient: parsed message} of what arrived after the first `before` messages."""
    return {r.rcpt_tos[0]: parse(r) for r in server.messages[before:]}


def _text(message):
    return message.get_body(("plain",)).get_content()


def _corrected(**fields):
    base = dict(headline="IIIM Head Concludes Visit to Damascus",
                dateline_text="Damascus, April 16, 2025",
                body="The meetings focused on cooperation.\n\n- Independent\n- Impartial",
                boilerplate_heading="About the IIIM",
                boilerplate="The IIIM is a United Nations organisation.")
    return ParsedRelease(**{**base, **fields})


# --- moved, lifted, withdrawn ---------------------------------------------------------------

def test_moving_the_embargo_notifies_only_those_who_received_it(store, settings, smtp_server,
                                                               sent):
    release_id, distribution_id = sent
    before = len(smtp_server.messages)
    new_time = now_utc() + timedelta(days=1)
    report = _change(store, release_id, until=WhenParsed(new_time, ZONE, False))
    assert (report.change, report.notified, report.held) == ("moved", 2, 2)
    deliver_due(store.Session, settings)
    notices = _new_messages(smtp_server, before)
    assert set(notices) == TRUSTED
    notice = notices["t0@example.org"]
    assert notice["Subject"].startswith(f"EMBARGO MOVED: {embargo_short(new_time, ZONE, 'en')}: ")
    lift = format_in_zone(new_time, ZONE)
    assert f"STRICTLY EMBARGOED UNTIL {lift}" in " ".join(_text(notice).split())
    assert "The embargo has moved to" in _text(notice)
    # The held public rows follow the new time: still held.
    assert {_statuses(store, distribution_id)[p] for p in PUBLIC} == {"held"}
    with store.Session() as session:
        assert session.get(Release, release_id).embargo_until == new_time
        notice_dist = session.get(Distribution, report.notice_id)
        assert notice_dist.kind == DistributionKind.NOTICE_MOVED
        assert notice_dist.parent_id == distribution_id


def test_lifting_tells_the_trusted_and_sends_the_held_public_their_copy(store, settings,
                                                                        smtp_server, sent):
    release_id, distribution_id = sent
    before = len(smtp_server.messages)
    report = _change(store, release_id, lift=True)
    assert report.released_from == (distribution_id,)
    deliver_due(store.Session, settings)
    arrived = _new_messages(smtp_server, before)
    assert set(arrived) == TRUSTED | PUBLIC
    assert all("EMBARGO LIFTED" in arrived[t]["Subject"] for t in TRUSTED)
    for address in PUBLIC:  # the release itself, unmarked: no notice for them
        assert arrived[address]["Subject"] == "IIIM Head Concludes Visit to Damascus"
        assert "EMBARGO" not in _text(arrived[address])
    assert len(smtp_server.messages) == before + 4
    assert set(_statuses(store, distribution_id).values()) == {"sent"}


def test_withdrawing_tells_the_trusted_not_to_publish_and_cancels_the_held(store, settings,
                                                                           smtp_server, sent):
    release_id, distribution_id = sent
    before = len(smtp_server.messages)
    report = _change(store, release_id, withdraw=True)
    assert report.cancelled_deliveries == 2
    assert report.cancelled_distributions == (distribution_id,)
    deliver_due(store.Session, settings)
    notices = _new_messages(smtp_server, before)
    assert set(notices) == TRUSTED
    assert "DO NOT PUBLISH" in notices["t1@example.org"]["Subject"]
    assert {_statuses(store, distribution_id)[p] for p in PUBLIC} == {"cancelled"}
    # Even once the old lift time has passed, the public get nothing.
    with store.Session() as session, session.begin():
        session.execute(update(Release).values(embargo_until=now_utc() - timedelta(seconds=1)))
    deliver_due(store.Session, settings)
    assert len(smtp_server.messages) == before + 2
    with store.Session() as session:
        release = session.get(Release, release_id)
        assert release.status == ReleaseStatus.WITHDRAWN and release.withdrawn_at is not None


def test_a_withdrawn_release_cannot_be_changed_again(store, sent):
    release_id, _ = sent
    _change(store, release_id, withdraw=True)
    for change in ({"withdraw": True}, {"lift": True},
                   {"until": WhenParsed(now_utc() + timedelta(days=1), ZONE, False)}):
        with pytest.raises(InvalidInput, match="withdrawn"):
            _change(store, release_id, **change)


def test_moving_the_embargo_into_the_past_is_refused(store, sent):
    release_id, _ = sent
    with pytest.raises(InvalidInput, match="in the past"):
        _change(store, release_id, until=WhenParsed(now_utc() - timedelta(minutes=1), ZONE,
                                                    False))


def test_exactly_one_change_at_a_time(store, sent):
    with pytest.raises(InvalidInput, match="exactly one"):
        _change(store, sent[0], lift=True, withdraw=True)


def test_an_embargo_cannot_be_put_back_once_the_release_is_out(store, settings, smtp_server):
    with store.Session() as session, session.begin():
        release = make_release(session)
        make_list(session, "public", sorted(PUBLIC))
        dispatch.schedule(session, dispatch.plan(session, release.id, ["public"]), now=now_utc())
    deliver_due(store.Session, settings)
    with pytest.raises(InvalidInput, match="no longer under embargo"):
        _change(store, release.id, until=WhenParsed(now_utc() + timedelta(hours=1), ZONE, False))


def test_a_draft_may_be_embargoed_without_any_notice(store):
    with store.Session() as session, session.begin():
        release = make_release(session)
    report = _change(store, release.id, until=WhenParsed(now_utc() + timedelta(hours=1), ZONE,
                                                         False))
    assert (report.notice_id, report.notified) == (None, 0)


def test_notices_skip_suppressed_addresses_but_reach_those_who_left_the_list(
        store, settings, smtp_server, sent):
    release_id, _ = sent
    with store.Session() as session, session.begin():
        session.execute(update(Subscription).values(status=SubscriptionStatus.UNSUBSCRIBED))
        session.add(Suppression(email="t1@example.org", reason="550 5.1.1 No such user"))
    before = len(smtp_server.messages)
    _change(store, release_id, withdraw=True)
    deliver_due(store.Session, settings)
    assert set(_new_messages(smtp_server, before)) == {"t0@example.org"}


def test_a_recipient_of_two_sends_gets_one_notice(store, settings, smtp_server, sent):
    release_id, _ = sent
    with store.Session() as session, session.begin():
        make_list(session, "desk", ["t0@example.org", "d0@example.org"], trusted=True)
        dispatch.schedule(session, dispatch.plan(session, release_id, ["desk"]), now=now_utc())
    deliver_due(store.Session, settings)
    before = len(smtp_server.messages)
    report = _change(store, release_id, until=WhenParsed(now_utc() + timedelta(days=1), ZONE,
                                                         False))
    deliver_due(store.Session, settings)
    assert report.notified == 3
    assert sorted(r.rcpt_tos[0] for r in smtp_server.messages[before:]) == sorted(
        TRUSTED | {"d0@example.org"})


def test_a_copy_on_its_way_counts_as_received(store, settings):
    # A batch has claimed the row and may be talking to the SMTP server right now.
    with store.Session() as session, session.begin():
        release = make_release(session, embargo_in=timedelta(hours=2))
        make_list(session, "media", ["t0@example.org"], trusted=True)
        dispatch.schedule(session, dispatch.plan(session, release.id, ["media"]), now=now_utc())
        session.execute(update(Delivery).values(status="sending"))
    assert _change(store, release.id, withdraw=True).notified == 1


def test_withdrawing_cancels_scheduled_and_paused_sends(store, sent):
    release_id, _ = sent
    later = now_utc() + timedelta(hours=1)
    with store.Session() as session, session.begin():
        plan = dispatch.plan(session, release_id, ["media"])
        scheduled, _ = dispatch.schedule(session, plan, now=now_utc(), send_at=later, again=True)
        paused, _ = dispatch.schedule(session, plan, now=now_utc(), send_at=later, again=True)
        paused.status = DistributionStatus.PAUSED
    report = _change(store, release_id, withdraw=True)
    assert {scheduled.id, paused.id} <= set(report.cancelled_distributions)
    assert set(_statuses(store, paused.id).values()) == {"cancelled"}


# --- corrections ----------------------------------------------------------------------------

def test_a_correction_goes_to_exactly_the_original_recipients(store, settings, smtp_server,
                                                              sent):
    release_id, distribution_id = sent
    before = len(smtp_server.messages)
    fixed = _corrected(headline="IIIM Head Concludes Visit to Damascus and Beirut",
                       body="The meetings focused on cooperation and access.\n\n"
                            "- Independent\n- Impartial")
    with store.Session() as session, session.begin():
        corrected, dist = correct_release(session, release_id, fixed, now=now_utc())
    assert dist.note == "Changed: headline; paragraph 1."
    deliver_due(store.Session, settings)
    arrived = _new_messages(smtp_server, before)
    assert set(arrived) == TRUSTED
    subject = arrived["t0@example.org"]["Subject"]
    assert subject.startswith("CORRECTION: EMBARGOED ")
    assert "and Beirut" in subject
    # The held public copies now carry the corrected text: at the lift they get it, unmarked.
    assert not PUBLIC & set(_statuses(store, distribution_id))
    before = len(smtp_server.messages)
    _change(store, release_id, lift=True)
    deliver_due(store.Session, settings)
    arrived = _new_messages(smtp_server, before)
    assert set(arrived) == TRUSTED | PUBLIC
    assert arrived["p0@example.org"]["Subject"] == fixed.headline
    # Its "View online" is the release's own address, not the correction's id.
    assert (f"View online: {settings.base_url}/releases/{release_id}\r\n"
            in _text(arrived["p0@example.org"]))
    with store.Session() as session:
        assert session.get(Release, corrected.id).corrects_id == release_id
        assert session.get(Distribution, distribution_id).status == DistributionStatus.DONE


def test_a_correction_of_an_unchanged_or_superseded_text_is_refused(store, sent):
    release_id, _ = sent
    with store.Session() as session, session.begin(), pytest.raises(InvalidInput, match="same"):
        correct_release(session, release_id, _corrected(), now=now_utc())
    with store.Session() as session, session.begin():
        correct_release(session, release_id, _corrected(headline="New"), now=now_utc())
    with store.Session() as session, session.begin(), pytest.raises(InvalidInput,
                                                                    match="already corrected"):
        correct_release(session, release_id, _corrected(headline="Newer"), now=now_utc())


def test_what_changed_names_fields_and_paragraphs():
    old = Release(headline="H", dateline_text="D", body="one\n\ntwo\n\nthree",
                  media_contacts=[{"name": "A", "email": "a@x.org", "phone": None}],
                  boilerplate="About", boilerplate_heading="About the IIIM")
    from distribution.releases.media_contacts import MediaContact

    new = ParsedRelease(headline="H", dateline_text="D", body="one\n\nTWO\n\nthree\n\nfour",
                        media_contacts=[MediaContact("B", "b@x.org", None)],
                        boilerplate="About")
    assert what_changed(old, new) == ["paragraph 2", "paragraph 4 added", "media contact"]
    shorter = ParsedRelease(headline="H2", dateline_text="D", body="one\n\nthree",
                            boilerplate="About us")
    assert what_changed(old, shorter) == ["headline", "paragraph 2 removed",
                                        "the “About the IIIM” section"]


# --- the command line -----------------------------------------------------------------------

@pytest.fixture
def run(store, smtp_server, tmp_path, monkeypatch):
    env = environment(tmp_path / "home", database_url=store.url, smtp_url=smtp_server.url,
                      timezone=ZONE)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def invoke(*args, input=None):  # noqa: A002 - click's name
        return CliRunner().invoke(main, [str(a) for a in args], input=input)

    return invoke


def test_cli_moves_the_embargo_and_delivers_the_notices(run, smtp_server, sent):
    release_id, _ = sent
    before = len(smtp_server.messages)
    result = run("release", "embargo", release_id, "--until", "2099-04-17 10:00", "--yes",
                 "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["change"], data["notified"]) == ("moved", 2)
    assert "10:00 CEST, 17 April 2099 (08:00 UTC)" in data["note"]
    assert "Reading --until in Europe/Zurich" in result.stderr
    assert set(_new_messages(smtp_server, before)) == TRUSTED


def test_cli_withdraw_asks_first_saying_who_is_told(run, smtp_server, sent):
    release_id, _ = sent
    before = len(smtp_server.messages)
    result = run("release", "embargo", release_id, "--withdraw", input="y\n")
    assert result.exit_code == 0, result.output
    assert "2 recipients who received it will be told not to publish" in result.stderr
    assert "2 deliveries not yet sent will be cancelled" in result.stderr
    assert "withdrawn" in result.stdout
    assert set(_new_messages(smtp_server, before)) == TRUSTED
    again = run("release", "embargo", release_id, "--lift", "--yes")
    assert again.exit_code == 1
    assert again.stderr.strip() == (f"Error: release {release_id} was withdrawn; "
                                    "it cannot be changed again")


def test_cli_refuses_a_past_time_and_two_changes(run, sent):
    release_id, _ = sent
    past = run("release", "embargo", release_id, "--until", "2020-01-01 09:00 Europe/Zurich",
               "--yes")
    assert past.exit_code == 1 and "in the past" in past.stderr
    assert len(past.stderr.strip().splitlines()) == 1
    both = run("release", "embargo", release_id, "--lift", "--withdraw", "--yes")
    assert both.exit_code == 2 and "exactly one" in both.stderr


def test_cli_correct_sends_a_correction_to_the_recipients(run, smtp_server, sent, tmp_path):
    release_id, _ = sent
    file = tmp_path / "corrected.txt"
    file.write_text("IIIM Head Concludes Visit to Damascus and Beirut\n\n"
                    "Damascus, April 16, 2025 – The meetings focused on cooperation.\n\n"
                    "-ENDS-\n", encoding="utf-8")
    before = len(smtp_server.messages)
    result = run("release", "correct", release_id, file, "--yes", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["corrects_id"] == release_id and data["recipients"] == 2
    assert data["note"].startswith("Changed: headline;")
    arrived = _new_messages(smtp_server, before)
    assert set(arrived) == TRUSTED
    assert all("CORRECTION" in m["Subject"] for m in arrived.values())


def test_release_show_and_status_say_when_it_lifts_and_why_a_send_waits(run, store, sent):
    release_id, distribution_id = sent
    shown = run("release", "show", release_id)
    assert shown.exit_code == 0, shown.output
    assert "held deliveries: 2" in shown.stdout
    assert " UTC" in shown.stdout and ("CEST" in shown.stdout or "CET" in shown.stdout)
    with store.Session() as session, session.begin():
        session.execute(update(Distribution).where(Distribution.id == distribution_id)
                        .values(status="paused", paused_reason="late: found after its time"))
    status = run("status", distribution_id)
    assert "paused (late: found after its time)" in status.stdout
    assert " UTC" in status.stdout and "held 2" in status.stdout


def test_cli_withdraw_and_correct_carry_the_offices_own_words(run, smtp_server, sent,
                                                               tmp_path):
    release_id, _ = sent
    file = tmp_path / "corrected.txt"
    file.write_text("IIIM Head Concludes Visit to Damascus and Beirut\n\n"
                    "Damascus, April 16, 2025 – The meetings focused on cooperation.\n\n"
                    "-ENDS-\n", encoding="utf-8")
    before = len(smtp_server.messages)
    corrected = run("release", "correct", release_id, file, "--yes", "--json",
                    "--note", "The visit also took in <Beirut>.")
    assert corrected.exit_code == 0, corrected.output
    assert json.loads(corrected.stdout)["note"].endswith("The visit also took in <Beirut>.")
    arrived = _new_messages(smtp_server, before)
    for message in arrived.values():
        assert "The visit also took in <Beirut>." in message.get_body(("plain",)).get_content()
        assert "&lt;Beirut&gt;" in message.get_body(("html",)).get_content()
    new_id = json.loads(corrected.stdout)["release_id"]
    before = len(smtp_server.messages)
    withdrawn = run("release", "embargo", new_id, "--withdraw", "--yes", "--json",
                    "--reason", "The figures were wrong.")
    assert withdrawn.exit_code == 0, withdrawn.output
    assert json.loads(withdrawn.stdout)["note"].endswith("The figures were wrong.")
    for message in _new_messages(smtp_server, before).values():
        assert "The figures were wrong." in message.get_body(("plain",)).get_content()
    misplaced = run("release", "embargo", new_id, "--lift", "--reason", "x", "--yes")
    assert misplaced.exit_code != 0 and "--withdraw" in misplaced.stderr
