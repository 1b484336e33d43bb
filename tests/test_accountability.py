"""Operators, four-eyes approval and the audit log, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from distribution.engine.sweep import sweep
from tests.fixtures.cli import Cli
from tests.fixtures.settings import make_settings

DAMASCUS = Path(__file__).parent / "data" / "releases" / "01-iiim-head-concludes-damascus-visit.txt"


@pytest.fixture
def office(cli, store) -> Cli:
    """The CLI on both databases, with a media list of two and three operators."""
    cli.env["PRESSROOM_DATABASE_URL"] = store.url
    return cli


def _media(cli: Cli, tmp_path, *, as_: str | None = None) -> None:
    csv = tmp_path / "media.csv"
    csv.write_text("email,name\nana@example.com,Ana\njames@example.net,James\n", "utf-8")
    who = ("--as", as_) if as_ else ()
    assert cli(*who, "lists", "create", "media", "--trusted").exit_code == 0
    assert cli(*who, "contacts", "import", str(csv), "--list", "media").exit_code == 0


def _team(cli: Cli) -> None:
    # The first, added before anyone can vouch: an admin, whatever was asked.
    assert cli("--as", "chief", "operators", "add", "chief", "--role", "editor").exit_code == 0
    for name, role in (("ed", "editor"), ("appy", "approver"), ("bea", "approver")):
        result = cli("--as", "chief", "operators", "add", name, "--role", role)
        assert result.exit_code == 0, result.output


def _log(cli: Cli, *args: str) -> list[dict]:
    result = cli("log", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _actions(cli: Cli, *args: str) -> list[tuple[str, str]]:
    return [(e["actor"], e["action"]) for e in _log(cli, *args)]


def _add(cli: Cli, as_: str, *flags: str) -> int:
    result = cli("--as", as_, "release", "add", str(DAMASCUS), "--json", *flags)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["id"]


def test_without_operators_everything_runs_as_before_and_is_logged(office, tmp_path):
    _media(office, tmp_path)
    release_id = _add(office, "someone")
    assert office("send", str(release_id), "--list", "media", "--yes").exit_code == 0
    entries = _log(office)
    assert [e["action"] for e in entries] == ["list.create", "contacts.import", "release.add",
                                               "send.scheduled", "send.started",
                                               "send.finished"]
    assert {e["actor_kind"] for e in entries[:4]} == {"implicit"}
    assert entries[2]["actor"] == "someone" and " pid " in entries[2]["origin"]
    assert entries[1]["summary"] == "media.csv: 2 new, 0 updated, 0 rejected, subscribed 2 to media"
    assert entries[4]["actor_kind"] == "system" and entries[4]["release_id"] == release_id


def test_the_first_operator_is_an_admin_and_then_changes_need_a_known_operator(office):
    result = office("--as", "chief", "operators", "add", "chief", "--role", "editor")
    assert result.exit_code == 0 and "added as admin" in result.stdout
    nobody = office("release", "add", str(DAMASCUS))
    assert nobody.exit_code == 1
    assert nobody.stderr.strip() == ("Error: name the acting operator with --as NAME or "
                                     "PRESSROOM_OPERATOR")
    stranger = office("--as", "zed", "lists", "create", "media")
    assert stranger.stderr.strip() == "Error: unknown operator 'zed'"
    office.env["PRESSROOM_OPERATOR"] = "zed"
    assert office("contacts", "import", str(DAMASCUS)).exit_code == 1
    assert office("release", "list", "--json").stdout.strip() == "[]"   # reading needs no one
    assert office("lists", "list", "--json").stdout.strip() == "[]"
    assert [(e["actor"], e["action"], e["actor_kind"]) for e in _log(office)] == [
        ("chief", "operator.add", "implicit"),
        ("(none)", "release.add.refused", "unknown"),
        ("zed", "list.create.refused", "unknown"),
        ("zed", "contacts.import.refused", "unknown")]


def test_roles_limit_who_manages_operators_lists_and_approvals(office):
    _team(office)
    refused = office("--as", "ed", "operators", "add", "mallory", "--role", "admin")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == ("Error: operator 'ed' is an editor; operator.add needs "
                                      "the admin role")
    assert office("--as", "appy", "lists", "create", "media").exit_code == 1
    release_id = _add(office, "chief")
    assert "needs the approver role" in office("--as", "ed", "release", "approve",
                                               str(release_id)).stderr
    assert [e["name"] for e in json.loads(office("operators", "list", "--json").stdout)] == [
        "appy", "bea", "chief", "ed"]
    assert _actions(office)[-4:] == [("ed", "operator.add.refused"),
                                     ("appy", "list.create.refused"),
                                     ("chief", "release.add"),
                                     ("ed", "release.approve.refused")]


def test_bad_operator_input_is_one_line_and_writes_nothing(office):
    _team(office)
    before = _log(office)
    typo = office("--as", "chief", "operators", "set-role", "ed", "boss")
    assert typo.exit_code == 2 and "'boss' is not one of" in typo.stderr
    missing = office("--as", "chief", "operators", "remove", "nobody")
    assert missing.stderr.strip() == "Error: no operator named 'nobody'"
    last = office("--as", "chief", "operators", "remove", "chief")
    assert last.stderr.strip() == ("Error: 'chief' is the last admin; make another operator an "
                                   "admin first")
    demote = office("--as", "chief", "operators", "set-role", "chief", "editor")
    assert demote.exit_code == 1 and "last admin" in demote.stderr
    bad_name = office("--as", "chief", "operators", "add", "two words")
    assert bad_name.exit_code == 1 and len(bad_name.stderr.strip().splitlines()) == 1
    assert _log(office) == before
    assert office("--as", "chief", "operators", "set-role", "bea", "admin").exit_code == 0
    assert office("--as", "bea", "operators", "remove", "chief").exit_code == 0
    assert _actions(office)[-2:] == [("chief", "operator.set-role"), ("bea", "operator.remove")]


def test_a_release_is_approved_by_someone_else_and_any_change_voids_it(office, tmp_path):
    _team(office)
    _media(office, tmp_path, as_="chief")
    office.env["PRESSROOM_REQUIRE_APPROVAL"] = "true"
    release_id = _add(office, "appy", "--embargo", "2099-04-16 09:00 Europe/Zurich")
    send = ("--as", "ed", "send", str(release_id), "--list", "media", "--yes")
    unapproved = office(*send)
    assert unapproved.exit_code == 1
    assert unapproved.stderr.strip() == (
        f"Error: release {release_id} is not approved; an approver must run "
        f"`pressroom release approve {release_id}`")
    own = office("--as", "appy", "release", "approve", str(release_id))
    assert own.stderr.strip() == (f"Error: 'appy' added or last changed release {release_id}; "
                                  "another approver must approve it")
    assert office("--as", "bea", "release", "approve", str(release_id)).exit_code == 0
    shown = office("release", "show", str(release_id))
    assert "approval: revision 1 approved by bea at " in shown.stdout
    moved = office("--as", "ed", "release", "embargo", str(release_id), "--until",
                   "2099-04-17 09:00 Europe/Zurich", "--yes")
    assert moved.exit_code == 0, moved.output
    approval = json.loads(office("release", "show", str(release_id), "--json").stdout)["approval"]
    assert approval == {"revision": 2, "changed_by": "ed", "approved": False,
                        "approved_revision": 1, "approved_by": "bea",
                        "approved_at": approval["approved_at"]}
    assert "changed after its approval (revision 1 approved, now 2)" in office(*send).stderr
    assert office("--as", "appy", "release", "approve", str(release_id)).exit_code == 0
    assert office(*send).exit_code == 0
    assert _actions(office, "--release", str(release_id)) == [
        ("appy", "release.add"), ("ed", "send.refused"), ("appy", "release.approve.refused"),
        ("bea", "release.approve"), ("ed", "release.embargo"), ("ed", "send.refused"),
        ("appy", "release.approve"), ("ed", "send.scheduled"), ("pressroom", "send.started"),
        ("pressroom", "send.finished")]
    assert "approval of revision 1 voided" in _log(office, "--release", str(release_id))[4][
        "summary"]


def test_approving_a_missing_or_sent_release_is_refused_and_writes_nothing(office, tmp_path):
    _team(office)
    _media(office, tmp_path, as_="chief")
    release_id = _add(office, "ed")
    assert office("--as", "ed", "send", str(release_id), "--list", "media", "--yes"
                  ).exit_code == 0
    before = _log(office)
    missing = office("--as", "appy", "release", "approve", "999")
    assert missing.stderr.strip() == "Error: no release with id 999"
    sent = office("--as", "appy", "release", "approve", str(release_id))
    assert sent.stderr.strip() == (f"Error: release {release_id} was already sent; there is "
                                   "nothing to approve")
    assert _log(office) == before


def test_a_scheduled_send_whose_release_changed_waits_for_a_new_approval(office, store,
                                                                        tmp_path):
    _team(office)
    _media(office, tmp_path, as_="chief")
    office.env["PRESSROOM_REQUIRE_APPROVAL"] = "1"
    release_id = _add(office, "ed", "--embargo", "2099-04-16 09:00 Europe/Zurich")
    assert office("--as", "appy", "release", "approve", str(release_id)).exit_code == 0
    assert office("--as", "ed", "send", str(release_id), "--list", "media", "--at",
                  "2099-01-01 09:00 Europe/Zurich", "--yes").exit_code == 0
    assert office("--as", "ed", "release", "embargo", str(release_id), "--until",
                  "2099-04-18 09:00 Europe/Zurich", "--yes").exit_code == 0
    with store.engine.begin() as conn:  # its time has come
        conn.execute(text("UPDATE distributions SET send_at = send_at - interval '100 years'"
                          if store.dialect == "postgresql" else
                          "UPDATE distributions SET send_at = '2020-01-01 00:00:00'"))
    settings = make_settings(tmp_path, store.url, require_approval="true")
    report = sweep(store.Session, settings)
    assert report.started == [] and len(report.held_for_approval) == 1
    status = json.loads(office("status", "--json").stdout)
    assert status["status"] == "paused" and "awaiting approval" in status["paused_reason"]
    assert office("--as", "ed", "resume", str(status["id"])).exit_code == 1
    approved = office("--as", "bea", "release", "approve", str(release_id))
    assert "goes on" in approved.stdout   # and, without workers, is delivered at once
    assert json.loads(office("status", "--json").stdout)["sent"] == 2
    assert _actions(office, "--release", str(release_id))[-6:] == [
        ("ed", "release.embargo"), ("pressroom", "send.refused"), ("ed", "send.refused"),
        ("bea", "release.approve"), ("bea", "send.resumed"), ("pressroom", "send.finished")]


def test_a_withdrawal_never_waits_for_approval(office, tmp_path):
    _team(office)
    _media(office, tmp_path, as_="chief")
    office.env["PRESSROOM_REQUIRE_APPROVAL"] = "yes"
    release_id = _add(office, "ed", "--embargo", "2099-04-16 09:00 Europe/Zurich")
    assert office("--as", "appy", "release", "approve", str(release_id)).exit_code == 0
    assert office("--as", "ed", "send", str(release_id), "--list", "media", "--yes"
                  ).exit_code == 0
    withdrawn = office("--as", "ed", "release", "embargo", str(release_id), "--withdraw",
                       "--yes", "--json")
    assert withdrawn.exit_code == 0, withdrawn.output
    assert json.loads(withdrawn.stdout)["notified"] == 2
    notice = _log(office, "--release", str(release_id))[-3:]
    assert [e["action"] for e in notice] == ["release.embargo", "send.started", "send.finished"]


def test_a_restricted_list_takes_sends_only_from_the_operators_it_names(office, tmp_path):
    _team(office)
    _media(office, tmp_path, as_="chief")
    assert office("--as", "ed", "lists", "restrict", "media", "bea").exit_code == 1  # admins only
    restricted = office("--as", "chief", "lists", "restrict", "media", "bea")
    assert restricted.stdout.strip() == "List 'media': bea may send to it."
    release_id = _add(office, "ed")
    refused = office("--as", "ed", "send", str(release_id), "--list", "media", "--yes")
    assert refused.stderr.strip() == ("Error: operator 'ed' may not send to list 'media' "
                                      "(only bea)")
    assert office("--as", "bea", "send", str(release_id), "--list", "media", "--yes"
                  ).exit_code == 0
    assert [o["may_send_to"] for o in json.loads(office("operators", "list", "--json").stdout)
            if o["name"] == "bea"] == [["media"]]
    assert _actions(office, "--release", str(release_id))[1:3] == [
        ("ed", "send.refused"), ("bea", "send.scheduled")]


def test_log_filters_by_operator_and_time(office):
    _team(office)
    assert _actions(office, "--operator", "chief") == [("chief", "operator.add")] * 4
    assert len(_log(office, "--since", "2000-01-01 00:00 UTC")) == 4
    assert _log(office, "--since", "2099-01-01 00:00 UTC") == []
    table = office("log")
    assert table.exit_code == 0 and "operator.add" in table.stdout and " pid " in table.stdout


def test_the_log_refuses_updates_and_deletes(office, store):
    _team(office)
    for statement in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(statement))
    assert len(_log(office)) == 4


def test_a_change_whose_entry_cannot_be_written_does_not_happen(office, store, tmp_path):
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
                              "BEGIN RAISE EXCEPTION 'no entries today'; END $$"))
            conn.execute(text("CREATE TRIGGER no_entries BEFORE INSERT ON audit_log "
                              "FOR EACH ROW EXECUTE FUNCTION refuse()"))
        else:
            conn.execute(text("CREATE TRIGGER no_entries BEFORE INSERT ON audit_log "
                              "BEGIN SELECT RAISE(ABORT, 'no entries today'); END"))
    try:
        for command in (("lists", "create", "media"), ("release", "add", str(DAMASCUS))):
            with pytest.raises(DBAPIError, match="no entries today"):
                office(*command)
        assert office("lists", "list", "--json").stdout.strip() == "[]"
        assert office("release", "list", "--json").stdout.strip() == "[]"
    finally:
        with store.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER no_entries" + (
                " ON audit_log" if store.dialect == "postgresql" else "")))
            if store.dialect == "postgresql":
                conn.execute(text("DROP FUNCTION refuse()"))


def test_an_entry_whose_change_fails_at_commit_is_not_kept(cli, pg_store):
    office = cli
    office.env["PRESSROOM_DATABASE_URL"] = pg_store.url
    with pg_store.engine.begin() as conn:  # the change fails when the transaction commits
        conn.execute(text("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
                          "BEGIN RAISE EXCEPTION 'lists closed'; END $$"))
        conn.execute(text("CREATE CONSTRAINT TRIGGER late_refusal AFTER INSERT ON lists "
                          "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                          "EXECUTE FUNCTION refuse()"))
    try:
        with pytest.raises(DBAPIError, match="lists closed"):
            office("lists", "create", "media")
        assert _log(office) == []
    finally:
        with pg_store.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER late_refusal ON lists"))
            conn.execute(text("DROP FUNCTION refuse()"))


def test_the_demo_touches_neither_the_offices_operators_nor_its_log(cli):
    """The demo runs on a database of its own: the office's log gains no entry from it."""
    assert cli("--as", "chief", "operators", "add", "chief").exit_code == 0
    assert cli("--as", "chief", "operators", "add", "ed").exit_code == 0
    before = _actions(cli)
    assert cli("--as", "ed", "demo").exit_code == 0
    assert _actions(cli) == before


def test_a_bad_since_or_a_name_with_a_line_break_is_one_line(cli):
    since = cli("log", "--since", "yesterday-ish")
    assert since.exit_code == 1 and len(since.stderr.strip().splitlines()) == 1
    assert cli("--as", "chief", "operators", "add", "chief").exit_code == 0
    sneaky = cli("--as", "chief\nFAKE ENTRY", "lists", "create", "media")
    assert sneaky.exit_code == 1 and len(sneaky.stderr.strip().splitlines()) == 1
    assert _log(cli)[-1]["actor"] == "'chief\\nFAKE ENTRY'"


def test_a_correction_waits_for_its_own_approval_then_goes_to_who_had_the_release(
        office, tmp_path):
    _team(office)
    _media(office, tmp_path, as_="chief")
    office.env["PRESSROOM_REQUIRE_APPROVAL"] = "true"
    release_id = _add(office, "ed")
    assert office("--as", "appy", "release", "approve", str(release_id)).exit_code == 0
    assert office("--as", "ed", "send", str(release_id), "--list", "media", "--yes"
                  ).exit_code == 0
    corrected = tmp_path / "corrected.txt"
    corrected.write_text(DAMASCUS.read_text("utf-8").replace("Damascus", "Aleppo", 1), "utf-8")
    result = office("--as", "ed", "release", "correct", str(release_id), str(corrected),
                    "--yes", "--json")
    assert result.exit_code == 0, result.output
    new_id = json.loads(result.stdout)["release_id"]
    assert json.loads(result.stdout)["awaiting_approval"] is True
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2   # the originals only
    assert office("--as", "ed", "release", "approve", str(new_id)).exit_code == 1
    approved = office("--as", "bea", "release", "approve", str(new_id))
    assert approved.exit_code == 0, approved.output
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 4   # and the corrections
    assert [a for _, a in _actions(office, "--release", str(new_id))] == [
        "release.add", "release.approve.refused", "release.approve", "send.started",
        "send.finished"]
    assert ("ed", "release.correct") in _actions(office, "--release", str(release_id))


def test_a_new_photo_or_a_photo_removed_voids_the_approval(office, tmp_path):
    from tests.fixtures import media

    _team(office)
    release_id = _add(office, "ed")
    assert office("--as", "appy", "release", "approve", str(release_id)).exit_code == 0
    photo = tmp_path / "visit.jpg"
    photo.write_bytes(media.jpeg(640, 480))
    attached = office("--as", "ed", "release", "attach", str(release_id), str(photo), "--json")
    assert attached.exit_code == 0, attached.output
    media_id = json.loads(attached.stdout)["id"]
    shown = json.loads(office("release", "show", str(release_id), "--json").stdout)
    assert (shown["approval"]["approved"], shown["approval"]["revision"]) == (False, 2)
    assert office("--as", "bea", "release", "approve", str(release_id)).exit_code == 0
    assert office("--as", "ed", "release", "detach", str(release_id), str(media_id)
                  ).exit_code == 0
    assert office("--as", "bea", "release", "approve", str(release_id)).exit_code == 0
    assert [a for _, a in _actions(office, "--release", str(release_id))] == [
        "release.add", "release.approve", "release.attach", "release.approve",
        "release.detach", "release.approve"]


def test_a_new_language_version_voids_the_originals_approval(office):
    arabic = Path(__file__).parent / "data" / "versions" / "damascus-ar.txt"
    _team(office)
    release_id = _add(office, "ed")
    assert office("--as", "appy", "release", "approve", str(release_id)).exit_code == 0
    added = office("--as", "ed", "release", "add", str(arabic), "--version-of", str(release_id))
    assert added.exit_code == 0, added.output
    shown = json.loads(office("release", "show", str(release_id), "--json").stdout)
    assert (shown["approval"]["approved"], shown["approval"]["revision"]) == (False, 2)
    assert [a for _, a in _actions(office, "--release", str(release_id))][-1] == "release.version"


def test_require_approval_must_be_true_or_false(cli):
    cli.env["PRESSROOM_REQUIRE_APPROVAL"] = "maybe"
    result = cli("release", "list")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: setting 'require_approval' must be true or "
                                     "false, not 'maybe'")
