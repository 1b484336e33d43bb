"""Markdown release files (markdown-it-py) as release text in the body format.

The first top-level heading is the headline; other headings stay headings ("## About us"),
which the parser reads for the boilerplate; lists keep their bullets or numbers, quotes and
tables their shape; inline markup (**bold**, *italic*, [links](...)) is kept as written.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

_MD = MarkdownIt("commonmark", {"html": False}).enable("table")
_WHOLE_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?P<text>[^*_\n]+)\1")


def markdown_to_release(text: str) -> str:
    front, body = _split_front_matter(text)
    blocks = _Blocks()
    for token in _MD.parse(body):
        blocks.take(token)
    return front + "\n\n".join(blocks.done()) + "\n"


def _split_front_matter(text: str) -> tuple[str, str]:
    """Pressroom's own `key: value` front matter passes through untouched."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].rstrip() == "---":
        for index, line in enumerate(lines[1:], start=1):
            if line.rstrip() == "---":
                return "\n".join(lines[: index + 1]) + "\n", "\n".join(lines[index + 1:])
    return "", text


class _Blocks:
    """Walks the block tokens and writes one body-format block for each."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.lists: list[list[int]] = []  # for each open list: [next number] or [] (bullets)
        self.quote = 0
        self.heading = 0
        self.row: list[str] | None = None
        self.table: list[str] = []
        self.headline_taken = False

    def take(self, token: Token) -> None:
        kind = token.type
        if kind == "heading_open":
            self.heading = int(token.tag[1])
        elif kind == "bullet_list_open":
            self.lists.append([])
        elif kind == "ordered_list_open":
            self.lists.append([int(token.attrGet("start") or 1)])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
        elif kind == "blockquote_open":
            self.quote += 1
        elif kind == "blockquote_close":
            self.quote -= 1
        elif kind == "tr_open":
            self.row = []
        elif kind == "tr_close" and self.row is not None:
            self.table.append("| " + " | ".join(self.row) + " |")
            self.row = None
        elif kind == "table_close":
            self.blocks.append("\n".join(self.table))
            self.table = []
        elif kind == "inline":
            self._inline(token)
        elif kind in ("fence", "code_block"):
            self.blocks.append(" ".join(token.content.split()))
        elif kind == "hr" and token.markup.replace(" ", "") == "***":
            self.blocks.append("***")  # "***" closes many releases

    def done(self) -> list[str]:
        return [block for block in self.blocks if block.strip()]

    def _inline(self, token: Token) -> None:
        text = " ".join(token.content.replace("|", "/").split()) if self.row is not None else (
            " ".join(token.content.split()))
        if self.row is not None:
            self.row.append(text)
        elif self.heading:
            self._heading(text)
        elif self.lists:
            self._item(text)
        elif self.quote:
            self.blocks.append(f"> {text}")
        else:
            whole = _WHOLE_EMPHASIS.fullmatch(text)
            # A paragraph set wholly in bold is a heading in all but name ("**About us**").
            self.blocks.append(whole["text"] if whole and len(text) <= 100 else text)

    def _heading(self, text: str) -> None:
        level, self.heading = self.heading, 0
        if level == 1 and not self.headline_taken:
            self.headline_taken = True
            self.blocks.append(text)
        else:
            self.blocks.append(f"{'#' * max(2, level)} {text}")

    def _item(self, text: str) -> None:
        numbers = self.lists[-1]
        if numbers:
            line = f"{numbers[0]}. {text}"
            numbers[0] += 1
        else:
            line = f"- {text}"
        if self.blocks and _is_item(self.blocks[-1].split("\n")[-1]):
            self.blocks[-1] += f"\n{line}"
        else:
            self.blocks.append(line)


def _is_item(line: str) -> bool:
    return line.startswith("- ") or bool(re.match(r"\d{1,3}\. ", line))
