"""`/subscribe/{list}` and `/confirm/{token}`: double opt-in, CSRF, rate limit, no enumeration."""

from __future__ import annotations

import time

import httpx2 as httpx
import pytest
from sqlalchemy import select

from distribution.mail import tokens
from distribution.store.models import Contact, MailingList, SubscriptionStatus, Suppression
from distribution.web import create_app
from distribution.web.security import RequestLimiter
from distribution.web.subscribers.forms import CONSENT_VERSION
from tests.fixtures.settings import make_settings
from tests.fixtures.webpages import (
    add_list,
    add_member,
    csrf_token,
    link_in,
    listening,
    outbox_messages,
    serving,
    subscription,
)

pytest_plugins = ["tests.fixtures.web"]


@pytest.fixture
def lists(sqlite_store) -> dict[str, int]:
    with sqlite_store.Session.begin() as session:
        open_list = add_list(session, "Newsroom", open_signup=True,
                             description="Every press release, as it is published.")
        closed = add_list(session, "Media", trusted=True)
        return {"open": open_list.id, "closed": closed.id}


def _sign_up(client, email: str = "new@example.org", list_name: str = "Newsroom", **extra):
    page = client.get(f"/subscribe/{list_name}")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.text), "email": email, "name": "New Person",
            "language": "fr", "consent": "yes", **extra}
    return client.post(f"/subscribe/{list_name}", data=data)


def _contact(store, email: str) -> Contact | None:
    with store.Session() as session:
        return session.scalar(select(Contact).where(Contact.email == email))


def _confirm_path(settings, *, as_sent: bool = False) -> str:
    """The confirm link; without the ?lang= of the sign-up's language unless `as_sent`
    (the page then speaks the browser's language, English here)."""
    [message] = outbox_messages(settings)
    path = link_in(message, "/confirm/").removeprefix(settings.base_url.rstrip("/"))
    return path if as_sent else path.split("?")[0]


def _press_confirm(client, path: str):
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf_token": csrf_token(page.text)})


# --- the form -------------------------------------------------------------------------------

def test_the_form_shows_the_consent_wording_and_a_csrf_field(web_client, lists) -> None:
    page = web_client.get("/subscribe/Newsroom")
    assert page.status_code == 200
    assert "Every press release, as it is published." in page.text
    assert "may send me press releases from the list “Newsroom”" in page.text
    assert 'type="checkbox" name="consent"' in page.text
    assert csrf_token(page.text)
    assert "pressroom_csrf" in page.headers["set-cookie"]
    assert "httponly" in page.headers["set-cookie"].lower()


def test_a_list_without_open_signup_is_a_404_like_a_missing_one(web_client, lists) -> None:
    closed = web_client.get("/subscribe/Media")
    missing = web_client.get("/subscribe/Nothing")
    assert closed.status_code == missing.status_code == 404
    assert closed.text == missing.text
    assert web_client.post("/subscribe/Media", data={"email": "x@example.org"}).status_code == 404


# --- signing up -----------------------------------------------------------------------------

def test_a_sign_up_is_pending_and_sends_a_confirmation_email(
        web_client, settings, sqlite_store, lists) -> None:
    response = _sign_up(web_client)
    assert response.status_code == 200
    assert "Check your inbox" in response.text
    contact = _contact(sqlite_store, "new@example.org")
    assert contact is not None and contact.name == "New Person" and contact.language == "fr"
    with sqlite_store.Session() as session:
        sub = subscription(session, contact.id, lists["open"])
        assert sub is not None and sub.status is SubscriptionStatus.PENDING
        assert sub.consent_at is None
        assert sub.consent_wording == CONSENT_VERSION
        assert sub.consent_form == "web:/subscribe/Newsroom"
    [message] = outbox_messages(settings)
    assert message["To"] == "new@example.org"
    assert message["From"] == settings.from_addr
    assert "Newsroom" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert f"{settings.base_url}/confirm/" in message.get_body(("html",)).get_content()
    assert link_in(message, "/confirm/")
    # The text part is wrapped as a release's is; only the link may run longer.
    text = message.get_body(("plain",)).get_content()
    assert all(len(line) <= 78 or "/confirm/" in line for line in text.splitlines())
    assert max(len(line) for line in text.splitlines() if "/confirm/" not in line) > 40


def test_a_sign_up_without_a_csrf_token_is_refused(web_client, sqlite_store, lists) -> None:
    web_client.get("/subscribe/Newsroom")  # the cookie alone is not enough
    response = web_client.post("/subscribe/Newsroom",
                               data={"email": "new@example.org", "consent": "yes"})
    assert response.status_code == 403
    assert _contact(sqlite_store, "new@example.org") is None


def test_a_wrong_or_mismatched_csrf_token_is_refused(
        web_client, settings, sqlite_store, lists) -> None:
    token = csrf_token(web_client.get("/subscribe/Newsroom").text)
    base = {"email": "new@example.org", "consent": "yes"}
    assert web_client.post("/subscribe/Newsroom",
                           data={**base, "csrf_token": token[:-3] + "abc"}).status_code == 403
    # A genuine token paired with another browser's cookie (in place of this one's).
    web_client.cookies.clear()
    web_client.cookies.set("pressroom_csrf", "someone-elses-cookie")
    assert web_client.post("/subscribe/Newsroom",
                           data={**base, "csrf_token": token}).status_code == 403
    # A token but no cookie at all.
    web_client.cookies.clear()
    assert web_client.post("/subscribe/Newsroom",
                           data={**base, "csrf_token": token}).status_code == 403
    assert _contact(sqlite_store, "new@example.org") is None
    assert outbox_messages(settings) == []


def test_a_planted_csrf_cookie_is_replaced_not_signed_into_the_form(
        web_client, settings, sqlite_store, lists) -> None:
    web_client.cookies.set("pressroom_csrf", "planted-by-a-sibling-site")
    page = web_client.get("/subscribe/Newsroom")
    assert "planted-by-a-sibling-site" not in page.headers.get("set-cookie", "")
    assert "pressroom_csrf" in page.headers.get("set-cookie", "")
    token = csrf_token(page.text)
    # The victim's browser carries the planted cookie; the attacker submits the field.
    web_client.cookies.clear()
    web_client.cookies.set("pressroom_csrf", "planted-by-a-sibling-site")
    response = web_client.post("/subscribe/Newsroom", data={
        "csrf_token": token, "email": "new@example.org", "consent": "yes"})
    assert response.status_code == 403
    assert _contact(sqlite_store, "new@example.org") is None


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"}, {"Origin": "http://press.iiim.example.org"},
    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "https://press.iiim.example.org"},
])
def test_a_cross_site_post_is_refused_even_with_a_valid_token(
        web_client, settings, sqlite_store, lists, headers) -> None:
    token = csrf_token(web_client.get("/subscribe/Newsroom").text)
    response = web_client.post("/subscribe/Newsroom", headers=headers, data={
        "csrf_token": token, "email": "new@example.org", "consent": "yes"})
    assert response.status_code == 403
    assert _contact(sqlite_store, "new@example.org") is None


@pytest.mark.parametrize("headers", [
    {"Origin": "https://press.iiim.example.org"}, {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "same-origin", "Origin": "null"}])
def test_a_same_origin_post_is_accepted(web_client, settings, lists, headers) -> None:
    token = csrf_token(web_client.get("/subscribe/Newsroom").text)
    response = web_client.post("/subscribe/Newsroom", headers=headers, data={
        "csrf_token": token, "email": "new@example.org", "consent": "yes"})
    assert response.status_code == 200


@pytest.mark.parametrize(("email", "consent", "message"), [
    ("not-an-address", "yes", "valid email address"),
    ("new@example.org", "", "tick the box"),
])
def test_an_invalid_sign_up_shows_the_form_again(
        web_client, settings, sqlite_store, lists, email, consent, message) -> None:
    response = _sign_up(web_client, email=email, consent=consent)
    assert response.status_code == 400
    assert message in response.text
    assert f'value="{email}"' in response.text  # what was typed is kept
    assert _contact(sqlite_store, "new@example.org") is None
    assert outbox_messages(settings) == []


def test_sign_ups_are_rate_limited_per_client(web_client, lists, ticker) -> None:
    for n in range(5):
        assert _sign_up(web_client, email=f"n{n}@example.org").status_code == 200
    refused = _sign_up(web_client, email="n5@example.org")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 61
    ticker.value += 61
    assert _sign_up(web_client, email="n6@example.org").status_code == 200


def test_the_answer_is_the_same_for_a_known_address(
        web_client, sqlite_store, lists) -> None:
    with sqlite_store.Session.begin() as session:
        newsroom = session.get_one(MailingList, lists["open"])
        add_member(session, newsroom, "known@example.org")
    known = _sign_up(web_client, email="known@example.org")
    fresh = _sign_up(web_client, email="fresh@example.org")
    assert known.status_code == fresh.status_code == 200
    assert known.text == fresh.text


def test_signing_up_writes_nothing_onto_a_known_contact_until_confirmed(
        web_client, settings, sqlite_store, lists) -> None:
    with sqlite_store.Session.begin() as session:
        session.add(Contact(email="known@example.org", name=None))
    _sign_up(web_client, email="known@example.org", name="Mallory <evil@x.example>")
    contact = _contact(sqlite_store, "known@example.org")
    assert contact is not None and contact.name is None and contact.language is None
    _press_confirm(web_client, _confirm_path(settings))
    contact = _contact(sqlite_store, "known@example.org")
    assert contact.name == "Mallory <evil@x.example>" and contact.language == "fr"


def test_signing_up_never_overwrites_a_known_contacts_name(
        web_client, settings, sqlite_store, lists) -> None:
    with sqlite_store.Session.begin() as session:
        session.add(Contact(email="known@example.org", name="Jane Doe"))
    _sign_up(web_client, email="known@example.org", name="Mallory")
    _press_confirm(web_client, _confirm_path(settings))
    contact = _contact(sqlite_store, "known@example.org")
    assert contact is not None and contact.name == "Jane Doe"


# --- confirming -----------------------------------------------------------------------------

def test_opening_the_confirm_link_does_not_confirm(
        web_client, settings, sqlite_store, lists) -> None:
    _sign_up(web_client)
    page = web_client.get(_confirm_path(settings))
    assert page.status_code == 200
    assert ">Confirm</button>" in page.text
    contact = _contact(sqlite_store, "new@example.org")
    with sqlite_store.Session() as session:
        assert subscription(session, contact.id, lists["open"]).status is \
            SubscriptionStatus.PENDING


def test_pressing_confirm_subscribes_and_records_the_consent(
        web_client, settings, sqlite_store, lists, clock) -> None:
    _sign_up(web_client)
    clock.advance(minutes=5)
    response = _press_confirm(web_client, _confirm_path(settings))
    assert response.status_code == 200
    assert "You are subscribed" in response.text
    contact = _contact(sqlite_store, "new@example.org")
    with sqlite_store.Session() as session:
        sub = subscription(session, contact.id, lists["open"])
        assert sub.status is SubscriptionStatus.SUBSCRIBED
        assert sub.consent_at == clock.now
        assert sub.consent_ip == "testclient"
        assert sub.consent_form == "web:/subscribe/Newsroom"
        assert sub.consent_wording == CONSENT_VERSION


def test_confirming_twice_says_so_and_changes_nothing(
        web_client, settings, sqlite_store, lists, clock) -> None:
    _sign_up(web_client)
    path = _confirm_path(settings)
    first = clock.now
    _press_confirm(web_client, path)
    clock.advance(hours=1)
    page = web_client.get(path)
    assert "already confirmed" in page.text
    token = csrf_token(web_client.get("/subscribe/Newsroom").text)
    second = web_client.post(path, data={"csrf_token": token})
    assert "already confirmed" in second.text
    contact = _contact(sqlite_store, "new@example.org")
    with sqlite_store.Session() as session:
        assert subscription(session, contact.id, lists["open"]).consent_at == first


def test_confirming_without_a_csrf_token_is_refused(
        web_client, settings, sqlite_store, lists) -> None:
    _sign_up(web_client)
    response = web_client.post(_confirm_path(settings), data={})
    assert response.status_code == 403
    contact = _contact(sqlite_store, "new@example.org")
    with sqlite_store.Session() as session:
        assert subscription(session, contact.id, lists["open"]).status is \
            SubscriptionStatus.PENDING


def test_an_expired_confirm_link_says_so(web_client, settings, sqlite_store, lists,
                                         clock) -> None:
    _sign_up(web_client)
    path = _confirm_path(settings)
    token = csrf_token(web_client.get(path).text)
    clock.advance(days=8)
    page = web_client.get(path)
    assert page.status_code == 410 and "expired" in page.text
    assert web_client.post(path, data={"csrf_token": token}).status_code == 410
    contact = _contact(sqlite_store, "new@example.org")
    with sqlite_store.Session() as session:
        assert subscription(session, contact.id, lists["open"]).status is \
            SubscriptionStatus.PENDING


def test_a_forged_confirm_link_is_refused(web_client, settings, lists) -> None:
    _sign_up(web_client)
    path = _confirm_path(settings)
    assert web_client.get(path[:-4] + "abcd").status_code == 400
    unsubscribe = tokens.unsubscribe_token(settings, 1, lists["open"])
    assert web_client.get(f"/confirm/{unsubscribe}").status_code == 400


def test_an_old_confirm_link_does_not_resubscribe_after_unsubscribing(
        web_client, settings, sqlite_store, lists) -> None:
    _sign_up(web_client)
    path = _confirm_path(settings)
    _press_confirm(web_client, path)
    contact = _contact(sqlite_store, "new@example.org")
    web_client.post("/u/" + tokens.unsubscribe_token(settings, contact.id, lists["open"]),
                    data={"List-Unsubscribe": "One-Click"})
    page = web_client.get(path)
    assert page.status_code == 410 and "already been used" in page.text
    with sqlite_store.Session() as session:
        assert subscription(session, contact.id, lists["open"]).status is \
            SubscriptionStatus.UNSUBSCRIBED


def test_an_old_confirm_link_does_not_confirm_a_later_sign_up(
        web_client, settings, sqlite_store, lists, clock, ticker) -> None:
    _sign_up(web_client)
    old_path = _confirm_path(settings)
    _press_confirm(web_client, old_path)
    contact = _contact(sqlite_store, "new@example.org")
    web_client.post("/u/" + tokens.unsubscribe_token(settings, contact.id, lists["open"]),
                    data={"List-Unsubscribe": "One-Click"})
    clock.advance(minutes=11)
    ticker.value += 120
    _sign_up(web_client)  # someone signs the address up again: pending, a new email
    token = csrf_token(web_client.get("/subscribe/Newsroom").text)
    for page in (web_client.get(old_path),
                 web_client.post(old_path, data={"csrf_token": token})):
        assert page.status_code == 410 and "newer confirmation email" in page.text
    with sqlite_store.Session() as session:
        assert subscription(session, contact.id, lists["open"]).status is \
            SubscriptionStatus.PENDING


# --- suppressed addresses -------------------------------------------------------------------

def test_confirming_lifts_an_unsubscribed_from_all_suppression(
        web_client, settings, sqlite_store, lists) -> None:
    with sqlite_store.Session.begin() as session:
        session.add(Suppression(email="new@example.org", reason="unsubscribed from all via web"))
    assert _sign_up(web_client).status_code == 200
    _press_confirm(web_client, _confirm_path(settings))
    with sqlite_store.Session() as session:
        assert session.scalars(select(Suppression)).all() == []


def test_a_bounced_address_gets_the_same_page_but_no_email(
        web_client, settings, sqlite_store, lists) -> None:
    with sqlite_store.Session.begin() as session:
        session.add(Suppression(email="new@example.org", reason="550 5.1.1 no such user"))
    bounced = _sign_up(web_client)
    assert bounced.text == _sign_up(web_client, email="other@example.org").text
    assert [m["To"] for m in outbox_messages(settings)] == ["other@example.org"]
    # Even with a valid link, the web does not lift a bounce.
    contact = _contact(sqlite_store, "new@example.org")
    path = "/confirm/" + tokens.confirm_token(settings, contact.id, lists["open"])
    response = web_client.post(path, data={"csrf_token": csrf_token(web_client.get(
        "/subscribe/Newsroom").text)})
    assert response.status_code == 409
    with sqlite_store.Session() as session:
        assert subscription(session, contact.id, lists["open"]).status is \
            SubscriptionStatus.PENDING
        assert len(session.scalars(select(Suppression)).all()) == 1


def test_a_transport_failure_gives_the_same_page(
        web_client, settings, sqlite_store, lists, tmp_path) -> None:
    # The outbox path is a file, so the outbox transport cannot create its folder.
    blocker = tmp_path / "outbox"
    blocker.write_text("not a folder")
    failed = _sign_up(web_client)
    blocker.unlink()
    fine = _sign_up(web_client, email="other@example.org")
    assert failed.status_code == fine.status_code == 200
    assert failed.text == fine.text


def test_an_address_gets_one_confirmation_email_per_ten_minutes(
        web_client, settings, sqlite_store, lists, clock, ticker) -> None:
    # Whoever asks, from however many clients: the form cannot fill a stranger's inbox.
    for _ in range(3):
        response = _sign_up(web_client, "victim@example.org")
        assert response.status_code == 200 and "Check your inbox" in response.text
    assert len(outbox_messages(settings)) == 1
    # Not per list either: another open list gets no second email in the same minutes.
    with sqlite_store.Session.begin() as session:
        add_list(session, "Briefings", open_signup=True)
    assert _sign_up(web_client, "victim@example.org", "Briefings").status_code == 200
    assert len(outbox_messages(settings)) == 1
    clock.advance(minutes=11)
    ticker.value += 120  # past the per-client limit of the test client
    assert _sign_up(web_client, "victim@example.org").status_code == 200
    assert len(outbox_messages(settings)) == 2


def test_a_send_that_failed_does_not_count_against_the_address(
        web_client, settings, lists, tmp_path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("not a folder")
    assert _sign_up(web_client).status_code == 200
    blocker.unlink()
    assert _sign_up(web_client).status_code == 200
    assert len(outbox_messages(settings)) == 1


def test_an_oversized_body_is_refused_before_anything_happens(
        web_client, settings, sqlite_store, lists) -> None:
    token = csrf_token(web_client.get("/subscribe/Newsroom").text)
    response = web_client.post("/subscribe/Newsroom", data={
        "csrf_token": token, "email": "new@example.org", "consent": "yes",
        "name": "x" * 100_000})
    assert response.status_code == 413
    assert _contact(sqlite_store, "new@example.org") is None


def test_the_confirmation_mail_and_page_speak_the_language_chosen_at_sign_up(
        web_client, settings, lists) -> None:
    assert _sign_up(web_client, language="ar").status_code == 200
    [message] = outbox_messages(settings)
    assert message["Content-Language"] == "ar"
    assert message["Subject"] == "يرجى تأكيد اشتراكك: Newsroom"
    text = message.get_body(("plain",)).get_content()
    assert "يرجى تأكيد اشتراكك في «\u2068Newsroom\u2069»." in text
    assert "Please" not in text and "confirm" not in text.lower().split("/confirm/")[0]
    html = message.get_body(("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html
    page = web_client.get(_confirm_path(settings, as_sent=True))
    assert '<html lang="ar" dir="rtl">' in page.text and "أكّد اشتراكك" in page.text


def test_one_mailbox_gets_one_confirmation_email_whatever_its_spelling(
        web_client, settings, lists, ticker) -> None:
    for address in ("victim@example.org", "victim+1@example.org", "Victim+2@Example.org",
                    "VICTIM@example.org"):
        ticker.value += 60  # past the per-client limit: this is about the mailbox
        assert _sign_up(web_client, address).status_code == 200
    assert len(outbox_messages(settings)) == 1
    ticker.value += 60
    assert _sign_up(web_client, "victim_x@example.org").status_code == 200  # another mailbox
    assert len(outbox_messages(settings)) == 2


def test_junk_posts_use_up_no_genuine_visitors_quota(web_client, settings, lists) -> None:
    for _ in range(10):
        assert web_client.post("/subscribe/Newsroom", data={"email": "x"}).status_code == 403
    for _ in range(3):
        assert _sign_up(web_client, email="bad address", consent="yes").status_code == 400
    assert _sign_up(web_client).status_code == 200
    assert len(outbox_messages(settings)) == 1


def test_confirmation_emails_stop_at_the_hourly_cap_with_the_same_page(
        sqlite_store, tmp_path, lists, clock, ticker) -> None:
    from starlette.testclient import TestClient

    from distribution.web import create_app
    from tests.fixtures.settings import make_settings

    capped = make_settings(tmp_path, sqlite_store.url, confirmations_per_hour="2")
    with TestClient(create_app(capped, sqlite_store.Session, clock=clock)) as client:
        pages = []
        for n in range(4):
            ticker.value += 60
            pages.append(_sign_up(client, f"person{n}@example.org"))
        assert all(p.status_code == 200 for p in pages)
        assert len({p.text for p in pages}) == 1
        assert len(outbox_messages(capped)) == 2


def test_a_confirmed_sign_up_is_in_the_audit_log_as_the_subscriber(
        web_client, settings, sqlite_store, lists) -> None:
    from distribution.accountability.log import entries

    _sign_up(web_client)
    path = _confirm_path(settings)
    _press_confirm(web_client, path)
    token = csrf_token(web_client.get("/subscribe/Newsroom").text)
    web_client.post(path, data={"csrf_token": token})  # twice: one consent, one entry
    contact = _contact(sqlite_store, "new@example.org")
    with sqlite_store.Session() as session:
        logged = [(e.actor, e.actor_kind, e.origin, e.action, e.object)
                  for e in entries(session)]
    assert logged == [(f"contact {contact.id}", "subscriber", "web client testclient",
                       "subscription.confirm", f"list {lists['open']}")]


def test_subscribe_lists_the_open_lists_and_the_newsroom_links_it(web_client, lists) -> None:
    page = web_client.get("/subscribe")
    assert page.status_code == 200
    assert 'href="/subscribe/Newsroom"' in page.text
    assert "Every press release, as it is published." in page.text
    assert "Media" not in page.text  # closed: not public
    assert 'href="/subscribe"' in web_client.get("/releases").text


def test_a_lists_title_is_what_the_public_reads(web_client, settings, sqlite_store,
                                                 lists) -> None:
    with sqlite_store.Session.begin() as session:
        session.get_one(MailingList, lists["open"]).title = "Médias <francophones>"
    page = web_client.get("/subscribe/Newsroom")
    assert "<h1>Subscribe to <bdi>Médias &lt;francophones&gt;</bdi></h1>" in page.text
    assert "Médias &lt;francophones&gt;" in web_client.get("/subscribe").text
    _sign_up(web_client)
    [message] = outbox_messages(settings)
    assert "Médias <francophones>" in message["Subject"]


def test_a_forgotten_address_signing_up_is_stored_nowhere_again(
        web_client, settings, sqlite_store, lists) -> None:
    from distribution.audience.forget import forgotten_key

    with sqlite_store.Session.begin() as session:
        session.add(Suppression(email=forgotten_key("new@example.org"), reason="forgotten"))
    for spelling in ("new@example.org", "New@EXAMPLE.org"):
        response = _sign_up(web_client, email=spelling)
        assert response.status_code == 200 and "Check your inbox" in response.text
    with sqlite_store.Session() as session:
        assert session.scalars(select(Contact)).all() == []
    assert outbox_messages(settings) == []


# --- the same answer, at once, whatever the address and the relay -------------------------

@pytest.fixture
def live_signup(tmp_path, sqlite_store, smtp_server, lists):
    """The web app under a real uvicorn sending through the test SMTP server: a client gets
    its answer when it is written, not when the confirmation mail is done."""
    sock, url = listening()
    settings = make_settings(tmp_path, sqlite_store.url, base_url=url, smtp_url=smtp_server.url)
    app = create_app(settings, sqlite_store.Session, signup_limiter=RequestLimiter(100, 60))
    with serving(app, sock), httpx.Client(base_url=url, timeout=60) as client:
        yield client


def _timed_sign_up(client, email: str) -> tuple[httpx.Response, float, float]:
    """The answer to a sign-up, how long the POST took, and when it was answered."""
    token = csrf_token(client.get("/subscribe/Newsroom").text)
    started = time.perf_counter()
    response = client.post("/subscribe/Newsroom", data={
        "csrf_token": token, "email": email, "name": "A Person", "consent": "yes"})
    return response, time.perf_counter() - started, time.time()


def _answer(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "date")
    return response.status_code, response.content, headers


def test_every_sign_up_gets_the_same_bytes_whoever_it_names_and_whatever_the_relay_says(
        live_signup, sqlite_store, smtp_server, lists) -> None:
    with sqlite_store.Session.begin() as session:
        add_member(session, session.get_one(MailingList, lists["open"]), "member@example.org")
        session.add(Suppression(email="gone@example.org", reason="550 5.1.1 no such user"))
    smtp_server.answer("refused@example.org", "550 5.1.1 No such user here")

    answers = {}
    for address in ("new@example.org", "member@example.org", "gone@example.org",
                    "refused@example.org"):
        answers[address] = _answer(_timed_sign_up(live_signup, address)[0])

    new = answers.pop("new@example.org")
    assert new[0] == 200 and b"Check your inbox" in new[1]
    assert all(answer == new for answer in answers.values()), answers
    # What the relay thought of each: the page above did not depend on it.
    smtp_server.wait_for(2)
    assert sorted(smtp_server.by_recipient()) == ["member@example.org", "new@example.org"]


@pytest.mark.slow
def test_a_slow_relay_does_not_slow_the_answer(live_signup, sqlite_store, smtp_server,
                                               lists) -> None:
    with sqlite_store.Session.begin() as session:
        session.add(Suppression(email="gone@example.org", reason="550 5.1.1 no such user"))
    # The control: a sign-up that sends no mail at all, on this machine, now.
    control = min(_timed_sign_up(live_signup, "gone@example.org")[1] for _ in range(3))
    delay = max(2.0, 20 * control)
    smtp_server.slow_down(delay)

    response, took, answered = _timed_sign_up(live_signup, "new@example.org")

    assert response.status_code == 200
    assert took < delay / 2, (took, control)
    [received] = smtp_server.wait_for(1, timeout=delay + 30)
    assert received.rcpt_tos == ("new@example.org",)
    assert received.received_at > answered  # the mail was done after the answer
