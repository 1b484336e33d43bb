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

    def invoke(*args: object):
        return CliRunner().invoke(main, [str(a) for a in args], obj=None, env=env)

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
    assert set(shown) == {"id", "name", "trusted", "open_signup", "description", "members",
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
        "imported": 1, "updated": 0, "duplicates_merged": 0, "subscribed": 1, "list": "media",
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
