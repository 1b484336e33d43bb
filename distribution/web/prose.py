"""A release body (distribution.bodyformat) read back into blocks for an HTML page."""

from __future__ import annotations

from dataclasses import dataclass

from distribution.bodyformat import is_photo_credit

_ITEM = "- "


@dataclass(frozen=True)
class Block:
    kind: str  # "paragraph", "credit" (a photo credit) or "list"
    lines: tuple[str, ...]  # one line, or the items of a list


def blocks(body: str | None) -> list[Block]:
    """Blocks are separated by blank lines; a block of "- item" lines is a list."""
    result = []
    for chunk in (body or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith(_ITEM) for line in lines):
            result.append(Block("list", tuple(line[len(_ITEM):] for line in lines)))
        else:
            text = " ".join(lines)
            kind = "credit" if is_photo_credit(text) else "paragraph"
            result.append(Block(kind, (text,)))
    return result
