"""What every page handler shares: settings, sessions, the clock, pages, CSRF, limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from config import Settings
from distribution.locales import N_
from distribution.transport import Smtputf8Probe
from distribution.web.pages import Pages
from distribution.web.security import CSRF_FIELD, Csrf, RequestLimiter

Clock = Callable[[], datetime]


@dataclass
class Web:
    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock
    pages: Pages
    csrf: Csrf
    signup_limiter: RequestLimiter
    confirm_max_age_seconds: int
    smtputf8: Smtputf8Probe  # whether sign-ups may give non-ASCII local parts

    def page(self, name: str, context: dict[str, Any], status: int = 200,
             public: bool = False, language: str | None = None) -> HTMLResponse:
        return self.pages.page(name, context, status, public, language)

    def form_page(self, request: Request, name: str, context: dict[str, Any],
                  status: int = 200, language: str | None = None) -> HTMLResponse:
        """A page holding a form: it carries a CSRF token, and the cookie it pairs with."""
        token, new_cookie = self.csrf.issue(request)
        response = self.page(name, {**context, "csrf_token": token}, status,
                             language=language)
        self.csrf.set_cookie(response, new_cookie, request)
        return response

    def check_csrf(self, request: Request, form: FormData) -> None:
        if not self.csrf.valid(request, form.get(CSRF_FIELD)):
            raise HTTPException(403, N_("This form has expired or was not sent from our "
                                        "site. Please reload the page and try again."))


def web(request: Request) -> Web:
    state: Web = request.app.state.web
    return state


def bad_link() -> HTTPException:
    return HTTPException(400, N_("This link is not valid. Please use the link from your "
                                 "email exactly as it was sent."))

