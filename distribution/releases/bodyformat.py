"""The body format of a parsed release, which the renderer relies on.

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


def is_pull_quote(text: str) -> bool:
    """Whether text is a quotation set apart (the quote runs to its end, or to a short
    attribution: `... never again.” Fadwa Mahmud`), not prose that quotes a phrase."""
    if not is_quote(text):
        return False
    closing = max(text.rfind(mark) for mark in _QUOTE_MARKS)
    return closing >= 0 and len(text[closing + 1:].split()) <= 5


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
