"""`release attach|detach`: photos and files checked by content, stored once, refused clearly."""

from __future__ import annotations

import hashlib
import io
import stat
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from distribution.media.blobs import DatabaseStore, FolderStore
from distribution.store.models import MediaBlob, ReleaseMedia
from tests.fixtures import media

SAMPLES = Path(__file__).parent / "data" / "releases"
DAMASCUS = SAMPLES / "01-iiim-head-concludes-damascus-visit.txt"


@pytest.fixture
def release_id(cli) -> int:
    return cli.json("release", "add", str(DAMASCUS))["id"]


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _media_dir(tmp_path: Path) -> Path:
    return tmp_path / "home" / "media"


def test_a_photo_and_a_file_are_attached_and_listed(cli, tmp_path, release_id):
    photo = _file(tmp_path, "site-visit.jpg", media.jpeg())
    shown = cli.json("release", "attach", str(release_id), str(photo), "--caption",
                     "The delegation in Damascus", "--credit", "© IIIM / J. Doe",
                     "--alt", "Three people at a table")
    assert shown["kind"] == "image" and (shown["width"], shown["height"]) == (2400, 1600)
    report = _file(tmp_path, "report.pdf", media.pdf())
    cli.json("release", "attach", str(release_id), str(report), "--caption", "Full report")
    listed = cli.json("release", "show", str(release_id))["media"]
    assert [(m["kind"], m["filename"]) for m in listed] == [("image", "site-visit.jpg"),
                                                            ("file", "report.pdf")]
    first = listed[0]
    assert first["caption"] == "The delegation in Damascus"
    assert first["credit"] == "© IIIM / J. Doe" and first["alt"] == "Three people at a table"
    assert first["bytes"] == photo.stat().st_size
    assert listed[1]["width"] is None and listed[1]["content_type"] == "application/pdf"
    url = first["public_url"]
    assert url.startswith("https://press.iiim.example.org/media/")
    assert len(url.split("/")[-2]) >= 32  # the unguessable part
    assert url.endswith("/site-visit.jpg")


def test_png_webp_and_word_files_are_recognised_by_content(cli, tmp_path, release_id):
    # Names that lie about the type do not matter; the content decides.
    kinds = {"logo.jpg": (media.png(alpha=True), "image/png"),
             "landscape.webp": (media.webp(), "image/webp"),
             "statement.pdf.docx": (media.docx(), "application/vnd.openxmlformats-"
                                    "officedocument.wordprocessingml.document")}
    for name, (data, content_type) in kinds.items():
        shown = cli.json("release", "attach", str(release_id), str(_file(tmp_path, name, data)))
        assert shown["content_type"] == content_type, name


def test_the_same_photo_in_two_releases_is_stored_once_in_a_private_folder(
        cli, tmp_path, release_id):
    other = cli.json("release", "add", str(DAMASCUS))["id"]
    data = media.jpeg()
    photo = _file(tmp_path, "photo.jpg", data)
    cli.json("release", "attach", str(release_id), str(photo))
    cli.json("release", "attach", str(other), str(photo))
    folder = _media_dir(tmp_path)
    originals = [p for p in folder.rglob("*") if p.is_file()
                 and p.read_bytes() == data]
    assert len(originals) == 1
    assert originals[0].name == hashlib.sha256(data).hexdigest()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.rglob("*") if p.is_file())
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in folder.rglob("*") if p.is_dir())


@pytest.mark.parametrize("name,data,message", [
    ("report.pdf", media.windows_program(), "report.pdf is a program, not a photo"),
    ("photo.jpg", media.jpeg()[:20_000], "photo.jpg is a damaged or truncated image"),
    ("huge.png", media.bomb(), "more than the limit of 50,000,000 (media_max_pixels)"),
    ("notes.txt", b"just some words\n", "notes.txt is not a photo (JPEG, PNG, WebP) or a doc"),
    ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "is not a photo"),
])
def test_bad_files_are_refused_in_one_line_and_nothing_is_kept(cli, tmp_path, release_id,
                                                                name, data, message):
    result = cli("release", "attach", str(release_id), str(_file(tmp_path, name, data)))
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert cli.json("release", "show", str(release_id))["media"] == []
    assert not any(p.is_file() for p in _media_dir(tmp_path).rglob("*"))


@pytest.mark.parametrize("field", ["--caption", "--credit", "--alt"])
@pytest.mark.parametrize("text", ["a\x01b", "bell\x07", "esc\x1b[2J", "nonchar\uffff"])
def test_a_control_character_in_a_photos_text_is_refused(cli, tmp_path, release_id,
                                                         field, text):
    """Shown in the Atom feed's XML: one such character would break it for every reader."""
    photo = _file(tmp_path, "photo.jpg", media.jpeg(400, 300))
    result = cli("release", "attach", str(release_id), str(photo), field, text)
    assert result.exit_code != 0 and "control character" in result.stderr
    assert cli.json("release", "show", str(release_id))["media"] == []


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(cli, tmp_path, release_id):
    cli.env["PRESSROOM_MEDIA_MAX_BYTES"] = "1000000"
    big = _file(tmp_path, "big.jpg", media.jpeg(4000, 3000) + b"\0" * 1_000_000)
    result = cli("release", "attach", str(release_id), str(big))
    assert result.exit_code != 0
    assert "more than the limit of 1,000,000 (media_max_bytes)" in result.stderr


def test_a_missing_file_and_a_missing_release_are_one_line_each(cli, tmp_path, release_id):
    missing = cli("release", "attach", str(release_id), str(tmp_path / "nope.jpg"))
    assert missing.exit_code != 0 and "nope.jpg: no such file" in missing.stderr
    photo = _file(tmp_path, "photo.jpg", media.jpeg(400, 300))
    no_release = cli("release", "attach", "999", str(photo))
    assert no_release.exit_code != 0 and "no release with id 999" in no_release.stderr


def test_a_sent_release_takes_no_new_photo_and_loses_none(cli, tmp_path, release_id):
    photo = _file(tmp_path, "photo.jpg", media.jpeg(400, 300))
    media_id = cli.json("release", "attach", str(release_id), str(photo))["id"]
    assert cli("lists", "create", "media", "--trusted").exit_code == 0
    contacts = _file(tmp_path, "media.csv", b"email\nana@example.com\n")
    assert cli("contacts", "import", str(contacts), "--list", "media").exit_code == 0
    assert cli("send", str(release_id), "--list", "media", "--yes").exit_code == 0
    again = cli("release", "attach", str(release_id), str(photo))
    assert again.exit_code != 0
    assert "has already been sent" in again.stderr and "correct" in again.stderr
    gone = cli("release", "detach", str(release_id), str(media_id))
    assert gone.exit_code != 0 and "has already been sent" in gone.stderr
    assert len(cli.json("release", "show", str(release_id))["media"]) == 1


def test_detach_removes_the_photo_and_its_bytes_once_nothing_names_them(
        cli, tmp_path, release_id):
    other = cli.json("release", "add", str(DAMASCUS))["id"]
    photo = _file(tmp_path, "photo.jpg", media.jpeg(900, 600))
    first = cli.json("release", "attach", str(release_id), str(photo))["id"]
    second = cli.json("release", "attach", str(other), str(photo))["id"]
    assert cli("release", "detach", str(release_id), str(first)).exit_code == 0
    assert cli.json("release", "show", str(release_id))["media"] == []
    original = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert any(p.name == original for p in _media_dir(tmp_path).rglob("*"))  # still named
    assert cli("release", "detach", str(other), str(second)).exit_code == 0
    assert not any(p.is_file() for p in _media_dir(tmp_path).rglob("*"))
    wrong = cli("release", "detach", str(other), str(second))
    assert wrong.exit_code != 0 and f"has no photo or file {second}" in wrong.stderr


def test_stored_photo_copies_carry_no_gps_or_camera_metadata(cli, tmp_path, release_id,
                                                             sqlite_store):
    original = media.jpeg()
    assert media.exif_of(original).get_ifd(media.GPS_IFD)  # the camera wrote a position
    cli.json("release", "attach", str(release_id), str(_file(tmp_path, "gps.jpg", original)))
    with sqlite_store.Session() as session:
        row = session.scalars(select(ReleaseMedia)).one()
    store = FolderStore(_media_dir(tmp_path))
    for size, rendition in row.renditions.items():
        data = store.get(str(rendition["sha256"]))
        assert data is not None
        with Image.open(io.BytesIO(data)) as image:
            assert max(image.size) <= int(size) and image.format == "JPEG"
            assert not image.getexif() and "exif" not in image.info
        assert b"PhotoCam" not in data and b"GPS" not in data


def test_the_database_store_keeps_one_copy_per_hash(store):
    data = media.pdf()
    with store.Session.begin() as session:
        blobs = DatabaseStore(session)
        sha = blobs.put(data)
        assert blobs.put(data) == sha == hashlib.sha256(data).hexdigest()
    with store.Session.begin() as session:
        assert session.scalar(select(func.count()).select_from(MediaBlob)) == 1
        assert DatabaseStore(session).get(sha) == data
        DatabaseStore(session).forget(sha)
    with store.Session() as session:
        assert DatabaseStore(session).get(sha) is None


def test_photos_can_be_kept_in_the_database(cli, tmp_path, release_id, sqlite_store):
    cli.env["PRESSROOM_MEDIA_STORE"] = "database"
    photo = _file(tmp_path, "photo.jpg", media.jpeg(800, 600))
    cli.json("release", "attach", str(release_id), str(photo))
    with sqlite_store.Session() as session:
        stored = set(session.scalars(select(MediaBlob.sha256)))
    assert hashlib.sha256(photo.read_bytes()).hexdigest() in stored
    assert not _media_dir(tmp_path).exists()


def test_a_release_file_names_its_photos_in_front_matter(cli, tmp_path):
    (tmp_path / "photos").mkdir()
    _file(tmp_path / "photos", "visit.jpg", media.jpeg(1000, 800))
    release = tmp_path / "release.txt"
    release.write_text(
        "---\nphoto: photos/visit.jpg | The delegation | © IIIM | Three people at a table\n"
        "---\nHead Concludes Visit\n\nGeneva, 14 March 2025 – The head met officials.\n\n"
        "-ENDS-\n", encoding="utf-8")
    release_id = cli.json("release", "add", str(release))["id"]
    [photo] = cli.json("release", "show", str(release_id))["media"]
    assert (photo["filename"], photo["caption"], photo["credit"], photo["alt"]) == (
        "visit.jpg", "The delegation", "© IIIM", "Three people at a table")


def test_a_release_file_naming_a_missing_photo_adds_nothing(cli, tmp_path):
    release = tmp_path / "release.txt"
    release.write_text("---\nphoto: gone.jpg | Caption\n---\nHeadline\n\nText.\n",
                       encoding="utf-8")
    result = cli("release", "add", str(release))
    assert result.exit_code != 0 and "gone.jpg: no such file" in result.stderr
    assert cli.json("release", "list") == []


def test_a_correction_keeps_the_photos_at_new_addresses_or_takes_the_files_own(cli, tmp_path,
                                                                             release_id):
    photo = _file(tmp_path, "photo.jpg", media.jpeg(800, 600))
    cli.json("release", "attach", str(release_id), str(photo), "--caption", "Old caption")
    assert cli("lists", "create", "media", "--trusted").exit_code == 0
    contacts = _file(tmp_path, "media.csv", b"email\nana@example.com\n")
    assert cli("contacts", "import", str(contacts), "--list", "media").exit_code == 0
    assert cli("send", str(release_id), "--list", "media", "--yes").exit_code == 0
    text = DAMASCUS.read_text(encoding="utf-8")
    fixed = _file(tmp_path, "fixed.txt", text.replace("Damascus", "Damas", 1).encode())
    corrected = cli.json("release", "correct", str(release_id), str(fixed), "--yes")
    [kept] = cli.json("release", "show", str(corrected["release_id"]))["media"]
    [old] = cli.json("release", "show", str(release_id))["media"]
    assert kept["caption"] == "Old caption" and kept["public_url"] != old["public_url"]
    _file(tmp_path, "new.jpg", media.jpeg(640, 480))
    refixed = _file(tmp_path, "refixed.txt", (
        "---\nphoto: new.jpg | New caption\n---\n" + text.replace("Damascus", "Dimashq", 1)
    ).encode())
    again = cli.json("release", "correct", str(corrected["release_id"]), str(refixed), "--yes")
    [new] = cli.json("release", "show", str(again["release_id"]))["media"]
    assert (new["filename"], new["caption"]) == ("new.jpg", "New caption")


def test_an_embargoed_release_whose_trusted_copies_went_out_takes_no_new_photo(
        cli, tmp_path):
    release_id = cli.json("release", "add", str(DAMASCUS), "--embargo",
                          "2099-04-16 09:00 Europe/Zurich")["id"]
    for name in ("media", "public"):
        assert cli("lists", "create", name, *(["--trusted"] if name == "media" else [])
                   ).exit_code == 0
        contacts = _file(tmp_path, f"{name}.csv", f"email\n{name}@example.com\n".encode())
        assert cli("contacts", "import", str(contacts), "--list", name).exit_code == 0
    assert cli("send", str(release_id), "--list", "media", "--list", "public",
               "--yes").exit_code == 0
    shown = cli.json("release", "show", str(release_id))
    assert shown["held_deliveries"] == 1 and shown["first_sent_at"] is None  # not done yet
    photo = _file(tmp_path, "photo.jpg", media.jpeg(400, 300))
    result = cli("release", "attach", str(release_id), str(photo))
    assert result.exit_code != 0 and "has already been sent" in result.stderr
    inline = cli("release", "photos", str(release_id), "--inline")
    assert inline.exit_code != 0 and "has already been sent" in inline.stderr


def test_attaching_is_an_editors_change_that_voids_an_approval_and_is_logged(cli, tmp_path):
    for name, role in (("chief", "editor"), ("ed", "editor"), ("bea", "approver")):
        assert cli("--as", "chief", "operators", "add", name, "--role", role).exit_code == 0
    cli.env["PRESSROOM_REQUIRE_APPROVAL"] = "true"
    release_id = cli.json("--as", "ed", "release", "add", str(DAMASCUS))["id"]
    assert cli("--as", "bea", "release", "approve", str(release_id)).exit_code == 0
    photo = _file(tmp_path, "photo.jpg", media.jpeg(400, 300))
    stranger = cli("--as", "mallory", "release", "attach", str(release_id), str(photo))
    assert stranger.exit_code != 0
    media_id = cli.json("--as", "ed", "release", "attach", str(release_id), str(photo))["id"]
    approval = cli.json("release", "show", str(release_id))["approval"]
    assert approval["approved"] is False and approval["revision"] == 2
    assert cli("--as", "ed", "release", "detach", str(release_id), str(media_id)).exit_code == 0
    log = cli.json("log", "--release", str(release_id))
    actions = [(e["actor"], e["action"]) for e in log]
    assert ("ed", "release.attach") in actions and ("ed", "release.detach") in actions
    attached = next(e for e in log if e["action"] == "release.attach")
    assert "photo.jpg" in attached["summary"] and "approval of revision 1 voided" in attached[
        "summary"]
