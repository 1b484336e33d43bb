"""Inline markup of release text (**bold**, *italic*, [links](https://...)) as HTML for the
email's HTML part and as plain words for its text part. markdown-it-py reads it, with raw
HTML off: whatever a release says is escaped, never markup of its own."""

from __future__ import annotations

from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

_MD = MarkdownIt("commonmark", {"html": False})
_MARKUP_CHARS = frozenset("*_[`\\<&!")
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_TAGS = {"strong_open": Markup("<strong>"), "strong_close": Markup("</strong>"),
         "em_open": Markup("<em>"), "em_close": Markup("</em>")}


def has_markup(text: str) -> bool:
    return not _MARKUP_CHARS.isdisjoint(text)


def inline_html(text: str, autolink: Callable[[str], Markup]) -> Markup:
    """Escaped HTML of one block's text; bare URLs outside links go through `autolink`."""
    if not has_markup(text):
        return autolink(text)
    out: list[str] = []
    links: list[bool] = []  # whether each open link got an <a> (a safe address)
    for token in _children(text):
        if token.type == "text":
            out.append(escape(token.content) if links else autolink(token.content))
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif token.type == "code_inline":
            out.append(Markup("<code>{}</code>").format(token.content))
        elif token.type in _TAGS:
            out.append(_TAGS[token.type])
        elif token.type == "link_open":
            href = str(token.attrGet("href") or "")
            safe = href.startswith(_SAFE_SCHEMES)
            out.append(Markup('<a href="{}">').format(href) if safe else Markup("<span>"))
            links.append(safe)
        elif token.type == "link_close":
            out.append(Markup("</a>") if links and links.pop() else Markup("</span>"))
        elif token.type == "image":
            out.append(escape(token.content))
    return Markup("").join(out)


def inline_text(text: str) -> str:
    """The words of one block's text, with each link's address after its text."""
    if not has_markup(text):
        return text
    out: list[str] = []
    hrefs: list[str] = []
    start = 0
    for token in _children(text):
        if token.type in ("text", "code_inline", "image"):
            out.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif token.type == "link_open":
            hrefs.append(str(token.attrGet("href") or ""))
            start = len("".join(out))
        elif token.type == "link_close":
            href = hrefs.pop() if hrefs else ""
            if href and "".join(out)[start:].strip() != href.removeprefix("mailto:"):
                out.append(f" ({href.removeprefix('mailto:')})")
    return "".join(out)


def _children(text: str) -> list[Token]:
    tokens = _MD.parseInline(text)
    return list(tokens[0].children or []) if tokens else []
