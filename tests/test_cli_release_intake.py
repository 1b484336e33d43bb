"""`release add` says what it read and warns about what it did not find; an embargo line it
cannot read refuses the release unless a flag says what to do."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "data" / "corpus" / "releases"


def _write(tmp_path: Path, text: str, name: str = "release.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _count(cli) -> int:
    return len(cli.json("release", "list"))


def test_add_prints_what_it_read_and_warns_about_what_is_missing(cli):
    result = cli("release", "add", str(next(CORPUS.glob("18-*"))))
    assert result.exit_code == 0, result.output
    assert "Jakarta EE 11 Release" in result.stdout
    assert "dateline: BRUSSELS - 26 June 2025 (2025-06-26)" in result.stdout
    assert "jay@nicholscomm.com" in result.stdout
    assert "boilerplate: About the Eclipse Foundation" in result.stdout
    assert "end marker: -ENDS- (added: none in the text)" in result.stdout
    assert "warning: no end marker found; the house marker -ENDS- is added" in result.stderr
    assert "warning: language guessed from the text as 'en'" in result.stderr


def test_json_carries_the_summary_and_the_warnings(cli):
    info = cli.json("release", "add", str(next(CORPUS.glob("12-*"))))
    assert info["language"] == "ar"
    assert info["end_marker"] == "-انتهى-" and info["end_marker_added"] is True
    assert info["read"]["dateline"].startswith("جنيف")
    assert any("no media contact" in warning for warning in info["warnings"])


def test_show_says_the_end_marker_was_added_not_found(cli, tmp_path):
    release_id = cli.json("release", "add", str(_write(tmp_path, "Headline\n\nText.\n")))["id"]
    shown = cli("release", "show", str(release_id))
    assert "end marker: -ENDS- (added: the text has none)" in shown.stdout
    found = cli.json("release", "add", str(_write(tmp_path, "Headline\n\nText.\n\n###\n")))
    assert found["end_marker"] == "###" and found["end_marker_added"] is False


@pytest.mark.parametrize("line", [
    "EMBARGOED UNTIL FURTHER NOTICE 2030",
    "Sperrfrist bis zur Rede des Ministers",
    "حظر النشر حتى إشعار آخر",
])
def test_an_unreadable_embargo_line_refuses_the_release(cli, tmp_path, line):
    path = _write(tmp_path, f"{line}\n\nHeadline\n\nText of the release.\n")
    result = cli("release", "add", str(path))
    assert result.exit_code == 1
    assert "--embargo WHEN or --no-embargo" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert _count(cli) == 0
    kept = cli.json("release", "add", str(path), "--no-embargo")
    assert kept["embargo_until"] is None
    assert "ignored (--no-embargo)" in " ".join(kept["warnings"])
    given = cli.json("release", "add", str(path), "--embargo", "2030-01-01 09:00 UTC")
    assert given["embargo_until"].startswith("2030-01-01T09:00")


@pytest.mark.parametrize(("line", "utc"), [
    ("Sous embargo jusqu'au 16 avril 2030 à 9 h 00 CET", "2030-04-16 08:00"),
    ("Embargo hasta el 28 de diciembre de 2030 a las 10:00 GMT", "2030-12-28 10:00"),
    ("Sperrfrist: 4. April 2030, 10:00 Uhr MEZ", "2030-04-04 09:00"),
    ("حظر النشر حتى الساعة 10:00 بتوقيت غرينتش يوم ٣ آذار/مارس ٢٠٣٠", "2030-03-03 10:00"),
])
def test_embargo_lines_in_other_languages_embargo_the_release(cli, tmp_path, line, utc):
    info = cli.json("release", "add", str(_write(tmp_path, f"{line}\n\nHeadline\n\nText.\n")))
    until = datetime.datetime.fromisoformat(info["embargo_until"]).astimezone(datetime.UTC)
    assert until.strftime("%Y-%m-%d %H:%M") == utc


def test_both_embargo_flags_are_refused(cli, tmp_path):
    result = cli("release", "add", str(_write(tmp_path, "Headline\n\nText.\n")),
                 "--embargo", "2030-01-01 09:00 UTC", "--no-embargo")
    assert result.exit_code == 1 and "contradict" in result.output
    assert json.loads(cli("release", "list", "--json").stdout) == []
