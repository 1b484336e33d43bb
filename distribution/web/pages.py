"""Rendering the web app's pages and its confirmation email from templates/web."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
from babel.numbers import format_decimal
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from config import Settings
from distribution import locales
from distribution.mail.inline import inline_html
from distribution.mail.templates import wrap
from distribution.web.language import current as page_language

# Pages about one person (token pages) must not be kept by shared caches or indexed.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("templates", "web"),
        # Escape everything except the plain-text email body.
        autoescape=jinja2.select_autoescape(enabled_extensions=(),
                                            disabled_extensions=("txt.j2",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The confirmation email's text part is wrapped as a release's is.
    env.filters["wrap"] = wrap
    # Release text may carry **bold**, *italic* and [links](...): shown, escaped, as HTML.
    env.filters["rich"] = lambda text: inline_html(text, escape)
    env.filters.update(bdi=bdi, strong=strong, isolate=isolate, number=number)
    locales.install(env)
    return env


def bdi(text: str) -> Markup:
    """A run of text whose direction is its own (a name, a list): isolated in the page."""
    return Markup("<bdi>{}</bdi>").format(text)


def strong(text: str) -> Markup:
    return Markup("<strong><bdi>{}</bdi></strong>").format(text)


@jinja2.pass_context
def isolate(context: jinja2.runtime.Context, text: str) -> str:
    """The plain-text <bdi>: FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE, in RTL text."""
    return f"\u2068{text}\u2069" if context.get("dir") == "rtl" and text else text


@jinja2.pass_context
def number(context: jinja2.runtime.Context, value: int) -> str:
    return format_decimal(value, locale=locales.babel_locale(context.get("lang")))


@lru_cache(maxsize=4)
def static_file(name: str) -> bytes:
    """A file shipped beside the templates (the stylesheet, the icon)."""
    return resources.files("templates.web").joinpath(name).read_bytes()


class Pages:
    """Renders templates with the organisation's identity available to every page."""

    def __init__(self, settings: Settings) -> None:
        self._globals = {"org_name": settings.org_name, "org_address": settings.org_address}

    def text(self, name: str, context: dict[str, Any], language: str | None = None) -> str:
        """The template in `language` (else the request's, see web.language)."""
        code = language or page_language()
        wording = {**locales.template_callables(code), "lang": code,
                   "dir": locales.direction(code)}
        return environment().get_template(name).render({**self._globals, **wording, **context})

    def page(self, name: str, context: dict[str, Any], status: int = 200,
             public: bool = False, language: str | None = None) -> HTMLResponse:
        headers = dict(PRIVATE_HEADERS) if not public else {}
        headers["Content-Language"] = language or page_language()
        headers["Vary"] = "Accept-Language"
        return HTMLResponse(self.text(name, context, language), status_code=status,
                            headers=headers)
