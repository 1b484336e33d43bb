"""`/u/{token}`: a GET never unsubscribes; RFC 8058 one-click and the page's buttons do."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from distribution.mail import tokens
from distribution.store.models import MailingList, SubscriptionStatus, Suppression
from tests.fixtures.webpages import add_list, add_member, subscription

pytest_plugins = ["tests.fixtures.web"]

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def member(sqlite_store):
    """Jane, on the public "Newsroom" list and the trusted "Media" list."""
    with sqlite_store.Session.begin() as session:
        newsroom = add_list(session, "Newsroom", open_signup=True)
        media = add_list(session, "Media", trusted=True)
        jane = add_member(session, newsroom, "jane@example.org")
        add_member(session, media, "jane@example.org")
        return jane.id, newsroom.id, media.id


def _status(store, contact_id: int, list_id: int) -> SubscriptionStatus:
    with store.Session() as session:
        sub = subscription(session, contact_id, list_id)
        assert sub is not None
        return sub.status


def _suppressions(store) -> list[tuple[str, str]]:
    with store.Session() as session:
        return [(s.email, s.reason) for s in session.scalars(select(Suppression))]


def _path(settings, contact_id: int, list_id: int) -> str:
    return "/u/" + tokens.unsubscribe_token(settings, contact_id, list_id)


def test_get_shows_the_list_and_both_buttons_and_changes_nothing(
        web_client, settings, sqlite_store, member) -> None:
    jane, newsroom, _ = member
    response = web_client.get(_path(settings, jane, newsroom))
    assert response.status_code == 200
    assert "Newsroom" in response.text
    assert 'value="list"' in response.text and 'value="all"' in response.text
    assert _status(sqlite_store, jane, newsroom) is SubscriptionStatus.SUBSCRIBED
    assert _suppressions(sqlite_store) == []


def test_the_page_names_the_list_as_the_emails_footer_does(
        web_client, settings, sqlite_store, member) -> None:
    jane, _, media = member
    with sqlite_store.Session.begin() as session:
        session.get_one(MailingList, media).title = "Press corps"
    response = web_client.get(_path(settings, jane, media))
    assert "Stop receiving emails from the list <strong><bdi>Press corps</bdi></strong>?" \
        in response.text
    assert ">Media<" not in response.text


def test_the_list_unsubscribe_url_of_an_email_is_served(
        web_client, settings, member) -> None:
    jane, newsroom, _ = member
    url = tokens.RecipientLinks(settings).links(jane, newsroom)[0]
    path = url.removeprefix(settings.base_url.rstrip("/"))
    assert web_client.get(path).status_code == 200


def test_one_click_post_without_cookies_unsubscribes_from_that_list_only(
        settings, sqlite_store, member, web_client) -> None:
    jane, newsroom, media = member
    web_client.cookies.clear()
    response = web_client.post(_path(settings, jane, newsroom), data=ONE_CLICK)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert _status(sqlite_store, jane, newsroom) is SubscriptionStatus.UNSUBSCRIBED
    assert _status(sqlite_store, jane, media) is SubscriptionStatus.SUBSCRIBED
    assert _suppressions(sqlite_store) == []


def test_one_click_post_as_multipart_form_data_works(
        settings, sqlite_store, member, web_client) -> None:
    jane, newsroom, _ = member
    response = web_client.post(_path(settings, jane, newsroom),
                               files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200
    assert _status(sqlite_store, jane, newsroom) is SubscriptionStatus.UNSUBSCRIBED


def test_one_click_is_idempotent(settings, sqlite_store, member, web_client) -> None:
    jane, newsroom, _ = member
    for _ in range(3):
        assert web_client.post(_path(settings, jane, newsroom), data=ONE_CLICK).status_code == 200
    assert _status(sqlite_store, jane, newsroom) is SubscriptionStatus.UNSUBSCRIBED


def test_the_pages_list_button_unsubscribes_from_the_list(
        settings, sqlite_store, member, web_client, clock) -> None:
    jane, newsroom, _ = member
    response = web_client.post(_path(settings, jane, newsroom), data={"scope": "list"})
    assert response.status_code == 200
    assert "no more emails from the list" in response.text
    with sqlite_store.Session() as session:
        sub = subscription(session, jane, newsroom)
        assert sub is not None and sub.status is SubscriptionStatus.UNSUBSCRIBED
        assert sub.changed_at == clock.now


def test_everything_leaves_every_list_and_suppresses_the_address(
        settings, sqlite_store, member, web_client) -> None:
    jane, newsroom, media = member
    response = web_client.post(_path(settings, jane, newsroom), data={"scope": "all"})
    assert response.status_code == 200
    assert _status(sqlite_store, jane, newsroom) is SubscriptionStatus.UNSUBSCRIBED
    assert _status(sqlite_store, jane, media) is SubscriptionStatus.UNSUBSCRIBED
    assert _suppressions(sqlite_store) == [("jane@example.org", "unsubscribed from all via web")]
    # Again: still one suppression, still 200.
    assert web_client.post(_path(settings, jane, newsroom),
                           data={"scope": "all"}).status_code == 200
    assert len(_suppressions(sqlite_store)) == 1


def test_everything_keeps_an_earlier_suppression_reason(
        settings, sqlite_store, member, web_client) -> None:
    jane, newsroom, _ = member
    with sqlite_store.Session.begin() as session:
        session.add(Suppression(email="jane@example.org", reason="550 5.1.1 no such user"))
    web_client.post(_path(settings, jane, newsroom), data={"scope": "all"})
    assert _suppressions(sqlite_store) == [("jane@example.org", "550 5.1.1 no such user")]


def test_a_token_without_a_list_means_everything(
        settings, sqlite_store, member, web_client) -> None:
    jane, newsroom, media = member
    page = web_client.get(_path(settings, jane, 0))
    assert page.status_code == 200 and 'value="list"' not in page.text
    assert web_client.post(_path(settings, jane, 0), data=ONE_CLICK).status_code == 200
    assert _status(sqlite_store, jane, newsroom) is SubscriptionStatus.UNSUBSCRIBED
    assert _status(sqlite_store, jane, media) is SubscriptionStatus.UNSUBSCRIBED
    assert len(_suppressions(sqlite_store)) == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_token_is_refused_and_changes_nothing(
        settings, sqlite_store, member, web_client, method: str) -> None:
    jane, newsroom, _ = member
    genuine = tokens.unsubscribe_token(settings, jane, newsroom)
    head, _, signature = genuine.partition(".")
    other = tokens.unsubscribe_token(settings, jane, 999).partition(".")[0]
    for forged in (f"{other}.{signature}", f"{head}.{signature[:-2]}xx", "not-a-token",
                   tokens.preferences_token(settings, jane)):
        kwargs = {"data": ONE_CLICK} if method == "post" else {}
        response = getattr(web_client, method)(f"/u/{forged}", **kwargs)
        assert response.status_code == 400
        assert "not valid" in response.text
    assert _status(sqlite_store, jane, newsroom) is SubscriptionStatus.SUBSCRIBED
    assert _suppressions(sqlite_store) == []


def test_an_already_unsubscribed_contact_sees_so_and_can_still_leave_everything(
        settings, sqlite_store, member, web_client) -> None:
    jane, newsroom, _ = member
    web_client.post(_path(settings, jane, newsroom), data=ONE_CLICK)
    page = web_client.get(_path(settings, jane, newsroom))
    assert "You are not subscribed" in page.text
    assert 'value="all"' in page.text


def test_pages_carry_the_security_headers(web_client, settings, member) -> None:
    jane, newsroom, _ = member
    response = web_client.get(_path(settings, jane, newsroom))
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


def test_the_access_log_names_the_route_not_the_token(
        web_client, settings, member, caplog) -> None:
    jane, newsroom, _ = member
    token = tokens.unsubscribe_token(settings, jane, newsroom)
    with caplog.at_level(logging.INFO, logger="pressroom.web.access"):
        web_client.get(f"/u/{token}?email=jane@example.org")
        web_client.get("/jane@example.org")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET /u/{token} 200" in logged
    assert "GET <unmatched> 404" in logged
    assert token not in logged and "jane@example.org" not in logged


def test_a_fresh_client_needs_no_session_to_one_click(settings, sqlite_store, member) -> None:
    from distribution.web import create_app

    jane, newsroom, _ = member
    with TestClient(create_app(settings, sqlite_store.Session)) as client:
        assert client.post(_path(settings, jane, newsroom), data=ONE_CLICK).status_code == 200
    assert _status(sqlite_store, jane, newsroom) is SubscriptionStatus.UNSUBSCRIBED


def test_the_unsubscribed_page_does_not_hand_out_the_preferences_link(
        settings, member, web_client) -> None:
    jane, newsroom, _ = member
    page = web_client.post(_path(settings, jane, newsroom), data=ONE_CLICK)
    assert page.status_code == 200
    assert "/preferences/" not in page.text
    assert tokens.preferences_token(settings, jane) not in page.text


@pytest.mark.parametrize("path", ["/releases/", "/releases/?page=2", "/subscribe/Newsroom/"])
def test_a_trailing_slash_redirects_to_the_public_address_not_the_host_header(
        settings, member, web_client, path) -> None:
    response = web_client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code in (301, 302, 307, 308)
    location = response.headers["location"]
    assert location.startswith(settings.base_url.rstrip("/") + "/")
    assert "evil.example" not in location
    assert location.endswith(path.rstrip("/").replace("/?", "?"))


def _log(store) -> list[tuple[str, str, str, str, str]]:
    from distribution.accountability.log import entries

    with store.Session() as session:
        return [(e.actor, e.actor_kind, e.action, e.object, e.summary)
                for e in entries(session)]


def test_one_click_and_the_page_are_recorded_as_the_subscriber_not_by_address(
        settings, sqlite_store, member, web_client) -> None:
    jane, newsroom, media = member
    web_client.post(_path(settings, jane, newsroom), data=ONE_CLICK)
    web_client.post(_path(settings, jane, media), data={"scope": "all"})
    assert _log(sqlite_store) == [
        (f"contact {jane}", "subscriber", "subscription.leave", "list Newsroom",
         "unsubscribed by the one-click POST"),
        (f"contact {jane}", "subscriber", "subscription.leave", "every list",
         "unsubscribed by the unsubscribe page; address suppressed")]
    with sqlite_store.Session() as session:
        from distribution.accountability.log import entries

        assert {e.origin for e in entries(session)} == {"web client testclient"}
    assert "jane@example.org" not in repr(_log(sqlite_store))
