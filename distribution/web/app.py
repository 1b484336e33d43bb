"""The Starlette application of `pressroom web`: subscriber pages and the public newsroom."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from http import HTTPStatus

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config import Settings
from distribution.locales import N_
from distribution.transport import Smtputf8Probe
from distribution.web.accesslog import AccessLog
from distribution.web.context import Clock, Web, web
from distribution.web.language import PageLanguage
from distribution.web.newsroom import archive as newsroom
from distribution.web.newsroom import feed
from distribution.web.newsroom import media as newsroom_media
from distribution.web.pages import Pages, static_file
from distribution.web.security import CanonicalSlashes, Csrf, RequestLimiter, SecurityHeaders
from distribution.web.subscribers import confirm, preferences, subscribe, unsubscribe

SIGNUPS_PER_MINUTE = 5
CONFIRM_MAX_AGE_SECONDS = 7 * 24 * 3600

# Marked for the catalogs; error.html.j2 shows them in the page's language.
_TITLES = {400: N_("Link not valid"), 403: N_("Form expired"), 404: N_("Page not found"),
           405: N_("Not allowed"), 410: N_("Link expired"), 413: N_("Too large")}
_DEFAULT_MESSAGE = N_("There is nothing here. Please check the address.")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings, session_factory: sessionmaker[Session],
               clock: Clock = _utcnow, *, signup_limiter: RequestLimiter | None = None,
               confirm_max_age_seconds: int = CONFIRM_MAX_AGE_SECONDS) -> Starlette:
    """The web app. `clock` decides what the newsroom shows and when links expire."""
    routes = [*newsroom.routes, *feed.routes, *newsroom_media.routes, *unsubscribe.routes,
              *subscribe.routes,
              *confirm.routes, *preferences.routes,
              Route("/static/style.css", _static("style.css", "text/css"), methods=["GET"]),
              Route("/static/icon.svg", _static("icon.svg", "image/svg+xml"), methods=["GET"]),
              Route("/favicon.ico", _static("icon.svg", "image/svg+xml"), methods=["GET"])]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(AccessLog), Middleware(SecurityHeaders),
                    Middleware(CanonicalSlashes, base_url=settings.base_url),
                    Middleware(PageLanguage)],
        exception_handlers={HTTPException: _error_page},
    )
    app.router.redirect_slashes = False  # CanonicalSlashes does it, at the public address
    app.state.web = Web(
        settings=settings, sessions=session_factory, clock=clock, pages=Pages(settings),
        csrf=Csrf(settings),
        signup_limiter=signup_limiter or RequestLimiter(SIGNUPS_PER_MINUTE, 60),
        confirm_max_age_seconds=confirm_max_age_seconds,
        smtputf8=Smtputf8Probe(settings.smtp_url, keep=600),
    )
    return app


def _static(name: str, media_type: str) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        return Response(static_file(name), media_type=media_type,
                        headers={"Cache-Control": "public, max-age=3600"})
    return serve


async def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    # Our own details are written for people; Starlette's default ("Not Found") is not.
    message = _DEFAULT_MESSAGE if exc.detail == HTTPStatus(status).phrase else exc.detail
    response = web(request).page("error.html.j2", {
        "title": _TITLES.get(status, N_("Error")), "message": message}, status=status)
    if exc.headers:
        response.headers.update(exc.headers)
    return response
