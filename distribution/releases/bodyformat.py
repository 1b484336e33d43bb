"""The body format of a parsed release: written here (format_body), read here (read_blocks,
split_blocks), whatever reads it (the renderer, the feed, the correction notes).

Blocks are separated by exactly one blank line:
- a paragraph is one line (wrapped lines are joined with a space);
- a bullet list is a block of "- item" lines, whatever bullets the source used ("•", "*",
  "–", ...); a numbered list a block of "1. item" lines, with the numbers as written;
- a heading is "## text" ("###" for a sub-heading);
- a block quote is "> text";
- a table is a block of "| cell | cell |" lines, the first of them the header;
- quotes and photo credits written as paragraphs are blocks of their own.
Inside a block, **bold**, *italic* and [links](https://...) may appear (from Word and
Markdown files). Text is kept as written (curly quotes, accents, URLs); only whitespace is
normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# C0 and C1 controls but tab and line ends, DEL, and the two noncharacters XML refuses: no
# stored text keeps them (a feed with one is not well-formed, a terminal acts on them,
# PostgreSQL refuses NUL). Here, not in the parser: code that checks a caption need not
# load the parser, whose dateline patterns take a tenth of a second to compile.
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")

Paragraph = list[str]  # whitespace-normalised, non-empty source lines

# No em dash: a wrapped line may well start with one ("— and this, she said, ...").
_BULLET = re.compile(r"(?:[•●▪◦‣·*–-])\s+(?=\S)")
_NUMBER = re.compile(r"(?:(?P<n>\d{1,3})[.)]|\((?P<p>\d{1,3})\))\s+(?=\S)")
_HEADING = re.compile(r"(?P<marks>#{1,6})\s+(?=\S)")
_QUOTE = re.compile(r">\s*(?=\S)")
_TABLE_ROW = re.compile(r"\|.*\|")
_PHOTO_CREDIT = re.compile(r"©|\(c\)\s|photo(?:\s+credit)?s?\s*:", re.IGNORECASE)
_QUOTE_MARKS = "“”„«»\""


def normalise_line(line: str) -> str:
    """Tabs, non-breaking and repeated spaces become one space; the ends are trimmed."""
    return " ".join(line.split())


def is_list_item(line: str) -> bool:
    return _BULLET.match(line) is not None or _NUMBER.match(line) is not None


def is_photo_credit(line: str) -> bool:
    return _PHOTO_CREDIT.match(line) is not None


def is_quote(text: str) -> bool:
    """Whether text quotes someone; web copies may lose the opening mark (sample 04)."""
    return text.startswith(("‘", "'")) or any(mark in text for mark in _QUOTE_MARKS)


def is_pull_quote(text: str) -> bool:
    """Whether text is a quotation set apart (the quote runs to its end, or to a short
    attribution: `... never again.” Fadwa Mahmud`), not prose that quotes a phrase."""
    if not is_quote(text):
        return False
    closing = max(text.rfind(mark) for mark in _QUOTE_MARKS)
    return closing >= 0 and len(text[closing + 1:].split()) <= 5


# Word and Markdown files set labels in bold: "**GENEVA, 3 March 2025** – The ...",
# "**Media contact:** Jane Doe".
_LEADING_EMPHASIS = re.compile(r"(\*\*|\*|__)(?P<inner>[^*_]+?)\1")


def without_leading_emphasis(line: str) -> str:
    """ "**Media contact:** Jane" -> "Media contact: Jane"; other lines unchanged."""
    match = _LEADING_EMPHASIS.match(line)
    return line if match is None else match["inner"] + line[match.end():]


def heading_text(line: str) -> str:
    """ "## About us" -> "About us"; other lines unchanged."""
    match = _HEADING.match(line)
    return line[match.end():] if match else line


@dataclass(frozen=True)
class Block:
    """One block as read back."""

    # "p" (a paragraph), "ul" (a bullet list), "ol" (a numbered list), "h2"/"h3" (a heading),
    # "quote" (a block quote) or "table"
    kind: str
    items: tuple[str, ...]  # the paragraph's text, or the list's items
    lead: str | None = None  # the dateline, written before the release's first paragraph
    numbers: tuple[int, ...] = ()  # an "ol" list's numbers, as written
    rows: tuple[tuple[str, ...], ...] = ()  # a table's cells, the header row first

    @property
    def text(self) -> str:
        return " ".join(self.items)


def split_blocks(body: str) -> list[str]:
    """The blocks of a body as written, each as its text."""
    return [block for block in body.replace("\r\n", "\n").split("\n\n") if block.strip()]


def read_blocks(text: str | None) -> tuple[Block, ...]:
    """The blocks of a body as written: paragraphs, lists, headings, quotes, tables.

    Also reads text typed by an operator (a note, the boilerplate), so lenient.
    """
    blocks: list[Block] = []
    for chunk in split_blocks(text or ""):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        # Lenient: a chunk mixing a lead-in line and bullets becomes a paragraph and a list.
        for kind, run in _runs(lines):
            blocks.append(_block(kind, run))
    return tuple(blocks)


_READ_NUMBERED = re.compile(r"(\d{1,3})\.\s+")
_READ_HEADING = re.compile(r"(#{2,6})\s+")


def _read_kind(line: str) -> str:
    if line.startswith("- "):
        return "ul"
    if _READ_NUMBERED.match(line):
        return "ol"
    if _READ_HEADING.match(line):
        return "h"
    if line.startswith(">"):
        return "quote"
    if len(line) > 1 and line.startswith("|") and line.endswith("|"):
        return "table"
    return "p"


def _block(kind: str, run: list[str]) -> Block:
    if kind == "ul":
        return Block("ul", tuple(line[2:].strip() for line in run))
    if kind == "ol":
        matches = [(_READ_NUMBERED.match(line), line) for line in run]
        return Block("ol", tuple(line[m.end():] for m, line in matches if m),
                     numbers=tuple(int(m[1]) for m, _ in matches if m))
    if kind == "h":
        match = _READ_HEADING.match(run[0])
        level = min(len(match[1]), 3) if match else 2
        return Block(f"h{level}", (" ".join(run)[match.end() if match else 0:],))
    if kind == "quote":
        return Block("quote", (" ".join(line.lstrip(">").strip() for line in run),))
    if kind == "table":
        rows = [tuple(cell.strip() for cell in line.strip("|").split("|")) for line in run]
        rows = [row for row in rows if not all(set(cell) <= set("-: ") for cell in row)]
        return Block("table", (), rows=tuple(rows))
    return Block("p", (" ".join(run),))


def _runs(lines: list[str]) -> list[tuple[str, list[str]]]:
    runs: list[tuple[str, list[str]]] = []
    for line in lines:
        kind = _read_kind(line)
        if runs and runs[-1][0] == kind and kind != "h":
            runs[-1][1].append(line)
        else:
            runs.append((kind, [line]))
    return runs




def format_body(paragraphs: list[Paragraph]) -> str:
    """Render paragraphs in the body format."""
    blocks: list[_Block] = []
    for paragraph in paragraphs:
        for block in _blocks(paragraph):
            last = blocks[-1] if blocks else None
            if block.kind in ("list", "olist") and last is not None and last.kind == block.kind:
                last.lines += block.lines  # list items separated by blank lines
            else:
                blocks.append(block)
    return "\n\n".join(block.render() for block in blocks)


@dataclass
class _Block:
    kind: str  # "text", "list", "olist", "heading", "quote", "table" or "credit"
    lines: list[str]

    def render(self) -> str:
        if self.kind == "list":
            return "\n".join(f"- {item}" for item in self.lines)
        if self.kind in ("olist", "table", "heading"):
            return "\n".join(self.lines)
        if self.kind == "quote":
            return "> " + " ".join(self.lines)
        return " ".join(self.lines)


def _blocks(paragraph: Paragraph) -> list[_Block]:
    blocks: list[_Block] = []
    for line in paragraph:
        last = blocks[-1] if blocks else None
        kind, text = _line_kind(line)
        if kind in ("list", "olist", "table", "quote") and last is not None and last.kind == kind:
            last.lines.append(text)
        elif kind != "text":
            blocks.append(_Block(kind, [text]))
        elif last is not None and last.kind in ("list", "olist", "quote"):
            last.lines[-1] += f" {line}"  # a wrapped list item or quote
        elif last is not None and last.kind == "text":
            last.lines.append(line)
        else:
            blocks.append(_Block("text", [line]))
    return blocks


def _line_kind(line: str) -> tuple[str, str]:
    """The kind of block a line belongs to, and the text it contributes to it."""
    if (heading := _HEADING.match(line)) and line.replace("#", "").strip():
        return "heading", f"{'#' * max(2, len(heading['marks']))} {line[heading.end():]}"
    if bullet := _BULLET.match(line):
        return "list", line[bullet.end():]
    if number := _NUMBER.match(line):
        return "olist", f"{number['n'] or number['p']}. {line[number.end():]}"
    if _TABLE_ROW.fullmatch(line):
        return "table", line
    if quote := _QUOTE.match(line):
        return "quote", line[quote.end():]
    if is_photo_credit(line):
        return "credit", line
    return "text", line
