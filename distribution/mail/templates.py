"""The email templates: where they are found, the filters they use, CSS inlining.

A site's own folder (settings.templates_dir) is searched first, so it may override any
template; the shipped ones (package `templates.email`) come next.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import css_inline
import jinja2
from markupsafe import Markup, escape

from config import ConfigError, Settings
from distribution import locales
from distribution.mail.inline import inline_html, inline_text
from distribution.releases.bodyformat import Block

TEXT_WIDTH = 72
_URL = re.compile(r"https?://[^\s<>\"]+")
_TRAILING = ".,;:!?'\"’”"
# No remote stylesheets: rendering is pure, it never touches the network.
_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def load_templates(settings: Settings) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if settings.templates_dir:
        folder = Path(settings.templates_dir).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"templates_dir {folder} is not a folder")
        if not os.access(folder, os.R_OK | os.X_OK):  # else Jinja skips it without a word
            raise ConfigError(f"templates_dir {folder} cannot be read by this user")
        loaders.append(jinja2.FileSystemLoader(folder))
    loaders.append(jinja2.PackageLoader("templates", "email"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=False),
        undefined=jinja2.StrictUndefined,  # a typo in a site's template fails loudly
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(wrap=wrap, text_block=_directed_text_block, autolink=autolink,
                       isolate=isolate, bdi=bdi, bullet=bullet, rich=rich)
    locales.install(env)
    return env


@jinja2.pass_context
def isolate(context: jinja2.runtime.Context, text: str) -> str:
    """A left-to-right run (phone, address, list name) kept whole in a right-to-left text:
    between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE, as <bdi> does in HTML.

    The HTML uses it too where the run touches punctuation (a list name in quotation
    marks, a name before a comma): spam filters read a tag between a letter and a mark
    such as « or ، as a word split to hide it (SpamAssassin's HTML_OBFUSCATE)."""
    release = context.get("release")
    if getattr(release, "direction", "ltr") != "rtl" or not text:
        return text
    return f"\u2068{text}\u2069"


@jinja2.pass_context
def _directed_text_block(context: jinja2.runtime.Context, block: Block,
                         width: int = TEXT_WIDTH) -> str:
    """text_block; in a right-to-left copy, each URL kept whole between isolates."""
    text = text_block(block, width)
    if getattr(context.get("release"), "direction", "ltr") != "rtl":
        return text
    return _URL.sub(lambda m: f"\u2068{_trim_url(m.group())}\u2069"
                    f"{m.group()[len(_trim_url(m.group())):]}", text)


def bdi(text: str) -> Markup:
    return Markup("<bdi>{}</bdi>").format(text)


def inline_css(html: str) -> str:
    """Move the <style> rules into style attributes: many clients drop <style>."""
    return _INLINER.inline(html)


def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "") -> str:
    """Plain-text wrapping that never breaks a URL or a hyphenated word."""
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def bullet(text: str, width: int = TEXT_WIDTH) -> str:
    """One list item: "- " before its first line, its other lines indented under it."""
    return textwrap.fill(text, width=width, initial_indent="- ", subsequent_indent="  ",
                         break_long_words=False, break_on_hyphens=False)


def text_block(block: Block, width: int = TEXT_WIDTH) -> str:
    """A block as plain text, wrapped: paragraph (with the dateline before it), lists with
    their bullets or numbers, a heading, a quote ("> "), a table in aligned columns."""
    if block.kind in ("ul", "ol"):
        marks = ([f"{n}. " for n in block.numbers] if block.kind == "ol"
                 else ["- "] * len(block.items))
        return "\n".join(
            textwrap.fill(inline_text(item), width=width, initial_indent=mark,
                          subsequent_indent=" " * len(mark), break_long_words=False,
                          break_on_hyphens=False)
            for mark, item in zip(marks, block.items, strict=False))
    if block.kind == "quote":
        return wrap(inline_text(block.text), width, indent="> ")
    if block.kind == "table":
        return _text_table(block.rows)
    if block.kind in ("h2", "h3"):
        heading = inline_text(block.text)
        return f"{heading}\n{('=' if block.kind == 'h2' else '-') * min(len(heading), width)}"
    text = inline_text(block.text)
    text = f"{block.lead} – {text}" if block.lead else text
    return wrap(text.strip(), width)


def _text_table(rows: tuple[tuple[str, ...], ...]) -> str:
    cells = [[inline_text(cell) for cell in row] for row in rows]
    count = max((len(row) for row in cells), default=0)
    widths = [max((len(row[i]) for row in cells if i < len(row)), default=0) for i in range(count)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
             for row in cells]
    if len(lines) > 1:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def rich(text: str) -> Markup:
    """A block's text as HTML: inline markup, escaping, and bare URLs as links."""
    return inline_html(text, autolink)


def autolink(text: str) -> Markup:
    """Escaped text with its http(s) URLs as links."""
    out: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = _trim_url(match.group())
        out.append(escape(text[position:match.start()]))
        out.append(Markup('<a href="{0}" dir="ltr">{0}</a>').format(url))
        position = match.start() + len(url)
    out.append(escape(text[position:]))
    return Markup("").join(out)


def _trim_url(url: str) -> str:
    """Drop sentence punctuation after a URL, and a ")" that closes the sentence's "("."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url
