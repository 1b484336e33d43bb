"""`pressroom lists ...` and `pressroom contacts ...` as a user runs them."""

from __future__ import annotations

import io
import json
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from distribution.cli import main
from distribution.cli.audience import contacts as cli_contacts
from distribution.store.models import Contact
from tests.fixtures.environment import environment


@pytest.fixture
def run(sqlite_store, tmp_path):
    env = environment(tmp_path / "home", database_url=sqlite_store.url)

    def invoke(*args: object, input: str | None = None):
        return CliRunner().invoke(main, [str(a) for a in args], obj=None, env=env, input=input)

    return invoke


@pytest.fixture
def csv_file(tmp_path):
    def write(text: str, name: str = "contacts.csv"):
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8"))
        return path

    return write


def emails(store) -> list[str]:
    with store.Session() as s:
        return list(s.scalars(select(Contact.email).order_by(Contact.email)))


def test_lists_are_created_listed_and_shown(run):
    assert run("lists", "create", "media", "--trusted", "--description", "Media").output == (
        "Created trusted list 'media'.\n")
    assert run("lists", "create", "public", "--open-signup").exit_code == 0
    listed = run("lists", "list")
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == ["name    trusted  members",
                                          "media   yes      0",
                                          "public  no       0"]
    assert json.loads(run("lists", "list", "--json").stdout) == [
        {"name": "media", "trusted": True, "members": 0},
        {"name": "public", "trusted": False, "members": 0},
    ]
    shown = json.loads(run("lists", "show", "public", "--json").stdout)
    assert {k: shown[k] for k in ("name", "trusted", "open_signup", "description", "members")} == {
        "name": "public", "trusted": False, "open_signup": True, "description": None,
        "members": 0}
    assert set(shown) == {"id", "name", "title", "trusted", "open_signup", "description", "members",
                          "created_at"}
    assert "members:     0" in run("lists", "show", "media").stdout


@pytest.mark.parametrize(("args", "message"), [
    (("lists", "create", "swiss media"), "Error: invalid list name 'swiss media': use 1-100 "
                                         "letters, digits, '-', '_' or '.', without spaces\n"),
    (("lists", "show", "nope"), "Error: no list named 'nope'\n"),
])
def test_list_mistakes_are_one_line_errors(run, args, message):
    result = run(*args)
    assert (result.exit_code, result.stderr, result.stdout) == (1, message, "")


def test_a_second_list_with_the_same_name_is_a_one_line_error(run):
    run("lists", "create", "media")
    result = run("lists", "create", "media")
    assert (result.exit_code, result.stderr) == (1, "Error: list 'media' already exists\n")


def test_import_prints_a_summary_and_exits_0_when_every_row_is_good(run, csv_file, sqlite_store):
    run("lists", "create", "media", "--trusted")
    path = csv_file("email,name\nana@example.com,Ana\nana@EXAMPLE.com,\nsam@example.net,Sam\n")
    result = run("contacts", "import", path, "--list", "media")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == ("Imported 2 new, updated 0, merged 1 duplicates, "
                             "subscribed 2 to media\n")
    assert run("contacts", "import", path).stdout == (
        "Imported 0 new, updated 0, merged 1 duplicates\n")
    assert emails(sqlite_store) == ["ana@example.com", "sam@example.net"]


def test_rejected_rows_go_to_stderr_exit_1_and_the_good_rows_are_saved(run, csv_file,
                                                                       sqlite_store):
    path = csv_file("email,name,phone\nana@example.com,Ana,1\nbob@,Bob,2\n"
                    "lea@example.org,Léa,3\n,Nobody,4\n")
    result = run("contacts", "import", path)
    assert result.exit_code == 1
    assert result.stdout == "Imported 2 new, updated 0, merged 0 duplicates\n"
    assert result.stderr.splitlines() == [
        "warning: ignored unknown columns: phone",
        "line 3: invalid email 'bob@': There must be something after the @-sign.",
        "line 5: missing email",
        "2 rows rejected; the others were imported.",
    ]
    assert emails(sqlite_store) == ["ana@example.com", "lea@example.org"]


def test_import_json_report(run, csv_file):
    run("lists", "create", "media")
    result = run("contacts", "import", csv_file("email\nana@example.com\nbob@\n"), "--list",
                 "media", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "imported": 1, "updated": 0, "duplicates_merged": 0, "subscribed": 1, "unsubscribed": 0,
        "forgotten": 0, "suppressed": 0,
        "list": "media",
        "rejected": [{"line": 3, "reason": "invalid email 'bob@': There must be something "
                                           "after the @-sign."}],
        "warnings": [],
    }


@pytest.mark.parametrize(("make_args", "message"), [
    (lambda tmp: ("contacts", "import", tmp / "nope.csv"), "Error: no such file: {tmp}/nope.csv\n"),
    (lambda tmp: ("contacts", "import", tmp), "Error: {tmp} is a directory, not a CSV file\n"),
    (lambda tmp: ("contacts", "import", tmp / "contacts.csv", "--list", "nope"),
     "Error: no list named 'nope'\n"),
])
def test_import_mistakes_are_one_line_errors(run, csv_file, tmp_path, sqlite_store,
                                             make_args, message):
    csv_file("email\nana@example.com\n")
    result = run(*make_args(tmp_path))
    assert (result.exit_code, result.stderr, result.stdout) == (
        1, message.format(tmp=tmp_path), "")
    assert emails(sqlite_store) == []


def test_a_latin1_file_is_a_one_line_error_naming_the_line(run, tmp_path, sqlite_store):
    path = tmp_path / "latin1.csv"
    path.write_bytes("email,name\nlea@example.org,Léa\n".encode("latin-1"))
    result = run("contacts", "import", path)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: line 2 is not UTF-8")
    assert len(result.stderr.splitlines()) == 1
    assert emails(sqlite_store) == []


def test_contacts_are_listed_with_their_lists(run, csv_file):
    run("lists", "create", "media")
    run("lists", "create", "public")
    run("contacts", "import", csv_file("email,name,outlet\nana@example.com,Ana,Courier\n"
                                       "sam@example.net,Sam,\n"), "--list", "media")
    run("contacts", "import", csv_file("email\nsam@example.net\n", "public.csv"), "--list",
        "public")
    listed = run("contacts", "list")
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == ["email            name  outlet   lists",
                                          "ana@example.com  Ana   Courier  media",
                                          "sam@example.net  Sam            media,public"]
    public = json.loads(run("contacts", "list", "--list", "public", "--json").stdout)
    assert [(c["email"], c["lists"]) for c in public] == [("sam@example.net",
                                                           ["media", "public"])]
    assert run("contacts", "list", "--list", "nope").stderr == "Error: no list named 'nope'\n"


def test_an_empty_database_says_what_to_do(run):
    assert "pressroom contacts import" in run("contacts", "list").stdout
    assert "pressroom lists create" in run("lists", "list").stdout
    assert json.loads(run("contacts", "list", "--json").stdout) == []


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_large_file_shows_a_progress_bar_on_a_terminal_only(monkeypatch, csv_file):
    path = csv_file("email\n" + "".join(f"r{i}@example.org\n" for i in range(2000)))
    monkeypatch.setattr(cli_contacts, "PROGRESS_BYTES", 1000)
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    with cli_contacts._progress(path) as progress:
        progress(path.stat().st_size)
    assert "Reading contacts.csv" in sys.stderr.getvalue()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with cli_contacts._progress(path) as progress:
        assert progress is None


def test_suppressed_addresses_are_listed_with_their_reasons(run, sqlite_store):
    from distribution.store.models import Suppression

    with sqlite_store.Session.begin() as session:
        session.add(Suppression(email="gone@example.org", reason="550 5.1.1 no such user"))
        session.add(Suppression(email="left@example.org", reason="unsubscribed from all via web"))
    listed = run("contacts", "list", "--suppressed")
    assert listed.exit_code == 0
    assert "gone@example.org" in listed.stdout and "550 5.1.1 no such user" in listed.stdout
    rows = json.loads(run("contacts", "list", "--suppressed", "--json").stdout)
    assert [(r["email"], r["reason"]) for r in rows] == [
        ("gone@example.org", "550 5.1.1 no such user"),
        ("left@example.org", "unsubscribed from all via web")]


def test_import_says_how_many_were_not_subscribed_because_they_had_left(run, csv_file,
                                                                         sqlite_store):
    from distribution.store.models import Subscription, SubscriptionStatus

    run("lists", "create", "media")
    file = csv_file("email\nana@example.com\nsam@example.net\n")
    assert run("contacts", "import", file, "--list", "media").exit_code == 0
    with sqlite_store.Session.begin() as session:
        for sub in session.scalars(select(Subscription)):
            if sub.contact.email == "ana@example.com":
                sub.status = SubscriptionStatus.UNSUBSCRIBED
    again = run("contacts", "import", file, "--list", "media")
    assert again.exit_code == 0
    assert "1 not subscribed because they had unsubscribed from it" in again.stdout
    report = json.loads(run("contacts", "import", file, "--list", "media", "--json").stdout)
    assert report["unsubscribed"] == 1


def test_forget_erases_a_person_and_keeps_them_from_coming_back(run, csv_file, sqlite_store):
    from distribution.audience.membership import suppression_of
    from distribution.store.models import Delivery, Suppression

    run("lists", "create", "media")
    file = csv_file("email,name\nana@example.com,Ana Ribeiro\nsam@example.net,Sam\n")
    assert run("contacts", "import", file, "--list", "media").exit_code == 0
    with sqlite_store.Session.begin() as session:
        session.add(Delivery(distribution_id=1, contact_id=1, email="ana@example.com",
                             smtp_reply="250 ok for ana@example.com"))
    assert run("contacts", "forget", "Ana@Example.com", input="n\n").exit_code == 1
    forgotten = run("contacts", "forget", "Ana@Example.com", "--yes")
    assert forgotten.exit_code == 0, forgotten.output
    assert emails(sqlite_store) == ["sam@example.net"]
    with sqlite_store.Session() as session:
        everything = " ".join(str(v) for row in session.execute(
            select(Delivery.email, Delivery.smtp_reply)) for v in row)
        everything += " ".join(s.email for s in session.scalars(select(Suppression)))
        assert "ana@example.com" not in everything.lower()
        assert suppression_of(session, "ana@example.com") is not None
    again = run("contacts", "import", file, "--list", "media")
    assert again.exit_code == 0 and "1 skipped: they asked to be forgotten" in again.stdout
    assert emails(sqlite_store) == ["sam@example.net"]
    assert run("contacts", "forget", "nobody@example.org", "--yes").exit_code == 1


def test_lists_are_renamed_and_deleted_keeping_suppressions(run, csv_file, sqlite_store):
    from distribution.store.models import Subscription, Suppression

    run("lists", "create", "media")
    run("contacts", "import", csv_file("email\nana@example.com\nsam@example.net\n"),
        "--list", "media")
    with sqlite_store.Session.begin() as session:
        session.add(Suppression(email="gone@example.org", reason="550 no such user"))
    renamed = run("lists", "rename", "media", "press-corps", "--title", "Press corps")
    assert renamed.exit_code == 0, renamed.output
    assert json.loads(run("lists", "show", "press-corps", "--json").stdout)["title"] == \
        "Press corps"
    assert json.loads(run("lists", "show", "press-corps", "--json").stdout)["members"] == 2
    assert run("lists", "rename", "nope", "x").exit_code == 1
    assert run("lists", "rename", "press-corps", "bad name").exit_code == 1
    refused = run("lists", "delete", "press-corps", input="n\n")
    assert refused.exit_code == 1 and "2 memberships" in refused.stderr
    deleted = run("lists", "delete", "press-corps", "--yes")
    assert deleted.exit_code == 0 and "2 memberships" in deleted.stdout
    assert json.loads(run("lists", "list", "--json").stdout) == []
    with sqlite_store.Session() as session:
        assert session.scalars(select(Subscription)).all() == []
        assert [s.email for s in session.scalars(select(Suppression))] == ["gone@example.org"]
    assert emails(sqlite_store) == ["ana@example.com", "sam@example.net"]
