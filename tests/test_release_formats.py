"""Word and Markdown release files: chosen by content, read by their styles and markup, and
rendered so that headings, lists (numbers kept), quotes, tables, emphasis and links survive
into the HTML email and read well in its text part. Bad files: one line, nothing stored."""

from __future__ import annotations

import datetime
import email
import email.policy
import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from distribution.mail.render import load_templates, render
from distribution.releases.parse import ReleaseError, read_release_file
from distribution.store.models import Release
from tests.fixtures.settings import make_settings
from tests.test_render import recipient

NOW = datetime.datetime(2025, 4, 15, 8, 0, tzinfo=datetime.UTC)


def _hyperlink(paragraph, text: str, url: str) -> None:
    """python-docx writes no links itself: the w:hyperlink element Word writes."""
    rel = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    text_element = OxmlElement("w:t")
    text_element.text = text
    run.append(text_element)
    link.append(run)
    paragraph._p.append(link)


def _word_release(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("FOR IMMEDIATE RELEASE")
    document.add_paragraph("Foundation opens its Geneva office", style="Title")
    document.add_paragraph("A new home for the archive", style="Subtitle")
    first = document.add_paragraph()
    first.add_run("GENEVA, 3 March 2025 –").bold = True
    first.add_run(" The Foundation today opened an office with ")
    first.add_run("three").italic = True
    first.add_run(" rooms. Details are on ")
    _hyperlink(first, "our website", "https://example.org/office")
    first.add_run(".")
    document.add_paragraph("The office will:")
    for item in ("Keep the archive", "Receive visitors"):
        document.add_paragraph(item, style="List Bullet")
    document.add_paragraph("It opens in three steps:")
    for item in ("Move the files", "Hire the staff", "Open the doors"):
        document.add_paragraph(item, style="List Number")
    document.add_paragraph("We have waited for this day for ten years.", style="Quote")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "Room", (0, 1): "Use", (1, 0): "A1",
                             (1, 1): "Reading"}.items():
        table.cell(row, col).text = text
    document.add_paragraph("-ENDS-")
    document.add_paragraph("Media contact: Jane Doe, press@example.org, +41 22 000 00 00")
    document.add_heading("About the Foundation", level=1)
    document.add_paragraph("The Foundation keeps records.")
    document.save(path)
    return path


MARKDOWN = """# Foundation opens its Geneva office

**GENEVA, 3 March 2025** – The Foundation today opened an office with *three* rooms.
Details are on [our website](https://example.org/office).

## The plan

3. Move the files
4. Hire the staff

> We have waited for this day for ten years.

| Room | Use |
|------|-----|
| A1   | Reading |

-ENDS-

**Media contact:** Jane Doe, press@example.org

## About the Foundation

The Foundation keeps records.
"""


def _render(parsed) -> tuple[str, str]:
    settings = make_settings(Path("/nonexistent"), "sqlite://")
    release = Release(
        headline=parsed.headline, subheadline=parsed.subheadline, language="en",
        dateline_place=parsed.dateline_place, dateline_date=parsed.dateline_date,
        dateline_text=parsed.dateline_text, body=parsed.body, end_marker="-ENDS-",
        media_contacts=[], boilerplate_heading=parsed.boilerplate_heading,
        boilerplate=parsed.boilerplate, embargo_until=None, embargo_zone=None)
    data = render(release, recipient(), load_templates(settings), settings, date=NOW,
                  marked=False, list_name="media")
    message = email.message_from_bytes(data, policy=email.policy.default)
    text, html = (part.get_content().replace("\r\n", "\n") for part in message.iter_parts())
    return text, html


def test_a_word_release_is_read_by_its_styles(tmp_path):
    parsed = read_release_file(_word_release(tmp_path / "release.docx"))
    assert parsed.source_format == "word"
    assert parsed.headline == "Foundation opens its Geneva office"
    assert parsed.kickers == ["FOR IMMEDIATE RELEASE"]
    assert parsed.subheadline == "A new home for the archive"
    assert (parsed.dateline_place, parsed.dateline_date) == ("GENEVA", datetime.date(2025, 3, 3))
    assert parsed.end_marker == "-ENDS-"
    assert [c.email for c in parsed.media_contacts] == ["press@example.org"]
    assert parsed.boilerplate_heading == "About the Foundation"
    assert "1. Move the files\n2. Hire the staff\n3. Open the doors" in parsed.body
    assert "- Keep the archive\n- Receive visitors" in parsed.body


def test_a_word_release_keeps_its_shape_in_the_email(tmp_path):
    text, html = _render(read_release_file(_word_release(tmp_path / "release.docx")))
    assert re.search(r"<ol[^>]*>\s*<li[^>]*>Move the files</li>", html)
    assert re.search(r"<ul[^>]*>\s*<li[^>]*>Keep the archive</li>", html)
    assert re.search(r"<blockquote[^>]*>We have waited", html)
    assert re.search(r"<th[^>]*>Room</th>", html) and re.search(r"<td[^>]*>Reading</td>", html)
    assert re.search(r"<em[^>]*>three</em>", html)
    assert re.search(r'<a href="https://example.org/office"[^>]*>our website</a>', html)
    assert "1. Move the files\n2. Hire the staff\n3. Open the doors" in text
    assert "our website (https://example.org/office)" in text
    assert "> We have waited for this day for ten years." in text
    assert "Room  Use" in text and "A1    Reading" in text
    assert "*" not in text


def test_a_markdown_release_is_read_and_rendered(tmp_path):
    path = tmp_path / "release.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    parsed = read_release_file(path)
    assert parsed.source_format == "markdown"
    assert parsed.headline == "Foundation opens its Geneva office"
    assert parsed.dateline_date == datetime.date(2025, 3, 3)
    assert parsed.boilerplate_heading == "About the Foundation"
    assert [c.email for c in parsed.media_contacts] == ["press@example.org"]
    text, html = _render(parsed)
    assert re.search(r"<h2[^>]*>The plan</h2>", html)
    assert re.search(r'<ol start="3"', html)
    assert "3. Move the files\n4. Hire the staff" in text
    assert "The plan\n========" in text


def test_markdown_is_recognised_by_its_content_not_its_name(tmp_path):
    path = tmp_path / "release.txt"
    path.write_text(MARKDOWN, encoding="utf-8")
    assert read_release_file(path).source_format == "markdown"
    word = _word_release(tmp_path / "release.txt.bin")
    assert read_release_file(word).source_format == "word"


def test_plain_text_with_a_numbered_list_stays_plain_text(tmp_path):
    path = tmp_path / "release.txt"
    path.write_text("Headline\n\nText.\n\n1. One\n2. Two\n\n###\n", encoding="utf-8")
    parsed = read_release_file(path)
    assert parsed.source_format == "text" and parsed.end_marker == "###"


def _corrupt_docx(path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document><not-closed>")
        archive.writestr("[Content_Types].xml", "garbage")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize(("content", "message"), [
    (b"\x7fELF\x02\x01\x01" + bytes(300), "binary file"),
    (bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600), "encrypted"),
    (None, "Word file"),
    (b"PK\x03\x04" + b"garbage" * 10, "damaged zip"),
    ("Headline\n\nCaf\xe9 text.\n".encode("latin-1"), "not UTF-8 (line 3)"),
])
def test_bad_files_get_one_clear_line(tmp_path, content, message):
    path = tmp_path / "release.docx"
    if content is None:
        _corrupt_docx(path)
    else:
        path.write_bytes(content)
    with pytest.raises(ReleaseError) as caught:
        read_release_file(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_huge_file_is_refused(tmp_path, monkeypatch):
    import distribution.releases.formats as formats
    import distribution.releases.parse as parse

    monkeypatch.setattr(parse, "MAX_RELEASE_BYTES", 1000)
    path = tmp_path / "huge.txt"
    path.write_text("Headline\n\n" + "word " * 1000, encoding="utf-8")
    with pytest.raises(ReleaseError, match="larger than a release may be"):
        read_release_file(path)
    monkeypatch.setattr(formats, "MAX_WORD_BYTES", 1000)
    word = _word_release(tmp_path / "big.docx")
    with pytest.raises(ReleaseError, match="larger than a Word release may be"):
        read_release_file(word)


def test_bad_file_through_the_cli_stores_nothing(cli, tmp_path):
    path = _corrupt_docx(tmp_path / "release.docx")
    result = cli("release", "add", str(path))
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert cli.json("release", "list") == []


def test_a_word_file_that_unpacks_to_gigabytes_is_refused(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<" + b" " * (210 * 1024 * 1024))
    with pytest.raises(ReleaseError, match="unpacks to"):
        read_release_file(path)


def test_markup_in_a_release_never_becomes_markup_of_its_own(tmp_path):
    path = tmp_path / "hostile.md"
    path.write_text(
        "# Headline\n\nGENEVA, 3 March 2025 – Text <script>alert(1)</script> with "
        "[a trap](javascript:alert(1)), [a quote](https://ok.example/\"onmouseover=x) and "
        "**<img src=x onerror=alert(1)>**.\n\n| <b>cell</b> | two |\n|---|---|\n| x | y |\n",
        encoding="utf-8")
    _, html = _render(read_release_file(path))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert 'href="javascript' not in html
    assert '"onmouseover' not in html
    assert "&lt;script&gt;" in html
