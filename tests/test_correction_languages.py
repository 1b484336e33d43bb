"""Corrections and language versions: who gets which corrected text, in which language.

A release with an Arabic version goes to Rania (Arabic) and Sam (English). Correcting the
original tells both, each notice in their language; correcting the Arabic version tells
Rania alone, in Arabic; and a reader who already holds the corrected Arabic text is not
sent the original's correction.
"""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

DATA = Path(__file__).parent / "data"
DAMASCUS = DATA / "releases" / "01-iiim-head-concludes-damascus-visit.txt"
ARABIC = DATA / "versions" / "damascus-ar.txt"
BASE = "https://press.iiim.example.org"
ARABIC_HEADLINE = "رئيس الآلية يختتم زيارته إلى دمشق"
ARABIC_CORRECTED = "رئيس الآلية يختتم زيارته الثانية إلى دمشق"


def _media(cli, tmp_path, rows: str) -> None:
    media = tmp_path / "media.csv"
    media.write_text("email,name,language\n" + rows, encoding="utf-8")
    assert cli("lists", "create", "media", "--trusted").exit_code == 0
    assert cli("contacts", "import", str(media), "--list", "media").exit_code == 0


def _take_outbox(tmp_path) -> dict[str, email.message.EmailMessage]:
    """The messages delivered since the last call, by recipient; the outbox is emptied."""
    found = {}
    for path in (tmp_path / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found[message["To"].addresses[0].addr_spec] = message
        path.unlink()
    return found


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _online(message) -> list[str]:
    """The release page addresses the message links to."""
    return re.findall(r"https://\S+/releases/\S+", _text(message))


def _file(tmp_path, name: str, source: Path, old: str, new: str) -> Path:
    path = tmp_path / name
    path.write_text(source.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return path


def _sent(cli, tmp_path) -> tuple[int, int]:
    """The release and its Arabic version, sent to Rania (ar) and Sam (en)."""
    _media(cli, tmp_path, "rania@example.com,Rania,ar\nsam@example.org,Sam,en\n")
    original = cli.json("release", "add", str(DAMASCUS))["id"]
    arabic = cli.json("release", "add", str(ARABIC), "--version-of", str(original))["id"]
    assert cli("send", str(original), "--list", "media", "--yes").exit_code == 0
    got = _take_outbox(tmp_path)
    assert set(got) == {"rania@example.com", "sam@example.org"}
    return original, arabic


def _correct(cli, release_id: int, path: Path, *flags: str) -> dict:
    return cli.json("release", "correct", str(release_id), str(path), "--yes", *flags)


def test_the_view_online_link_of_a_version_carries_its_language(cli, tmp_path):
    _media(cli, tmp_path, "rania@example.com,Rania,ar\nsam@example.org,Sam,en\n")
    original = cli.json("release", "add", str(DAMASCUS))["id"]
    cli.json("release", "add", str(ARABIC), "--version-of", str(original))
    assert cli("send", str(original), "--list", "media", "--yes").exit_code == 0
    got = _take_outbox(tmp_path)
    assert _online(got["rania@example.com"]) == [f"{BASE}/releases/{original}?lang=ar"]
    assert _online(got["sam@example.org"]) == [f"{BASE}/releases/{original}"]


def test_correcting_the_original_tells_every_reader_in_the_language_they_were_sent(
        cli, tmp_path):
    original, _ = _sent(cli, tmp_path)
    fixed = _file(tmp_path, "fixed.txt", DAMASCUS, "his visit", "his second visit")
    result = _correct(cli, original, fixed)
    assert result["recipients"] == 2 and result["family_id"] == original
    got = _take_outbox(tmp_path)
    sam, rania = got["sam@example.org"], got["rania@example.com"]
    assert sam["Subject"].startswith("CORRECTION: IIIM Head Concludes his second visit")
    assert sam["Content-Language"] == "en"
    # No Arabic correction exists: Rania gets the corrected English text, but what the
    # notice itself says is in Arabic, from the Arabic catalog.
    assert rania["Subject"].startswith("تصحيح: IIIM Head Concludes his second visit")
    assert rania["Content-Language"] == "ar, en"
    text = _text(rania)
    assert "ما تغيّر: العنوان." in text and "Changed:" not in text
    assert "his second visit" in text and "For media inquiries please contact:" in text
    html = rania.get_body(("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html and '<div lang="en" dir="ltr">' in html
    # The corrected copy links to the release's own address, not the correction's id.
    assert _online(sam) == _online(rania) == [f"{BASE}/releases/{original}"]


def test_correcting_a_version_tells_exactly_its_readers_in_its_language(cli, tmp_path):
    original, arabic = _sent(cli, tmp_path)
    fixed = _file(tmp_path, "fixed-ar.txt", ARABIC, ARABIC_HEADLINE, ARABIC_CORRECTED)
    result = _correct(cli, arabic, fixed)
    assert (result["recipients"], result["corrects_id"], result["language"]) == (1, arabic, "ar")
    got = _take_outbox(tmp_path)
    assert set(got) == {"rania@example.com"}
    rania = got["rania@example.com"]
    assert rania["Subject"] == f"تصحيح: {ARABIC_CORRECTED}"
    assert rania["Content-Language"] == "ar"
    text = _text(rania)
    assert "ما تغيّر: العنوان." in text and "CORRECTION" not in text
    assert _online(rania) == [f"{BASE}/releases/{original}?lang=ar"]
    # The correction answers the copy she holds.
    assert rania["In-Reply-To"]
    shown = cli.json("release", "show", str(arabic))
    assert shown["corrected_by"] == [result["release_id"]] and shown["family_id"] == original
    new = cli.json("release", "show", str(result["release_id"]))
    assert (new["corrects_id"], new["version_of"], new["language"]) == (arabic, original, "ar")
    assert cli.json("release", "show", str(original))["versions"] == [
        {"id": original, "language": "en"}, {"id": result["release_id"], "language": "ar"}]
    # Only the newest text of a language may be corrected.
    again = cli("release", "correct", str(arabic), str(fixed), "--yes")
    assert again.exit_code == 1
    assert f"already corrected by release {result['release_id']}" in again.stderr


def test_after_the_arabic_correction_its_readers_are_not_sent_the_original_s(cli, tmp_path):
    original, arabic = _sent(cli, tmp_path)
    _correct(cli, arabic, _file(tmp_path, "fixed-ar.txt", ARABIC, ARABIC_HEADLINE,
                                ARABIC_CORRECTED))
    _take_outbox(tmp_path)
    result = _correct(cli, original, _file(tmp_path, "fixed.txt", DAMASCUS, "his visit",
                                           "his second visit"))
    assert result["recipients"] == 1
    assert set(_take_outbox(tmp_path)) == {"sam@example.org"}
    # Later notices still reach each reader with their language's newest text.
    assert cli("release", "embargo", str(original), "--withdraw", "--yes").exit_code == 0
    got = _take_outbox(tmp_path)
    assert got["rania@example.com"]["Subject"].endswith(ARABIC_CORRECTED)
    assert got["sam@example.org"]["Subject"].startswith(
        "WITHDRAWN – DO NOT PUBLISH: IIIM Head Concludes his second visit")


def test_a_version_sent_after_its_correction_goes_out_corrected(cli, tmp_path):
    original, arabic = _sent(cli, tmp_path)
    corrected = _correct(cli, arabic, _file(tmp_path, "fixed-ar.txt", ARABIC,
                                            ARABIC_HEADLINE, ARABIC_CORRECTED))
    _take_outbox(tmp_path)
    more = tmp_path / "more.csv"
    more.write_text("email,name,language\nlaila@example.com,Laila,ar\n", encoding="utf-8")
    assert cli("contacts", "import", str(more), "--list", "media").exit_code == 0
    dry = cli.json("send", str(corrected["release_id"]), "--list", "media", "--dry-run")
    assert dry["release_id"] == original and dry["versions"] == {"ar": 2, "en": 1}
    assert cli("send", str(original), "--list", "media", "--yes").exit_code == 0
    got = _take_outbox(tmp_path)
    assert set(got) == {"laila@example.com"}
    assert got["laila@example.com"]["Subject"] == ARABIC_CORRECTED


def test_a_version_correction_is_refused_photos_and_another_language(cli, tmp_path):
    _, arabic = _sent(cli, tmp_path)
    french = tmp_path / "fr.txt"
    french.write_text("---\nlanguage: fr\n---\n" + ARABIC.read_text(encoding="utf-8"),
                      encoding="utf-8")
    refused = cli("release", "correct", str(arabic), str(french), "--yes")
    assert refused.exit_code == 1 and "is the ar version" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert len(cli.json("release", "list")) == 2
