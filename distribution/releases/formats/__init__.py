"""Release files in the formats offices have them: plain text, Markdown and Word (.docx).

The format is chosen by what the file holds, not only by its name: a zip with
word/document.xml is Word, text with Markdown cues (headings, emphasis, links, tables) is
Markdown, other text is plain. Each becomes release text in the body format (see
distribution.releases.bodyformat) for the parser. Input that cannot be a release (binary
data, an encrypted or corrupt Word file, a huge file, an encoding other than UTF-8) is
refused with one line saying why.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from io import BytesIO
from pathlib import Path

from distribution.errors import InvalidInput

MAX_WORD_BYTES = 50 * 1024 * 1024  # Word files carry photos; their text is held to less
MAX_UNZIPPED = 200 * 1024 * 1024  # a Word file that unpacks to more is a zip bomb
_OLE = bytes.fromhex("d0cf11e0a1b11ae1")  # encrypted Office files and old .doc files
_BINARY = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x7fELF", b"MZ")
_MARKDOWN_CUES = re.compile(
    r"(?P<heading>^#{1,6}\s+[^#\s])|(?P<strong>\*\*[^*\n]+\*\*)"
    r"|(?P<link>\[[^\]\n]+\]\([^)\s]+\))|(?P<table>^\|.*\|\s*$)|(?P<fence>^```)"
    r"|(?P<quote>^>\s)|(?P<numbered>^\s*\d+\.\s)",
    re.MULTILINE,
)


class FormatError(InvalidInput, ValueError):
    """A file that cannot be read as a release; the message is one line."""


def release_text(data: bytes, path: Path) -> tuple[str, str]:
    """(release text, format name: "text", "markdown" or "word") of a file's bytes."""
    if len(data) > MAX_WORD_BYTES:
        raise FormatError(f"{path} is larger than a Word release may be "
                          f"({MAX_WORD_BYTES // (1024 * 1024)} MB)")
    if is_word(data):
        return _word(data, path), "word"
    if data.startswith(_OLE):
        raise FormatError(f"{path} is an encrypted Word file or an old .doc; save it as .docx "
                          "without a password")
    text = _decode(data, path)
    if path.suffix.lower() in (".md", ".markdown") or _looks_like_markdown(text):
        from distribution.releases.formats.markdown import markdown_to_release

        return markdown_to_release(text), "markdown"
    return text, "text"


def is_word(data: bytes) -> bool:
    """A zip file: a Word file, or refused as one (the text reader never sees it)."""
    return data.startswith(b"PK\x03\x04")


def _word(data: bytes, path: Path) -> str:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise FormatError(f"{path} is a damaged zip file, not a readable Word file") from None
    if unpacked > MAX_UNZIPPED:
        raise FormatError(f"{path} unpacks to {unpacked // (1024 * 1024)} MB; a Word release "
                          f"may unpack to {MAX_UNZIPPED // (1024 * 1024)} MB at most")
    if "word/document.xml" not in names:
        raise FormatError(f"{path} is a zip archive, not a Word (.docx) file")
    from distribution.releases.formats.word import word_to_release

    return word_to_release(data, path)


def _decode(data: bytes, path: Path) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise FormatError(f"{path} is damaged UTF-16 text") from None
    if data.startswith(_BINARY) or b"\x00" in data[:65536]:
        raise FormatError(f"{path} is a binary file, not a text, Markdown or Word release")
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        line = before.count(b"\n") + 1
        raise FormatError(f"{path} is not UTF-8 (line {line})") from None


def _looks_like_markdown(text: str) -> bool:
    # Two different cues at least: one numbered list or one "**" is not yet Markdown.
    cues = {match.lastgroup for match in _MARKDOWN_CUES.finditer(text[:200_000])}
    return len(cues) >= 2
