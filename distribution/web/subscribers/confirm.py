"""`/confirm/{token}`: the double opt-in link of the confirmation email.

Mail scanners open links, so GET only shows a "Confirm" button; the POST it sends confirms,
once, and records the consent (time and address of the confirming request; the form and
wording were recorded at sign-up). The token expires, and a used one says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribution.accountability import record, subscriber_actor
from distribution.audience import membership
from distribution.audience.membership import Confirmed
from distribution.locales import N_
from distribution.mail import tokens
from distribution.store.models import MailingList
from distribution.web.context import Web, bad_link, web
from distribution.web.language import keeping_language
from distribution.web.security import client_ip
from distribution.web.subscribers.forms import read_form

# Status and message of each outcome other than a first confirmation.
_REFUSALS: dict[Confirmed, tuple[int, str, str]] = {
    Confirmed.ALREADY: (200, N_("Already confirmed"),
                        N_("This subscription was already confirmed. Nothing more to do.")),
    Confirmed.USED_UP: (410, N_("Link already used"),
                        N_("This confirmation link has already been used. To subscribe "
                           "again, please use the sign-up form.")),
    Confirmed.BLOCKED: (409, N_("We cannot send to this address"),
                        N_("Mail to this address has been stopped (for example after a "
                           "bounce). Please contact the press office.")),
    Confirmed.GONE: (410, N_("Request no longer exists"),
                     N_("This subscription request no longer exists. Please sign up again.")),
    Confirmed.REPLACED: (410, N_("Link replaced"),
                         N_("A newer confirmation email was sent since this one. Please use "
                            "the link in the newest email, or sign up again.")),
}


@dataclass(frozen=True)
class SignupState:
    contact_id: int
    list_id: int
    list_name: str | None  # as the public reads it: its title, else its name
    state: Confirmed | None  # None: pending, waiting for the button


def _signup(request: Request) -> tokens.SignupRequest:
    w = web(request)
    try:
        return tokens.read_signup_request(w.settings, request.path_params["token"],
                                          w.confirm_max_age_seconds, now=w.clock())
    except tokens.ExpiredToken:
        raise HTTPException(410, N_("This confirmation link has expired. Please sign "
                                    "up again to receive a new one.")) from None
    except tokens.BadToken:
        raise bad_link() from None


def _load(w: Web, signup: tokens.SignupRequest) -> SignupState:
    with w.sessions() as session:
        mailing_list = session.get(MailingList, signup.list_id)
        state = membership.confirmation_state(session, signup.contact_id, signup.list_id,
                                              signup.sent_at)
        if state is Confirmed.BLOCKED:
            state = None  # said when Confirm is pressed, as before
        return SignupState(signup.contact_id, signup.list_id,
                           (mailing_list.title or mailing_list.name) if mailing_list else None,
                           state)


def _confirm(w: Web, signup: tokens.SignupRequest, ip: str) -> Confirmed:
    with w.sessions() as session, session.begin():
        state = membership.confirm(session, signup.contact_id, signup.list_id, ip, w.clock(),
                                   sent_at=signup.sent_at, name=signup.name,
                                   language=signup.language)
        if state is Confirmed.NOW:  # the consent, in the log the office answers from
            record(session, subscriber_actor(signup.contact_id, f"web client {ip}"),
                   "subscription.confirm", f"list {signup.list_id}",
                   "confirmed the sign-up (double opt-in)")
        return state


def _refusal(w: Web, state: Confirmed) -> Response:
    status, title, message = _REFUSALS[state]
    return w.page("error.html.j2", {"title": title, "message": message}, status=status)


async def show(request: Request) -> Response:
    w = web(request)
    pending = await run_in_threadpool(_load, w, _signup(request))
    if pending.state is not None:
        return _refusal(w, pending.state)
    action = keeping_language(request.url.path, request.query_params.get("lang"))
    return w.form_page(request, "confirm.html.j2",
                       {"list_name": pending.list_name, "action": action})


async def submit(request: Request) -> Response:
    w = web(request)
    signup = _signup(request)
    form = await read_form(request)
    w.check_csrf(request, form)
    state = await run_in_threadpool(_confirm, w, signup, client_ip(request))
    if state is not Confirmed.NOW:
        return _refusal(w, state)
    contact_id = signup.contact_id
    list_name = (await run_in_threadpool(_load, w, signup)).list_name
    return w.page("confirmed.html.j2", {
        "list_name": list_name,
        "preferences_path": "/preferences/" + tokens.preferences_token(w.settings, contact_id),
    })


routes = [Route("/confirm/{token}", show, methods=["GET"]),
          Route("/confirm/{token}", submit, methods=["POST"])]
