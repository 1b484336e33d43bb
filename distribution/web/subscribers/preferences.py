"""`/preferences/{token}`: a contact's lists and language, from the link in every email.

Offered are the open lists and every list the contact is on (a media list they were put on
can be left here, but not joined). Saving is CSRF protected.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribution import locales
from distribution.accountability import record, subscriber_actor
from distribution.audience import membership
from distribution.mail import tokens
from distribution.store.models import Contact, MailingList, Subscription, SubscriptionStatus
from distribution.web.context import Web, bad_link, web
from distribution.web.language import keeping_language
from distribution.web.security import client_ip
from distribution.web.subscribers.forms import (
    LANGUAGES,
    PREFERENCES_CONSENT_TEXT,
    PREFERENCES_CONSENT_VERSION,
    language,
    read_form,
)

FORM_NAME = "web:/preferences"


@dataclass(frozen=True)
class ListChoice:
    id: int
    name: str  # as the public reads it: its title, else its name
    description: str | None
    checked: bool
    pending: bool


@dataclass(frozen=True)
class Preferences:
    choices: list[ListChoice]
    language: str | None
    suppressed: str | None  # None, "liftable" (unsubscribed from all) or "blocked"


def _contact_id(request: Request) -> int:
    try:
        return tokens.read_preferences_token(web(request).settings,
                                             request.path_params["token"])
    except tokens.BadToken:
        raise bad_link() from None


def _offered(session: Session, contact_id: int) -> list[tuple[MailingList, Subscription | None]]:
    active = (select(Subscription.list_id)
              .where(Subscription.contact_id == contact_id,
                     Subscription.status.in_(membership.ACTIVE)))
    lists = session.scalars(
        select(MailingList).where(or_(MailingList.open_signup.is_(True),
                                      MailingList.id.in_(active)))
        .order_by(MailingList.name))
    return [(lst, session.get(Subscription, (contact_id, lst.id)))
            for lst in lists]


def _contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise HTTPException(404)
    return contact


def _load(w: Web, contact_id: int) -> Preferences:
    with w.sessions() as session:
        contact = _contact(session, contact_id)
        choices = [ListChoice(lst.id, lst.title or lst.name, lst.description,
                              checked=sub is not None and sub.status in membership.ACTIVE,
                              pending=sub is not None
                              and sub.status is SubscriptionStatus.PENDING)
                   for lst, sub in _offered(session, contact_id)]
        suppression = membership.suppression_of(session, contact.email)
        suppressed = None if suppression is None else (
            "liftable" if membership.liftable(suppression) else "blocked")
        return Preferences(choices, contact.language, suppressed)


def _save(w: Web, contact_id: int, form: FormData, ip: str) -> None:
    wanted = {int(v) for v in form.getlist("list")
              if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) < 19}
    with w.sessions() as session, session.begin():
        contact = _contact(session, contact_id)
        names = {lst.id: lst.name for lst, _ in _offered(session, contact_id)}
        offered = set(names)
        membership.set_lists(session, contact, wanted & offered, offered, form=FORM_NAME,
                             wording=PREFERENCES_CONSENT_VERSION, ip=ip, now=w.clock())
        chosen = ", ".join(sorted(names[i] for i in wanted & offered)) or "none"
        record(session, subscriber_actor(contact_id, f"web client {ip}"),
               "subscription.preferences", f"contact {contact_id}",
               f"lists chosen on the preferences page: {chosen}")
        contact.language = language(form)


def _page(w: Web, request: Request, prefs: Preferences, saved: bool) -> Response:
    # The page speaks the language the contact chose, unless the address asks for another.
    chosen = prefs.language if prefs.language in locales.LANGUAGES else None
    return w.form_page(request, "preferences.html.j2", {
        "prefs": prefs, "languages": LANGUAGES, "saved": saved,
        "action": keeping_language(request.url.path, request.query_params.get("lang")),
        "consent": PREFERENCES_CONSENT_TEXT},
        language=None if "lang" in request.query_params else chosen)


async def show(request: Request) -> Response:
    w = web(request)
    prefs = await run_in_threadpool(_load, w, _contact_id(request))
    return _page(w, request, prefs, saved=False)


async def submit(request: Request) -> Response:
    w = web(request)
    contact_id = _contact_id(request)
    form = await read_form(request)
    w.check_csrf(request, form)
    await run_in_threadpool(_save, w, contact_id, form, client_ip(request))
    prefs = await run_in_threadpool(_load, w, contact_id)
    return _page(w, request, prefs, saved=True)


routes = [Route("/preferences/{token}", show, methods=["GET"]),
          Route("/preferences/{token}", submit, methods=["POST"])]
