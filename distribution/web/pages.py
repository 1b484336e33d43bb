"""Rendering the web app's pages and its confirmation email from templates/web."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import escape
from starlette.responses import HTMLResponse

from config import Settings
from distribution.mail.inline import inline_html
from distribution.mail.templates import wrap

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
    return env


@lru_cache(maxsize=4)
def static_file(name: str) -> bytes:
    """A file shipped beside the templates (the stylesheet, the icon)."""
    return resources.files("templates.web").joinpath(name).read_bytes()


class Pages:
    """Renders templates with the organisation's identity available to every page."""

    def __init__(self, settings: Settings) -> None:
        self._globals = {"org_name": settings.org_name, "org_address": settings.org_address}

    def text(self, name: str, context: dict[str, Any]) -> str:
        return environment().get_template(name).render({**self._globals, **context})

    def page(self, name: str, context: dict[str, Any], status: int = 200,
             public: bool = False) -> HTMLResponse:
        headers = None if public else PRIVATE_HEADERS
        return HTMLResponse(self.text(name, context), status_code=status, headers=headers)
