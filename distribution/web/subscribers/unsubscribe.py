"""`/u/{token}`: the List-Unsubscribe URL of every email.

GET only shows a page (link scanners and prefetchers fetch it). POST unsubscribes: the
RFC 8058 one-click POST a mail provider sends ("List-Unsubscribe=One-Click", no cookies, no
CSRF token, no login; the signed token is the authority) and the page's own buttons, one
for the list and one for everything. Every POST answers 200 and may be repeated.
A token with list id 0, or a list since deleted, means "everything we send".
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribution.accountability import record, subscriber_actor
from distribution.audience import membership
from distribution.mail import tokens
from distribution.store.models import MailingList, Subscription
from distribution.web.context import Web, bad_link, web
from distribution.web.language import keeping_language
from distribution.web.security import client_ip
from distribution.web.subscribers.forms import read_form


@dataclass(frozen=True)
class Target:
    contact_id: int
    list_id: int
    list_name: str | None  # its title, else its name; None: no such list, so "everything"
    subscribed: bool


def _target(request: Request) -> tuple[int, int]:
    try:
        return tokens.read_unsubscribe_token(web(request).settings,
                                             request.path_params["token"])
    except tokens.BadToken:
        raise bad_link() from None


def _load(w: Web, contact_id: int, list_id: int) -> Target:
    with w.sessions() as session:
        mailing_list = session.get(MailingList, list_id) if list_id else None
        sub = session.get(Subscription, (contact_id, list_id)) if mailing_list else None
        subscribed = sub is not None and sub.status in membership.ACTIVE
        # Named as the footer of the email that led here names it: its title, else its name.
        shown = (mailing_list.title or mailing_list.name) if mailing_list else None
        return Target(contact_id, list_id, shown, subscribed)


def _apply(w: Web, target: Target, everything: bool, how: str, ip: str) -> None:
    now = w.clock()
    with w.sessions() as session, session.begin():
        left = membership.leave(session, target.contact_id, target.list_id, now,
                                everything=everything)
        record(session, subscriber_actor(target.contact_id, f"web client {ip}"),
               "subscription.leave", f"list {left}" if left else "every list",
               f"unsubscribed by the {how}" + ("" if left else "; address suppressed"))


async def show(request: Request) -> Response:
    w = web(request)
    target = await run_in_threadpool(_load, w, *_target(request))
    return w.page("unsubscribe.html.j2", {"target": target, "action": keeping_language(
        request.url.path, request.query_params.get("lang"))})


async def submit(request: Request) -> Response:
    w = web(request)
    contact_id, list_id = _target(request)
    form = await read_form(request)
    # The one-click body, or the page's list button, leaves one list; "all" leaves all.
    everything = form.get("scope") == "all"
    target = await run_in_threadpool(_load, w, contact_id, list_id)
    how = ("one-click POST" if form.get("List-Unsubscribe") == "One-Click"
           else "unsubscribe page")
    await run_in_threadpool(_apply, w, target, everything, how, client_ip(request))
    # No preferences link here: whoever holds a forwarded unsubscribe link could POST it
    # and be handed the key to every subscription of the person.
    return w.page("unsubscribed.html.j2", {
        "target": target, "everything": everything or target.list_name is None})


routes = [Route("/u/{token}", show, methods=["GET"]),
          Route("/u/{token}", submit, methods=["POST"])]
