"""Photos and files in the email: linked by default (small messages), embedded on request,
never attached; signed links in trusted copies before the lift; the stencil still holds."""

from __future__ import annotations

import email
import email.policy
import io
import re
from email.message import EmailMessage
from pathlib import Path

from PIL import Image

from distribution.mail.headers import POLICY
from distribution.mail.media import InlineImage, MessageMedia, Photo
from distribution.mail.render import compose, prepare
from tests.fixtures import media
from tests.test_render import NOW, RECIPIENTS, embargoed, sample_release
from tests.test_render import settings as settings  # noqa: F401 - the store-free fixture
from tests.test_render import templates as templates  # noqa: F401

SAMPLES = Path(__file__).parent / "data" / "releases"
DAMASCUS = SAMPLES / "01-iiim-head-concludes-damascus-visit.txt"
BASE = "https://press.iiim.example.org"


def _lists(cli, tmp_path) -> None:
    (tmp_path / "media.csv").write_text("email\nana@example.com\n", encoding="utf-8")
    (tmp_path / "public.csv").write_text("email\nreader@example.org\n", encoding="utf-8")
    assert cli("lists", "create", "media", "--trusted").exit_code == 0
    assert cli("lists", "create", "public").exit_code == 0
    assert cli("contacts", "import", str(tmp_path / "media.csv"), "--list", "media").exit_code == 0
    assert cli("contacts", "import", str(tmp_path / "public.csv"),
               "--list", "public").exit_code == 0


def _with_media(cli, tmp_path, *flags: str) -> int:
    release_id = cli.json("release", "add", str(DAMASCUS), *flags)["id"]
    for n, color in enumerate([(200, 40, 40), (40, 200, 40), (40, 40, 200)], start=1):
        photo = tmp_path / f"photo{n}.jpg"
        photo.write_bytes(media.jpeg(3000, 2000, color=color))
        cli.json("release", "attach", str(release_id), str(photo), "--caption",
                 f"Caption {n} <b>bold</b>", "--credit", f"© Photographer {n}",
                 "--alt", f"Alt text {n}")
    report = tmp_path / "report.pdf"
    report.write_bytes(media.pdf())
    cli.json("release", "attach", str(release_id), str(report), "--caption", "The report")
    return release_id


def _outbox(tmp_path) -> dict[str, tuple[bytes, EmailMessage]]:
    found = {}
    for path in (tmp_path / "outbox").glob("*.eml"):
        data = path.read_bytes()
        message = email.message_from_bytes(data, policy=email.policy.default)
        found[message["To"].addresses[0].addr_spec] = (data, message)
    return found


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return (text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n"))


def test_by_default_photos_and_files_are_links_and_the_message_stays_small(cli, tmp_path):
    _lists(cli, tmp_path)
    release_id = _with_media(cli, tmp_path)
    assert cli("send", str(release_id), "--list", "media", "--list", "public",
               "--yes").exit_code == 0
    data, message = _outbox(tmp_path)["reader@example.org"]
    assert len(data) < 40_000, len(data)
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/alternative", "text/plain", "text/html"]  # nothing attached
    text, html = _parts(message)
    shown = cli.json("release", "show", str(release_id))["media"]
    for n, item in enumerate(shown[:3], start=1):
        key = item["public_url"].split("/")[-2]
        assert re.search(rf'<img[^>]+src="{BASE}/media/{key}/w1200/photo{n}.jpg"', html)
        assert f'alt="Alt text {n}"' in html
        assert f"Caption {n} &lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
        assert f"© Photographer {n}" in html
        assert f"- Caption {n} <b>bold</b> (© Photographer {n})\n  {item['public_url']}" in text
    pdf = shown[3]["public_url"]
    assert re.search(rf'<a href="{re.escape(pdf)}"[^>]*>report.pdf</a> \(PDF, 1 KB\) – The report',
                     html)
    assert f"- report.pdf (PDF, 1 KB) – The report\n  {pdf}" in text
    assert f"View online: {BASE}/releases/{release_id}" in text
    assert re.search(rf'<a href="{BASE}/releases/{release_id}"[^>]*>View online</a>', html)


def test_inline_photos_are_embedded_resized_and_without_gps(cli, tmp_path):
    _lists(cli, tmp_path)
    release_id = _with_media(cli, tmp_path)
    assert cli("release", "photos", str(release_id), "--inline").exit_code == 0
    assert cli.json("release", "show", str(release_id))["inline_photos"] is True
    assert cli("send", str(release_id), "--list", "public", "--yes").exit_code == 0
    data, message = _outbox(tmp_path)["reader@example.org"]
    types = [p.get_content_type() for p in message.walk()]
    assert types == ["multipart/alternative", "text/plain", "multipart/related", "text/html",
                     "image/jpeg", "image/jpeg", "image/jpeg"]  # the PDF is not attached
    _, html = _parts(message)
    images = [p for p in message.walk() if p.get_content_maintype() == "image"]
    for part in images:
        cid = part["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        payload = part.get_content()
        with Image.open(io.BytesIO(payload)) as image:
            assert max(image.size) == 1200
            assert not image.getexif()
        assert b"GPS" not in payload and b"PhotoCam" not in payload
    assert len(data) < 3 * 150_000  # resized copies, not the 3000×2000 originals


def test_trusted_copies_before_the_lift_link_to_signed_addresses(cli, tmp_path):
    _lists(cli, tmp_path)
    release_id = _with_media(cli, tmp_path, "--embargo", "2099-04-16 09:00 Europe/Zurich")
    assert cli("send", str(release_id), "--list", "media", "--list", "public",
               "--yes").exit_code == 0
    sent = _outbox(tmp_path)
    assert list(sent) == ["ana@example.com"]  # the public copy is held
    text, html = _parts(sent["ana@example.com"][1])
    for item in cli.json("release", "show", str(release_id))["media"]:
        assert item["public_url"] not in text + html  # those answer 404 until the lift
    assert re.search(rf'src="{BASE}/media/s/[\w.-]+/w1200/photo1.jpg"', html)
    assert re.search(rf"View online: {BASE}/releases/s/[\w.-]+\n", text)
    assert f"{BASE}/releases/{release_id}\n" not in text


def test_personalising_a_message_with_embedded_photos_equals_building_it_in_full(
        settings, templates):  # noqa: F811
    photos = tuple(Photo(src=f"cid:p{n}@iiim.example.org", link=f"{BASE}/media/k{n}/p.jpg",
                         width=1200, height=800, alt="A < B", caption="Cap & tion",
                         credit="© X", filename="p.jpg") for n in range(3))
    inline = tuple(InlineImage(f"p{n}@iiim.example.org", media.jpeg(120, 80, gps=False),
                               "image/jpeg", "p.jpg") for n in range(3))
    extra = MessageMedia(photos, (), inline, f"{BASE}/releases/s/token")
    for release in (sample_release(), embargoed()):
        options = dict(marked=release.embargo_until is not None, list_name="media",
                       media=extra)
        prepared = prepare(release, settings, templates, **options)
        for who in RECIPIENTS:
            fast = prepared.personalise(who, date=NOW)
            slow = compose(release, who, templates, settings, date=NOW, **options).as_bytes(
                policy=POLICY)
            assert _without_boundaries(fast) == _without_boundaries(slow), who


def _without_boundaries(data: bytes) -> bytes:
    for boundary in set(re.findall(rb'boundary="([^"]+)"', data)):
        data = data.replace(boundary, b"BOUNDARY")
    return data


def test_hostile_names_and_texts_cannot_inject_headers_or_markup(cli, tmp_path):
    _lists(cli, tmp_path)
    release_id = cli.json("release", "add", str(DAMASCUS))["id"]
    hostile = tmp_path / 'x"\r\nBcc: victim@example.com\r\n<script>.jpg'
    hostile.write_bytes(media.jpeg(300, 200))
    cli.json("release", "attach", str(release_id), str(hostile), "--caption",
             "<script>alert(1)</script>", "--alt", '" onerror="alert(1)', "--credit",
             "© <img src=x>")
    assert cli("release", "photos", str(release_id), "--inline").exit_code == 0
    assert cli("send", str(release_id), "--list", "public", "--yes").exit_code == 0
    data, message = _outbox(tmp_path)["reader@example.org"]
    assert b"\r\nBcc:" not in data and message["Bcc"] is None
    [image] = [p for p in message.walk() if p.get_content_maintype() == "image"]
    assert "\n" not in image.get_filename() and "Bcc" in image.get_filename()
    text, html = _parts(message)
    assert "<script>" not in html and "<img src=x>" not in html
    assert 'alt="&#34; onerror=&#34;alert(1)"' in html or 'alt="&quot; onerror' in html
    assert "<script>alert(1)</script>" in text  # plain text shows it as written


def test_preview_and_test_copies_of_an_embargoed_release_show_signed_photo_links(cli, tmp_path):
    release_id = _with_media(cli, tmp_path, "--embargo", "2099-04-16 09:00 Europe/Zurich")
    preview = cli("release", "preview", str(release_id), "--text")
    assert preview.exit_code == 0
    assert "Photos:\n- Caption 1 <b>bold</b> (© Photographer 1)\n  " in preview.stdout
    assert f"{BASE}/media/s/" in preview.stdout
    public = cli.json("release", "show", str(release_id))["media"][0]["public_url"]
    assert public not in preview.stdout
    assert cli("send", str(release_id), "--test-to", "officer@iiim.example.org").exit_code == 0
    [(data, message)] = _outbox(tmp_path).values()
    assert f"{BASE}/media/s/".encode() in data and public.encode() not in data
