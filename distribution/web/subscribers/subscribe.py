"""`/subscribe/{list_name}`: the public sign-up form of an open list (double opt-in).

A valid sign-up always gets the same answer, "check your inbox", whether the address is
new, pending, subscribed or suppressed, and at once: the confirmation email is sent after
the answer, so neither the page nor its timing tells who is on a list or what the relay
thought of the address. The form is CSRF protected and rate limited per client address; a
mailbox gets at most one confirmation email per ten minutes, whoever submits it, and all
of them together at most `confirmations_per_hour`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribution.audience import membership
from distribution.locales import N_
from distribution.mail import tokens
from distribution.store.models import MailingList
from distribution.web.context import Web, web
from distribution.web.language import current as page_language
from distribution.web.language import keeping_language
from distribution.web.security import client_ip
from distribution.web.subscribers.confirm_mail import send_confirmation
from distribution.web.subscribers.forms import (
    CONSENT_VERSION,
    LANGUAGES,
    Signup,
    consent_text,
    read_form,
    read_signup,
)


@dataclass(frozen=True)
class OpenList:
    id: int
    name: str  # the slug, in the page's address
    description: str | None
    title: str | None = None

    @property
    def shown(self) -> str:
        """What the public reads: the list's title, else its name."""
        return self.title or self.name


@dataclass(frozen=True)
class Pending:
    contact_id: int
    send: bool  # False: suppressed for good, or emailed minutes ago (the page is the same)


def _open_list(w: Web, name: str) -> OpenList:
    with w.sessions() as session:
        found = session.scalar(select(MailingList).where(
            MailingList.name == name, MailingList.open_signup.is_(True)))
        if found is None:
            raise HTTPException(404)  # a closed list looks exactly like a missing one
        return OpenList(found.id, found.name, found.description, found.title)


def _open_lists(w: Web) -> list[dict[str, str | None]]:
    """Every list open to sign-up, as the public index shows it (name, description, form)."""
    with w.sessions() as session:
        found = session.scalars(select(MailingList).where(MailingList.open_signup.is_(True))
                                .order_by(MailingList.name))
        return [{"name": m.title or m.name, "description": m.description,
                 "path": "/subscribe/" + quote(m.name, safe="")} for m in found]


async def index(request: Request) -> Response:
    w = web(request)
    lists = await run_in_threadpool(_open_lists, w)
    return w.page("subscribe_lists.html.j2", {"lists": lists})


def _record(w: Web, open_list: OpenList, signup: Signup) -> Pending:
    with w.sessions() as session, session.begin():
        if membership.forgotten(session, signup.email):
            return Pending(0, False)  # erased at their request: nothing of it is stored again
        contact = membership.contact_for_signup(session, signup.email, signup.name,
                                                signup.language)
        mailing_list = session.get_one(MailingList, open_list.id)
        send = membership.request_subscription(
            session, contact, mailing_list, form=f"web:/subscribe/{open_list.name}",
            wording=CONSENT_VERSION, now=w.clock(),
            hourly_cap=w.settings.confirmations_per_hour)
        return Pending(contact.id, send)


def _context(w: Web, open_list: OpenList, values: dict[str, str] | None = None,
             errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"list": open_list, "languages": LANGUAGES, "values": values or {},
            "errors": errors or {}, "consent": consent_text(w.settings.org_name, open_list.shown),
            "action": keeping_language("/subscribe/" + quote(open_list.name, safe=""),
                                       page_language())}


async def show(request: Request) -> Response:
    w = web(request)
    open_list = await run_in_threadpool(_open_list, w, request.path_params["list_name"])
    return w.form_page(request, "subscribe.html.j2", _context(w, open_list))


async def submit(request: Request) -> Response:
    w = web(request)
    open_list = await run_in_threadpool(_open_list, w, request.path_params["list_name"])
    form = await read_form(request)
    w.check_csrf(request, form)
    signup, errors = await run_in_threadpool(read_signup, form, w.smtputf8)
    if signup is None:
        values = {k: v for k in ("email", "name", "language")
                  if isinstance(v := form.get(k), str)}
        return w.form_page(request, "subscribe.html.j2",
                           _context(w, open_list, values, errors), status=400)
    # Counted only now: junk POSTs (no token, no valid address) use up no one's quota.
    ip = client_ip(request)
    if not w.signup_limiter.allow(ip):
        response = w.page("error.html.j2", {
            "title": N_("Too many attempts"),
            "message": N_("Too many sign-ups from your network. Please wait a minute and "
                          "try again.")}, status=429)
        response.headers["Retry-After"] = str(w.signup_limiter.retry_after(ip))
        return response
    pending = await run_in_threadpool(_record, w, open_list, signup)
    # The same page, at once, whether or not an email goes: it tells no one what the list
    # holds, and the relay's answer (slow, or refusing the address) is not waited for.
    response = w.page("subscribe_sent.html.j2", {"list": open_list})
    if pending.send:
        request_ = tokens.SignupRequest(pending.contact_id, open_list.id,
                                        name=signup.name, language=signup.language)
        response.background = BackgroundTask(_mail, w, signup.email, open_list.shown, request_)
    return response


def _mail(w: Web, to: str, list_name: str, signup: tokens.SignupRequest) -> None:
    """Send the confirmation after the answer; only a sent one counts against the address
    (a failure is logged, and the visitor may simply sign up again)."""
    now = w.clock()
    if send_confirmation(w.settings, w.pages, to, list_name, signup, now,
                         w.confirm_max_age_seconds // 86400):
        _sent(w, signup.contact_id, signup.list_id, now)


def _sent(w: Web, contact_id: int, list_id: int, now: datetime) -> None:
    with w.sessions() as session, session.begin():
        membership.confirmation_sent(session, contact_id, list_id, now)


routes = [Route("/subscribe", index, methods=["GET"]),
          Route("/subscribe/{list_name}", show, methods=["GET"]),
          Route("/subscribe/{list_name}", submit, methods=["POST"])]
