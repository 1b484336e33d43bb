"""Language versions of one release: added, listed, sent to each contact in their language."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
DAMASCUS = DATA / "releases" / "01-iiim-head-concludes-damascus-visit.txt"
ARABIC = DATA / "versions" / "damascus-ar.txt"
FRENCH = DATA / "versions" / "damascus-fr.txt"
SPANISH = DATA / "versions" / "damascus-es.txt"


def _add(cli, path: Path, *flags: str) -> dict:
    return cli.json("release", "add", str(path), *flags)


def _media(cli, tmp_path, rows: str) -> None:
    media = tmp_path / "media.csv"
    media.write_text("email,name,language\n" + rows, encoding="utf-8")
    assert cli("lists", "create", "media", "--trusted").exit_code == 0
    assert cli("contacts", "import", str(media), "--list", "media").exit_code == 0


def _received(tmp_path) -> dict[str, email.message.EmailMessage]:
    found = {}
    for path in (tmp_path / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found[message["To"].addresses[0].addr_spec] = message
    return found


def test_a_version_takes_its_language_from_the_script_and_words_of_its_text(cli):
    original = _add(cli, DAMASCUS)["id"]
    arabic = _add(cli, ARABIC, "--version-of", str(original))
    french = _add(cli, FRENCH, "--version-of", str(original))
    spanish = _add(cli, SPANISH, "--version-of", str(original))
    assert (arabic["language"], french["language"], spanish["language"]) == ("ar", "fr", "es")
    assert arabic["version_of"] == original


def test_every_member_lists_all_versions(cli):
    original = _add(cli, DAMASCUS)["id"]
    arabic = _add(cli, ARABIC, "--version-of", str(original))["id"]
    french = _add(cli, FRENCH, "--version-of", str(arabic), "--language", "fr")["id"]
    expected = [{"id": original, "language": "en"}, {"id": arabic, "language": "ar"},
                {"id": french, "language": "fr"}]
    for member in (original, arabic, french):
        assert cli.json("release", "show", str(member))["versions"] == expected
    shown = cli("release", "show", str(arabic)).stdout
    assert (f"language versions: en (release {original}), ar (release {arabic}), "
            f"fr (release {french})") in shown
    assert f"language version of release: {original}" in shown


@pytest.mark.parametrize(("flags", "message"), [
    (["--language", "ar"], "already has a version in ar"),
    (["--language", "en"], "already has a version in en"),
    (["--language", "xx"], "not a known language code"),
    (["--language", "Arabic please"], "not a language code"),
    (["--embargo", "2099-01-01 09:00 UTC"], "shares its original's embargo"),
])
def test_a_bad_version_is_refused_in_one_line_and_nothing_is_written(cli, flags, message):
    original = _add(cli, DAMASCUS)["id"]
    _add(cli, ARABIC, "--version-of", str(original))
    result = cli("release", "add", str(FRENCH), "--version-of", str(original), *flags)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert len(cli.json("release", "list")) == 2


def test_a_withdrawn_or_missing_release_gets_no_new_version(cli):
    original = _add(cli, DAMASCUS, "--embargo", "2099-04-16 09:00 Europe/Zurich")["id"]
    assert cli("release", "embargo", str(original), "--withdraw", "--yes").exit_code == 0
    result = cli("release", "add", str(ARABIC), "--version-of", str(original))
    assert result.exit_code == 1 and "was withdrawn" in result.stderr
    missing = cli("release", "add", str(ARABIC), "--version-of", "999")
    assert missing.exit_code == 1 and "no release with id 999" in missing.stderr
    assert len(cli.json("release", "list")) == 1


def test_each_contact_gets_the_version_in_their_language_else_the_original(cli, tmp_path):
    _media(cli, tmp_path, "rania@example.com,Rania,ar\nmarie@example.fr,Marie,fr-CA\n"
                          "ana@example.com,Ana,pt\nsam@example.org,Sam,\n")
    original = _add(cli, DAMASCUS)["id"]
    arabic = _add(cli, ARABIC, "--version-of", str(original))["id"]
    _add(cli, FRENCH, "--version-of", str(original))
    dry = cli.json("send", str(arabic), "--list", "media", "--dry-run")
    assert dry["release_id"] == original and dry["versions"] == {"ar": 1, "fr": 1, "en": 2}
    text = cli("send", str(original), "--list", "media", "--dry-run").stdout
    assert "By language version: en 2, ar 1, fr 1" in text
    assert cli("send", str(original), "--list", "media", "--yes").exit_code == 0
    got = _received(tmp_path)
    assert got["rania@example.com"]["Subject"] == "رئيس الآلية يختتم زيارته إلى دمشق"
    assert got["rania@example.com"]["Content-Language"] == "ar"
    assert got["marie@example.fr"]["Subject"].startswith("Le chef du Mécanisme")
    for english in ("ana@example.com", "sam@example.org"):
        assert got[english]["Subject"].startswith("IIIM Head Concludes")
    statuses = {r["id"]: r["status"] for r in cli.json("release", "list")}
    assert set(statuses.values()) == {"sent"}


def test_an_embargo_change_applies_to_every_version_and_notices_go_in_each_language(
        cli, tmp_path):
    _media(cli, tmp_path, "rania@example.com,Rania,ar\nsam@example.org,Sam,en\n")
    original = _add(cli, DAMASCUS, "--embargo", "2099-04-16 09:00 Europe/Zurich")["id"]
    arabic = _add(cli, ARABIC, "--version-of", str(original))["id"]
    assert cli.json("release", "show", str(arabic))["embargo_until"] == "2099-04-16T09:00:00+02:00"
    assert cli("send", str(original), "--list", "media", "--yes").exit_code == 0
    for path in (tmp_path / "outbox").glob("*.eml"):
        path.unlink()
    assert cli("release", "embargo", str(arabic), "--until", "2099-04-17 09:00 Europe/Zurich",
               "--yes").exit_code == 0
    assert cli.json("release", "show", str(arabic))["embargo_until"] == "2099-04-17T09:00:00+02:00"
    got = _received(tmp_path)
    assert "رئيس الآلية يختتم زيارته إلى دمشق" in got["rania@example.com"]["Subject"]
    assert "IIIM Head Concludes" in got["sam@example.org"]["Subject"]
    assert cli("release", "embargo", str(original), "--withdraw", "--yes").exit_code == 0
    assert cli.json("release", "show", str(arabic))["status"] == "withdrawn"


def test_after_a_correction_a_withdrawal_still_reaches_each_reader_in_their_language(
        cli, tmp_path):
    _media(cli, tmp_path, "rania@example.com,Rania,ar\nsam@example.org,Sam,en\n")
    original = _add(cli, DAMASCUS, "--embargo", "2099-04-16 09:00 Europe/Zurich")["id"]
    _add(cli, ARABIC, "--version-of", str(original))
    assert cli("send", str(original), "--list", "media", "--yes").exit_code == 0
    corrected = tmp_path / "corrected.txt"
    corrected.write_text(DAMASCUS.read_text(encoding="utf-8").replace(
        "Damascus", "Damascus (corrected)", 1), encoding="utf-8")
    assert cli("release", "correct", str(original), str(corrected), "--yes").exit_code == 0
    for path in (tmp_path / "outbox").glob("*.eml"):
        path.unlink()
    assert cli("release", "embargo", str(original), "--withdraw", "--yes").exit_code == 0
    got = _received(tmp_path)
    # The notice's kind first, in each reader's language.
    assert got["rania@example.com"]["Subject"].startswith("سُحب البيان – يُمنع النشر: ")
    assert got["sam@example.org"]["Subject"].startswith("WITHDRAWN – DO NOT PUBLISH: ")
