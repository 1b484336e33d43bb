"""The body format of a parsed release: written here (format_body), read here (read_blocks,
split_blocks), whatever reads it (the renderer, the feed, the correction notes).

Blocks are separated by exactly one blank line. A paragraph is one line (wrapped lines are
joined with a space). A list is one block of "- item" lines, whatever bullets the source used
("•", "-", "*", "–", "1.", ...). Quotes and photo credits are blocks of their own. Text is
kept as written (curly quotes, accents, URLs); only whitespace is normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Paragraph = list[str]  # whitespace-normalised, non-empty source lines

# No em dash: a wrapped line may well start with one ("— and this, she said, ...").
_LIST_ITEM = re.compile(r"(?:[•●▪◦‣·*–-]|\d{1,2}[.)]|\(\d{1,2}\))\s+(?=\S)")
_PHOTO_CREDIT = re.compile(r"©|\(c\)\s|photo(?:\s+credit)?s?\s*:", re.IGNORECASE)
_QUOTE_MARKS = "“”„«»\""


def normalise_line(line: str) -> str:
    """Tabs, non-breaking and repeated spaces become one space; the ends are trimmed."""
    return " ".join(line.split())


def is_list_item(line: str) -> bool:
    return _LIST_ITEM.match(line) is not None


def is_photo_credit(line: str) -> bool:
    return _PHOTO_CREDIT.match(line) is not None


def is_quote(text: str) -> bool:
    """Whether text quotes someone; web copies may lose the opening mark (sample 04)."""
    return text.startswith(("‘", "'")) or any(mark in text for mark in _QUOTE_MARKS)


@dataclass(frozen=True)
class Block:
    """One block as read back: a paragraph or a bullet list."""

    kind: str  # "p" (one paragraph) or "ul" (a bullet list)
    items: tuple[str, ...]  # the paragraph's text, or the list's items
    lead: str | None = None  # the dateline, written before the release's first paragraph

    @property
    def text(self) -> str:
        return " ".join(self.items)


def split_blocks(body: str) -> list[str]:
    """The blocks of a body as written, each as its text."""
    return [block for block in body.replace("\r\n", "\n").split("\n\n") if block.strip()]


def read_blocks(text: str | None) -> tuple[Block, ...]:
    """Paragraphs and bullet lists; a list's lines start with "- ".

    Also reads text typed by an operator (a note, the boilerplate), so lenient: a block
    mixing a lead-in line and bullets becomes a paragraph and a list.
    """
    blocks: list[Block] = []
    for chunk in split_blocks(text or ""):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        for is_item, run in _runs(lines):
            if is_item:
                blocks.append(Block("ul", tuple(line[2:].strip() for line in run)))
            else:
                blocks.append(Block("p", (" ".join(run),)))
    return tuple(blocks)


def _runs(lines: list[str]) -> list[tuple[bool, list[str]]]:
    runs: list[tuple[bool, list[str]]] = []
    for line in lines:
        is_item = line.startswith("- ")
        if runs and runs[-1][0] == is_item:
            runs[-1][1].append(line)
        else:
            runs.append((is_item, [line]))
    return runs


def format_body(paragraphs: list[Paragraph]) -> str:
    """Render paragraphs in the body format."""
    blocks: list[_Block] = []
    for paragraph in paragraphs:
        for block in _blocks(paragraph):
            if block.kind == "list" and blocks and blocks[-1].kind == "list":
                blocks[-1].lines += block.lines  # list items separated by blank lines
            else:
                blocks.append(block)
    return "\n\n".join(block.render() for block in blocks)


@dataclass
class _Block:
    kind: str  # "text", "list" or "credit"
    lines: list[str]

    def render(self) -> str:
        if self.kind == "list":
            return "\n".join(f"- {item}" for item in self.lines)
        return " ".join(self.lines)


def _blocks(paragraph: Paragraph) -> list[_Block]:
    blocks: list[_Block] = []
    for line in paragraph:
        last = blocks[-1] if blocks else None
        item = _LIST_ITEM.match(line)
        if item:
            if last is not None and last.kind == "list":
                last.lines.append(line[item.end():])
            else:
                blocks.append(_Block("list", [line[item.end():]]))
        elif is_photo_credit(line):
            blocks.append(_Block("credit", [line]))
        elif last is not None and last.kind == "list":
            last.lines[-1] += f" {line}"  # a wrapped list item
        elif last is not None and last.kind == "text":
            last.lines.append(line)
        else:
            blocks.append(_Block("text", [line]))
    return blocks
