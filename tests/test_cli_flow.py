"""The main path through the command line: release -> lists -> send -> status."""

from __future__ import annotations

import email
import email.policy
import json
import time
from pathlib import Path

import pytest

from tests.fixtures.cli import Cli

SAMPLES = Path(__file__).parent / "data" / "releases"
DAMASCUS = SAMPLES / "01-iiim-head-concludes-damascus-visit.txt"


def _setup_lists(cli, tmp_path) -> None:
    media = tmp_path / "media.csv"
    media.write_text("email,name,outlet,timezone\n"
                     "ana@example.com,Ana Ribeiro,Daily Courier,Europe/Lisbon\n"
                     "james@example.net,James Kariuki,East Africa Wire,\n", encoding="utf-8")
    public = tmp_path / "public.csv"
    public.write_text("email,name\nreader@example.org,Reader\njames@example.net,James\n",
                      encoding="utf-8")
    assert cli("lists", "create", "media", "--trusted").exit_code == 0
    assert cli("lists", "create", "public").exit_code == 0
    assert cli("contacts", "import", str(media), "--list", "media").exit_code == 0
    assert cli("contacts", "import", str(public), "--list", "public").exit_code == 0


def _add(cli, path: Path, *flags: str) -> int:
    return cli.json("release", "add", str(path), *flags)["id"]


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.txt")), ids=lambda p: p.stem)
def test_every_sample_release_loads(cli, sample):
    release_id = _add(cli, sample)
    shown = cli.json("release", "show", str(release_id))
    assert shown["headline"] and shown["body"]
    assert shown["status"] == "draft"
    for key in ("id", "headline", "subheadline", "language", "dateline_place", "dateline_date",
                "embargo_until", "end_marker", "media_contacts", "boilerplate_heading",
                "boilerplate", "body", "status"):
        assert key in shown


def test_release_show_gives_the_fields_a_reader_names(cli):
    release_id = _add(cli, DAMASCUS, "--contact",
                      "IIIM Media <media@iiim.example.org> +41 22 917 00 00")
    shown = cli.json("release", "show", str(release_id))
    assert shown["headline"].startswith("IIIM Head Concludes his visit to Damascus")
    assert shown["dateline_place"] == "Damascus"
    assert shown["dateline_date"] == "2025-04-16"
    assert shown["end_marker"] == "-ENDS-"
    assert shown["boilerplate_heading"] == "About the IIIM"
    assert shown["media_contacts"] == [{"name": "IIIM Media", "email": "media@iiim.example.org",
                                        "phone": "+41 22 917 00 00"}]
    assert shown["embargo_until"] is None and shown["language"] == "en"


def test_obfuscated_contact_is_warned_about_not_invented(cli):
    result = cli("release", "add", str(DAMASCUS))
    assert result.exit_code == 0
    assert "obfuscated" in result.stderr
    release_id = int(result.stdout.split()[1])
    assert cli.json("release", "show", str(release_id))["media_contacts"] == []


def test_embargo_flag_is_stored_in_utc_with_its_zone(cli):
    release_id = _add(cli, DAMASCUS, "--embargo", "2099-04-16 09:00 Europe/Zurich")
    shown = cli.json("release", "show", str(release_id))
    assert shown["embargo_until"] == "2099-04-16T09:00:00+02:00"
    assert shown["embargo_zone"] == "Europe/Zurich"
    assert "07:00 UTC" in shown["embargo_display"]


def test_send_delivers_each_recipient_once_and_status_counts(cli, tmp_path):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    result = cli("send", str(release_id), "--list", "media", "--list", "public", "--yes",
                 "--json")
    assert result.exit_code == 0, result.output
    sent = json.loads(result.stdout)
    assert sent["recipients"] == 3 and sent["sent"] == 3
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    recipients = sorted(email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
                        ["To"].addresses[0].addr_spec for f in files)
    assert recipients == ["ana@example.com", "james@example.net", "reader@example.org"]
    status = cli.json("status")
    assert (status["total"], status["sent"], status["failed"], status["pending"],
            status["held"]) == (3, 3, 0, 0, 0)
    assert status["status"] == "done"
    assert cli.json("release", "show", str(release_id))["status"] == "sent"


def test_dry_run_shows_the_count_and_sends_nothing(cli, tmp_path):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    result = cli("send", str(release_id), "--list", "media", "--list", "public", "--dry-run")
    assert result.exit_code == 0
    assert "3 recipients" in result.stdout and "ana@example.com" in result.stdout
    assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").iterdir())
    assert cli("status").exit_code == 1   # no distribution was recorded


def test_confirmation_refused_sends_nothing(cli, tmp_path):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    result = cli("send", str(release_id), "--list", "media", input="n\n")
    assert result.exit_code == 1
    assert "nothing sent" in result.stderr
    assert not (tmp_path / "outbox").exists()


def test_test_copy_goes_to_one_address_only(cli, tmp_path):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    result = cli("send", str(release_id), "--test-to", "officer@iiim.example.org")
    assert result.exit_code == 0, result.output
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1 and "officer@iiim.example.org" in files[0].name
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["Subject"].startswith("TEST: IIIM Head Concludes")
    assert cli("status").exit_code == 1


def test_embargoed_send_holds_public_and_marks_trusted(cli, tmp_path):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS, "--embargo", "2099-04-16 09:00 Europe/Zurich")
    result = cli("send", str(release_id), "--list", "media", "--list", "public", "--yes")
    assert result.exit_code == 0, result.output
    status = cli.json("status")
    assert (status["sent"], status["held"]) == (2, 1)
    subjects, texts = {}, {}
    for path in (tmp_path / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        address = message["To"].addresses[0].addr_spec
        subjects[address] = str(message["Subject"])
        texts[address] = " ".join(message.get_body(("plain",)).get_content().split())
    # The subject's marking is short enough for a phone; the text carries the full line.
    assert subjects["james@example.net"].startswith("EMBARGOED 09:00 CEST 16 Apr: IIIM Head")
    assert texts["james@example.net"].startswith(
        "STRICTLY EMBARGOED UNTIL 09:00 CEST, 16 April 2099 (07:00 UTC)")
    # A journalist with a time zone also reads the lift in their own time.
    assert texts["ana@example.com"].startswith(
        "STRICTLY EMBARGOED UNTIL 09:00 CEST, 16 April 2099 (07:00 UTC; 08:00 WEST")
    assert cli.json("release", "show", str(release_id))["held_deliveries"] == 1


def test_smtp_refusing_connections_leaves_deliveries_pending(cli, tmp_path, smtp_server):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    smtp_server.stop()
    cli.env["PRESSROOM_SMTP_URL"] = smtp_server.url
    result = cli("send", str(release_id), "--list", "media", "--yes")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "unreachable" in result.stderr and "pressroom worker" in result.stderr
    assert cli.json("status")["pending"] == 2


@pytest.mark.parametrize(("args", "message"), [
    (["release", "add", "missing.txt"], "no such file"),
    (["release", "show", "999"], "no release with id 999"),
    (["send", "999", "--list", "media", "--yes"], "no release with id 999"),
    (["status", "42"], "no distribution with id 42"),
    (["status", "99999999999999999999"], "no such id"),
    (["release", "show", "99999999999999999999"], "no such id"),
    (["release", "approve", "99999999999999999999"], "no such id"),
    (["release", "detach", "1", "99999999999999999999"], "no such id"),
    (["release", "photos", "99999999999999999999", "--inline"], "no such id"),
    (["release", "add", str(DAMASCUS), "--version-of", "99999999999999999999"], "no such id"),
    (["report", "99999999999999999999"], "no such id"),
    (["log", "--release", "99999999999999999999"], "no such id"),
    (["release", "add", str(DAMASCUS), "--embargo", ""], "--embargo needs a time"),
    (["status", "²"], "whole number"),
    (["send", "1", "--list", "media", "--yes", "--at", ""], "cannot read ''"),
    (["release", "add", str(DAMASCUS), "--language", "english-please-thanks"],
     "not a language code"),
    (["release", "preview", "1", "--out", "/nonexistent/dir/x.eml"], "cannot write"),
    (["release", "add", str(DAMASCUS), "--embargo", "tomorrow-ish"], "cannot read"),
    (["release", "add", str(DAMASCUS), "--embargo", "2020-01-01 09:00 Europe/Zurich"],
     "in the past"),
    (["release", "add", str(DAMASCUS), "--embargo", "2099-03-29 02:30 Europe/Zurich"],
     "does not exist"),
    # What the user typed is quoted with its line breaks escaped, and a huge value cut.
    (["send", "1", "--test-to", "a@b.c\r\nBcc: x@y.z"], "'a@b.c\\r\\nBcc: x@y.z'"),
    (["send", "1", "--test-to", "x" * 5000 + "@b.c"], "…"),
])
def test_user_mistakes_get_one_line_errors(cli, args, message):
    _add(cli, DAMASCUS)
    result = cli(*args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_release_without_headline_or_not_utf8_is_refused(cli, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n   \n", encoding="utf-8")
    result = cli("release", "add", str(empty))
    assert result.exit_code == 1 and "no headline" in result.stderr
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Headline\n\nCaf\xe9 society\n".encode("latin-1"))
    result = cli("release", "add", str(latin))
    assert result.exit_code == 1 and "line 3" in result.stderr
    assert cli.json("release", "list") == []


def test_send_to_unknown_or_empty_list_is_refused(cli, tmp_path):
    release_id = _add(cli, DAMASCUS)
    result = cli("send", str(release_id), "--list", "nobody", "--yes")
    assert result.exit_code == 1 and "no list named 'nobody'" in result.stderr
    cli("lists", "create", "empty")
    result = cli("send", str(release_id), "--list", "empty", "--yes")
    assert result.exit_code == 1 and "no one to send to" in result.stderr


def test_preview_parts(cli, tmp_path):
    release_id = _add(cli, DAMASCUS)
    text = cli("release", "preview", str(release_id), "--text").stdout
    assert "-ENDS-" in text and "Damascus, April 16, 2025" in text
    html = cli("release", "preview", str(release_id), "--html").stdout
    assert "<html" in html.lower() and "style=" in html
    out = tmp_path / "preview.eml"
    assert cli("release", "preview", str(release_id), "--eml", "--out", str(out)).exit_code == 0
    message = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"


def test_scheduled_send_waits_for_the_worker(cli, tmp_path):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    result = cli("send", str(release_id), "--list", "media", "--at", "2099-01-01 09:00", "--yes")
    assert result.exit_code == 0, result.output
    assert "Europe/Zurich" in result.stderr    # the zone it assumed is said
    status = cli.json("status")
    assert status["status"] == "scheduled" and status["pending"] == 2
    assert status["send_at"].startswith("2099-01-01T08:00:00")


def test_config_prints_settings_with_secrets_masked(cli):
    cli.env["PRESSROOM_SMTP_URL"] = "smtp://relay:s3cret@mail.example.org:587"
    shown = cli.json("config")
    assert shown["secret_key"] == "********"
    assert shown["smtp_url"] == "smtp://relay:********@mail.example.org:587"
    assert "s3cret" not in cli("config").stdout


def test_a_trusted_list_cannot_be_open_to_public_sign_up(cli):
    result = cli("lists", "create", "insiders", "--trusted", "--open-signup")
    assert result.exit_code == 1
    assert "cannot be both trusted and open to public sign-up" in result.stderr
    assert cli.json("lists", "list") == []


def test_retry_refuses_a_withdrawn_release(cli, tmp_path, smtp_server):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    smtp_server.answer("ana@example.com", "550 5.1.1 No such user")
    cli.env["PRESSROOM_SMTP_URL"] = smtp_server.url
    assert cli("send", str(release_id), "--list", "media", "--yes").exit_code == 0
    assert cli.json("status")["failed"] == 1
    assert cli("release", "embargo", str(release_id), "--withdraw", "--yes").exit_code == 0
    received = len(smtp_server.messages)
    result = cli("retry", "1")
    assert result.exit_code == 1 and "withdrawn" in result.stderr
    assert len(smtp_server.messages) == received


@pytest.mark.parametrize(("env", "message"), [
    ({"PRESSROOM_FROM": "not an address"}, "setting 'from' must be"),
    ({"PRESSROOM_BATCH_SIZE": "0"}, "'batch_size' must be at least 1"),
    ({"PRESSROOM_DATABASE_URL": "foo://x"}, "cannot use database URL"),
    ({"PRESSROOM_SECRET_KEY": "change-me-please"}, "example value"),
    ({"PRESSROOM_SMTP_URL": "http://relay:pa/ss@mail.example.org"}, "smtp:// or smtps://"),
])
def test_unusable_settings_get_one_line_errors(cli, env, message):
    cli.env.update(env)
    result = cli("release", "list")
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "pa/ss" not in result.stderr


def _outbox(tmp_path) -> int:
    return len(list((tmp_path / "outbox").glob("*.eml")))


def test_sending_a_release_again_skips_who_has_it_and_again_sends_anyway(cli, tmp_path):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    assert cli("send", str(release_id), "--list", "media", "--yes").exit_code == 0
    assert _outbox(tmp_path) == 2
    # Sent twice by mistake: refused, nothing goes out, and the way to insist is named.
    twice = cli("send", str(release_id), "--list", "media", "--yes")
    assert twice.exit_code == 1
    assert "already has release" in twice.stderr and "--again" in twice.stderr
    assert "Traceback" not in twice.stderr
    # The list grew: only the newcomer gets it; the dry run and the question say so.
    dry = cli("send", str(release_id), "--list", "media", "--list", "public", "--dry-run")
    assert "would go to 1 recipients" in dry.stdout
    assert "skipping: 2 already received it" in dry.stdout
    asked = cli("send", str(release_id), "--list", "media", "--list", "public", input="y\n")
    assert asked.exit_code == 0, asked.stderr
    assert "to 1 recipients on media, public now (skipping: 2 already received it)?" in (
        asked.stderr)
    assert _outbox(tmp_path) == 3
    # --again, confirmed: everyone once more.
    again = cli("send", str(release_id), "--list", "media", "--again", input="y\n")
    assert again.exit_code == 0, again.stderr
    assert "AGAIN to 2 who already have it?" in again.stderr
    assert _outbox(tmp_path) == 5


def test_a_broken_site_template_or_outbox_is_refused_before_anything_is_recorded(cli, tmp_path):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    folder = tmp_path / "site-templates"
    folder.mkdir()
    (folder / "_footer.txt.j2").write_text("\n{{ unsubscribe_url | lower }}\n", "utf-8")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    for env, message in ((("PRESSROOM_TEMPLATES_DIR", str(folder)), "per-recipient link"),
                         (("PRESSROOM_OUTBOX", str(blocker / "outbox")), "outbox folder")):
        broken = Cli({**cli.env, env[0]: env[1]})
        result = broken("send", str(release_id), "--list", "media", "--yes")
        assert result.exit_code == 1 and message in result.stderr, result.output
        assert len(result.stderr.strip().splitlines()) == 1
    assert cli("status").exit_code == 1  # nothing was recorded
    logged = [e["action"] for e in cli.json("log", "--release", str(release_id))]
    assert "send.scheduled" not in logged


def test_continuing_an_unfinished_send_is_refused_alike_when_templates_are_broken(
        cli, tmp_path):
    """`send --yes` again finds everyone has the release and continues the distribution it
    started: a broken site template is refused in one line before, not found by a batch
    that pauses the distribution."""
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    later = cli.json("send", str(release_id), "--list", "media",
                     "--at", "2099-01-06 09:00 Europe/Zurich", "--yes", "--json")
    folder = tmp_path / "site-templates"
    folder.mkdir()
    (folder / "_footer.txt.j2").write_text("\n{{ unsubscribe_url | lower }}\n", "utf-8")
    broken = Cli({**cli.env, "PRESSROOM_TEMPLATES_DIR": str(folder)})
    result = broken("send", str(release_id), "--list", "media", "--yes")
    assert result.exit_code == 1 and "per-recipient link" in result.stderr, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    shown = cli.json("status", str(later["distribution_id"]), "--json")
    assert shown["status"] == "scheduled" and not shown["paused_reason"]


@pytest.mark.parametrize("template", ["{{ 1 / 0 }}", "{{ 1 + 'a' }}", "{{ [][3] }}",
                                      "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"])
def test_a_site_template_that_fails_as_it_renders_is_refused_in_one_line(cli, tmp_path,
                                                                         template):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    folder = tmp_path / "site-templates"
    folder.mkdir()
    (folder / "_footer.txt.j2").write_text(template + "\n", "utf-8")
    broken = Cli({**cli.env, "PRESSROOM_TEMPLATES_DIR": str(folder)})
    result = broken("send", str(release_id), "--list", "media", "--yes")
    assert result.exit_code == 1 and "cannot build the message" in result.stderr, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert cli("status").exit_code == 1  # nothing was recorded


def test_a_site_template_that_does_not_finish_is_refused_and_frees_the_database(
        cli, tmp_path, monkeypatch):
    """The check runs beside the INSERT, inside its transaction: a template that loops
    must not hold the database (SQLite's write lock) for as long as it loops."""
    from distribution.cli.sending import checking

    monkeypatch.setattr(checking, "RENDER_LIMIT", 1.0)
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    folder = tmp_path / "site-templates"
    folder.mkdir()
    # Some three seconds of looping, past the limit, and over by itself soon after.
    (folder / "_footer.txt.j2").write_text(
        "{% for i in range(8000000) %}{% if loop.last %}.{% endif %}{% endfor %}\n", "utf-8")
    broken = Cli({**cli.env, "PRESSROOM_TEMPLATES_DIR": str(folder)})
    started = time.monotonic()
    result = broken("send", str(release_id), "--list", "media", "--yes")
    assert result.exit_code == 1 and "took more than 1 s to render" in result.stderr, (
        result.output)
    assert len(result.stderr.strip().splitlines()) == 1
    assert time.monotonic() - started < 8
    assert cli("lists", "create", "probe").exit_code == 0  # the database is free
    assert cli("status").exit_code == 1  # nothing was recorded


def test_a_dry_run_with_yes_sends_nothing(cli, tmp_path):
    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    dry = cli("send", str(release_id), "--list", "media", "--dry-run", "--yes")
    assert dry.exit_code == 0, dry.output
    assert "Nothing was sent" in dry.stdout
    assert _outbox(tmp_path) == 0
    assert cli("status").exit_code == 1  # no distribution recorded


def test_the_demo_keeps_to_its_own_folder_and_never_uses_the_configured_relay(
        cli, tmp_path, smtp_server):
    cli.env["PRESSROOM_SMTP_URL"] = smtp_server.url
    result = cli("demo", "--home", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    assert smtp_server.messages == []
    assert len(list((tmp_path / "demo" / "outbox").glob("*.eml"))) == 6
    assert cli.json("release", "list") == []  # the office's newsroom holds no demo release
    assert cli.json("lists", "list") == []


def test_a_send_that_finds_recipients_claimed_by_a_stopped_process_says_so(
        cli, tmp_path, sqlite_store):
    """kill -9 left claims behind: running `send` again continues the distribution, sends
    the rest, and does not report success while some recipients still wait on the claim."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from distribution.store.models import Delivery, Distribution

    _setup_lists(cli, tmp_path)
    release_id = _add(cli, DAMASCUS)
    scheduled = cli.json("send", str(release_id), "--list", "media", "--list", "public",
                         "--at", "2099-01-06 09:00 Europe/Zurich", "--yes", "--json")
    now = datetime.now(UTC)
    with sqlite_store.Session.begin() as session:  # as a send killed mid-batch leaves it
        session.execute(update(Distribution).values(status="sending", send_at=now))
        claimed = session.execute(update(Delivery).where(Delivery.email == "ana@example.com")
                                  .values(status="sending", claimed_by="gone:1/dead",
                                          claimed_at=now, attempts=1)).rowcount
    assert claimed == 1
    again = cli("send", str(release_id), "--list", "media", "--list", "public", "--yes")
    assert again.exit_code == 1, again.output
    assert f"distribution {scheduled['distribution_id']}" in again.stderr
    assert "1 recipients are claimed by another process" in again.stderr
    assert "pressroom worker" in again.stderr and "Traceback" not in again.output
    assert _outbox(tmp_path) == 2  # the other two went out; Ana waits for her claim
