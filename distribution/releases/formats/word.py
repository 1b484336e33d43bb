"""Word (.docx) release files (python-docx) as release text in the body format.

Word's styles carry meaning: Title is the headline, Subtitle the subheadline, Heading 1-3 are
headings ("## About us", read by the parser for the boilerplate), Quote a block quote, list
styles and numbering bullets or numbers (kept as numbers). Bold, italic and hyperlinks
become **bold**, *italic* and [text](address); tables keep their rows and cells.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path
from typing import Any

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from distribution.errors import InvalidInput

_HEADING = re.compile(r"heading\s*(\d)", re.IGNORECASE)
_NS = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}


def word_to_release(data: bytes, path: Path) -> str:
    try:
        document = docx.Document(BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, OSError, SyntaxError) as exc:
        raise InvalidInput(f"{path} is not a readable Word file ({type(exc).__name__})") from None
    except Exception as exc:  # lxml and zip errors of a damaged file take many forms
        raise InvalidInput(f"{path} is a damaged Word file ({type(exc).__name__})") from None
    writer = _Writer(_numbering_formats(document), _style_names(document))
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            writer.table(item)
        else:
            writer.paragraph(item)
    return "\n\n".join(block for block in writer.blocks if block.strip()) + "\n"


class _Writer:
    def __init__(self, formats: dict[tuple[str, str], str], styles: dict[str, str]) -> None:
        self.blocks: list[str] = []
        self.styles = styles  # style id -> name
        self.formats = formats  # (numId, ilvl) -> "bullet", "decimal", ...
        self.counters: dict[tuple[str, str], int] = {}
        self.list_open = False

    def paragraph(self, paragraph: Paragraph) -> None:
        text = _inline(paragraph)
        if not text:
            self.list_open = False
            return
        style = self._style(paragraph)
        kind = self._list_kind(paragraph, style)
        if kind is not None:
            self._item(kind, paragraph, text)
            return
        self.list_open = False
        plain = _plain(paragraph)
        if style == "Title" or style == "Subtitle":
            self.blocks.append(plain)
        elif heading := _HEADING.match(style):
            self.blocks.append(f"{'#' * (int(heading[1]) + 1)} {plain}")
        elif style in ("Quote", "Intense Quote"):
            self.blocks.append(f"> {text}")
        elif _wholly_bold(paragraph) and len(plain) <= 100:
            self.blocks.append(plain)  # a line set in bold is a heading in all but name
        else:
            self.blocks.append(text)

    def _style(self, paragraph: Paragraph) -> str:
        # paragraph.style looks the default style up among all styles each time: 5 ms a
        # paragraph, seconds for a long release. The id is read here and named once.
        found = paragraph._p.find("w:pPr/w:pStyle", _NS)
        return self.styles.get(_val(found) or "", "") if found is not None else ""

    def table(self, table: Table) -> None:
        rows = []
        for row in table.rows:
            cells = [" ".join(cell.text.replace("|", "/").split()) for cell in row.cells]
            rows.append("| " + " | ".join(cells) + " |")
        self.list_open = False
        if rows:
            self.blocks.append("\n".join(rows))

    def _list_kind(self, paragraph: Paragraph, style: str) -> tuple[str, str] | None:
        """("bullet" or "number", counter key) for a list paragraph, else None."""
        if style.startswith("List Bullet"):
            return "bullet", style
        if style.startswith("List Number"):
            return "number", style
        numbering = paragraph._p.find("w:pPr/w:numPr", _NS)
        if numbering is None:
            return None
        num_id = _val(numbering.find("w:numId", _NS)) or "0"
        level = _val(numbering.find("w:ilvl", _NS)) or "0"
        found = self.formats.get((num_id, level), "bullet")
        return ("bullet" if found in ("bullet", "none") else "number"), f"{num_id}/{level}"

    def _item(self, kind: tuple[str, str], paragraph: Paragraph, text: str) -> None:
        mark, key = kind
        if mark == "number":
            number = self.counters.get((key, ""), 0) + 1
            self.counters[(key, "")] = number
            line = f"{number}. {text}"
        else:
            line = f"- {text}"
        if self.list_open and self.blocks:
            self.blocks[-1] += f"\n{line}"
        else:
            self.blocks.append(line)
        self.list_open = True


def _inline(paragraph: Paragraph) -> str:
    """The paragraph's text with its bold, italic and links as inline markup."""
    parts: list[str] = []
    for item in paragraph.iter_inner_content():
        if isinstance(item, Hyperlink):
            words = " ".join(item.text.split())
            address = item.url or ""
            if address.startswith(("http://", "https://", "mailto:")) and words:
                parts.append(f"[{words}]({address.replace(')', '%29')})")
            else:
                parts.append(words)
        elif isinstance(item, Run):
            parts.append(_run(item))
    return " ".join("".join(parts).split())


def _run(run: Run) -> str:
    text = run.text
    if not text.strip():
        return text
    marks = ("**" if run.bold else "") + ("*" if run.italic else "")
    if not marks:
        return text
    # Emphasis must hug its words: "**Geneva **" is not bold in Markdown, "**Geneva** " is.
    lead, core, trail = re.match(r"(\s*)(.*?)(\s*)$", text, re.DOTALL).groups()  # type: ignore[union-attr]
    return f"{lead}{marks}{core}{marks[::-1]}{trail}"


def _plain(paragraph: Paragraph) -> str:
    return " ".join(paragraph.text.split())


def _wholly_bold(paragraph: Paragraph) -> bool:
    runs = [run for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(run.bold for run in runs)


def _val(element: Any) -> str | None:
    if element is None:
        return None
    return element.get(f"{{{_NS['w']}}}val")


def _style_names(document: Any) -> dict[str, str]:
    return {style.style_id: style.name or "" for style in document.styles}


def _numbering_formats(document: Any) -> dict[tuple[str, str], str]:
    """(numId, level) -> numFmt ("bullet", "decimal", ...) from the numbering part."""
    try:
        root = document.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return {}
    abstract: dict[str, dict[str, str]] = {}
    for definition in root.findall("w:abstractNum", _NS):
        levels = {_val(level.find("w:numFmt", _NS)) and level.get(f"{{{_NS['w']}}}ilvl") or "":
                  _val(level.find("w:numFmt", _NS)) or "bullet"
                  for level in definition.findall("w:lvl", _NS)}
        abstract[definition.get(f"{{{_NS['w']}}}abstractNumId") or ""] = levels
    formats: dict[tuple[str, str], str] = {}
    for num in root.findall("w:num", _NS):
        levels = abstract.get(_val(num.find("w:abstractNumId", _NS)) or "", {})
        for level, fmt in levels.items():
            formats[(num.get(f"{{{_NS['w']}}}numId") or "", level)] = fmt
    return formats
