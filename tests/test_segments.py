"""Aiming a send: --where on contact fields, and saved segments sent to by name."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "data" / "releases"
DAMASCUS = SAMPLES / "01-iiim-head-concludes-damascus-visit.txt"
MEDIA = ("email,name,beat,country,language\n"
         "rania@example.com,Rania,justice,SY,ar\n"
         "karim@example.com,Karim,Justice,lb,ar\n"
         "ana@example.com,Ana,justice,PT,pt\n"
         "sam@example.org,Sam,economy,SY,en\n"
         "lea@example.fr,Léa,,LB,fr\n")


@pytest.fixture
def media(cli, tmp_path) -> int:
    path = tmp_path / "media.csv"
    path.write_text(MEDIA, encoding="utf-8")
    assert cli("lists", "create", "media", "--trusted").exit_code == 0
    assert cli("contacts", "import", str(path), "--list", "media").exit_code == 0
    return cli.json("release", "add", str(DAMASCUS))["id"]


def _outbox(tmp_path) -> set[str]:
    found = set()
    for path in (tmp_path / "outbox").glob("*.eml"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("To:"):
                found.add(line.split("<")[-1].rstrip(">").strip())
    return found


def test_where_narrows_the_audience_and_the_dry_run_counts_it(cli, media):
    dry = cli.json("send", str(media), "--list", "media", "--where", "beat=justice",
                   "--where", "country=SY,LB", "--dry-run")
    assert dry["recipients"] == 2
    assert sorted(dry["first_recipients"]) == ["karim@example.com", "rania@example.com"]
    assert dry["where"] == {"beat": ["justice"], "country": ["SY", "LB"]}
    text = cli("send", str(media), "--list", "media", "--where", "beat=justice",
               "--where", "country=SY,LB", "--dry-run").stdout
    assert "would go to 2 recipients on media whose beat is justice and country is SY or LB" \
        in text


def test_a_narrowed_send_reaches_only_those_who_match(cli, media, tmp_path):
    result = cli("send", str(media), "--list", "media", "--where", "country=lb", "--yes")
    assert result.exit_code == 0, result.output
    assert _outbox(tmp_path) == {"karim@example.com", "lea@example.fr"}


@pytest.mark.parametrize(("where", "message"), [
    ("desk=justice", "no contact field 'desk'; the fields are beat, country, language, "
                     "outlet, timezone"),
    ("beat", "write it as FIELD=VALUE"),
    ("beat=", "gives no value"),
    ("beat= , ,", "gives no value"),
])
def test_a_bad_where_is_refused_in_one_line_and_nothing_is_recorded(cli, media, where,
                                                                    message):
    result = cli("send", str(media), "--list", "media", "--where", where, "--yes")
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert cli.json("distributions") == []


def test_no_match_is_refused_before_anything_is_recorded(cli, media):
    result = cli("send", str(media), "--list", "media", "--where", "country=FR", "--yes")
    assert result.exit_code == 1 and "whose country is FR" in result.stderr
    assert cli.json("distributions") == []


def test_a_saved_segment_is_listed_sent_to_by_name_and_deleted(cli, media, tmp_path):
    created = cli("segments", "create", "levant-justice", "--list", "media",
                  "--where", "beat=justice", "--where", "country=SY,LB")
    assert created.exit_code == 0, created.output
    assert cli.json("segments", "list") == [{"name": "levant-justice", "lists": ["media"],
                                             "where": {"beat": ["justice"],
                                                       "country": ["SY", "LB"]}}]
    dry = cli.json("send", str(media), "--segment", "levant-justice", "--dry-run")
    assert dry["recipients"] == 2 and dry["versions"] == {"en": 2}
    assert cli("send", str(media), "--segment", "levant-justice", "--yes").exit_code == 0
    assert _outbox(tmp_path) == {"rania@example.com", "karim@example.com"}
    assert cli("segments", "delete", "levant-justice").exit_code == 0
    assert cli.json("segments", "list") == []


@pytest.mark.parametrize(("args", "message"), [
    (["segments", "create", "x", "--list", "nope"], "no list named 'nope'"),
    (["segments", "create", "x"], "name at least one list"),
    (["segments", "create", "bad name!", "--list", "media"], "segment name"),
    (["segments", "create", "x", "--list", "media", "--where", "age=30"], "no contact field"),
    (["segments", "delete", "missing"], "no segment named 'missing'"),
    (["send", "1", "--segment", "missing", "--yes"], "no segment named 'missing'"),
    (["send", "1", "--segment", "x", "--list", "media"], "without --list or --where"),
])
def test_bad_segment_commands_are_one_line(cli, media, args, message):
    result = cli(*args)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_segment_name_is_taken_once(cli, media):
    assert cli("segments", "create", "x", "--list", "media").exit_code == 0
    again = cli("segments", "create", "x", "--list", "media")
    assert again.exit_code == 1 and "already exists" in again.stderr
