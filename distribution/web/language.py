"""The language of a page: `?lang=`, else the browser's Accept-Language, else English.

A middleware reads it once per request into a context variable that page rendering reads;
a handler that knows better (a release's version, a subscriber's choice) passes its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from urllib.parse import parse_qs

from babel import negotiate_locale
from starlette.types import ASGIApp, Receive, Scope, Send

from distribution.locales import LANGUAGES

_PAGE_LANGUAGE: ContextVar[str] = ContextVar("page_language", default="en")
_MAX_ACCEPT = 512  # a header longer than any browser's is cut, not parsed at length


def current() -> str:
    return _PAGE_LANGUAGE.get()


def wanted(query_lang: str | None, accept_language: str | None) -> list[str]:
    """The languages a reader asked for, best first: ?lang= then Accept-Language by q."""
    found: list[tuple[float, int, str]] = []
    if query_lang:
        found.append((2.0, 0, query_lang.strip()[:16]))
    for index, item in enumerate((accept_language or "")[:_MAX_ACCEPT].split(",")[:20]):
        code, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if code and code != "*" and quality > 0:
            found.append((quality, index + 1, code.strip()[:16]))
    return [code for _, _, code in sorted(found, key=lambda f: (-f[0], f[1]))]


def choose(preferred: list[str], available: Iterable[str]) -> str | None:
    """The best of `available` for a reader: exact tag, else the same language."""
    options = list(available)
    chosen = negotiate_locale([p.replace("-", "_") for p in preferred],
                              [o.replace("-", "_") for o in options], sep="_")
    if chosen:
        return next(o for o in options if o.replace("-", "_").lower() == chosen.lower())
    for code in preferred:
        primary = code.split("-")[0].split("_")[0].lower()
        match = next((o for o in options if o.split("-")[0].lower() == primary), None)
        if match:
            return match
    return None


class PageLanguage:
    """Sets the page language of each HTTP request from ?lang= and Accept-Language."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        accept = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                       if k == b"accept-language"), None)
        preferred = wanted((query.get("lang") or [None])[0], accept)
        scope.setdefault("state", {})["preferred_languages"] = preferred
        token = _PAGE_LANGUAGE.set(choose(preferred, LANGUAGES) or "en")
        try:
            await self.app(scope, receive, send)
        finally:
            _PAGE_LANGUAGE.reset(token)


def keeping_language(path: str, query_lang: str | None) -> str:
    """A form's action that keeps the page's ?lang= (only a language we have a catalog for),
    so the answer to the form speaks as the form did."""
    code = choose([query_lang], LANGUAGES) if query_lang else None
    return f"{path}?lang={code}" if code else path


def preferred(scope_state: dict[str, object]) -> list[str]:
    value = scope_state.get("preferred_languages")
    return list(value) if isinstance(value, list) else []
