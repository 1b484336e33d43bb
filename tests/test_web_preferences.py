"""`/preferences/{token}`: the contact's lists and language, saved with a CSRF token."""

from __future__ import annotations

import pytest

from distribution.mail import tokens
from distribution.store.models import Contact, SubscriptionStatus, Suppression
from distribution.web.subscribers.forms import PREFERENCES_CONSENT_VERSION
from tests.fixtures.webpages import add_list, add_member, csrf_token, subscription

pytest_plugins = ["tests.fixtures.web"]


@pytest.fixture
def jane(sqlite_store) -> dict[str, int]:
    """Jane is on "Media" (closed) and "Newsroom" (open); "Speeches" is open, "Staff" closed."""
    with sqlite_store.Session.begin() as session:
        media = add_list(session, "Media", trusted=True)
        newsroom = add_list(session, "Newsroom", open_signup=True)
        speeches = add_list(session, "Speeches", open_signup=True,
                            description="Speeches and statements.")
        staff = add_list(session, "Staff")
        contact = add_member(session, media, "jane@example.org")
        add_member(session, newsroom, "jane@example.org")
        return {"contact": contact.id, "media": media.id, "newsroom": newsroom.id,
                "speeches": speeches.id, "staff": staff.id}


def _path(settings, contact_id: int) -> str:
    return "/preferences/" + tokens.preferences_token(settings, contact_id)


def _status(store, contact_id: int, list_id: int) -> SubscriptionStatus | None:
    with store.Session() as session:
        sub = subscription(session, contact_id, list_id)
        return sub.status if sub else None


def _save(client, path: str, lists: list[int], language: str = "") -> object:
    token = csrf_token(client.get(path).text)
    return client.post(path, data={"csrf_token": token, "list": [str(i) for i in lists],
                                   "language": language})


def test_the_page_offers_open_lists_and_the_contacts_own(web_client, settings, jane) -> None:
    page = web_client.get(_path(settings, jane["contact"]))
    assert page.status_code == 200
    for name in ("Media", "Newsroom", "Speeches", "Speeches and statements."):
        assert name in page.text
    assert "Staff" not in page.text
    assert page.text.count(" checked") == 2
    assert page.headers["cache-control"] == "no-store"


def test_saving_leaves_unticked_lists_and_joins_ticked_open_ones(
        web_client, settings, sqlite_store, jane, clock) -> None:
    path = _path(settings, jane["contact"])
    response = _save(web_client, path, [jane["newsroom"], jane["speeches"]], language="es")
    assert response.status_code == 200
    assert "Your choices are saved" in response.text
    contact = jane["contact"]
    assert _status(sqlite_store, contact, jane["media"]) is SubscriptionStatus.UNSUBSCRIBED
    assert _status(sqlite_store, contact, jane["newsroom"]) is SubscriptionStatus.SUBSCRIBED
    with sqlite_store.Session() as session:
        joined = subscription(session, contact, jane["speeches"])
        assert joined.status is SubscriptionStatus.SUBSCRIBED
        assert joined.consent_at == clock.now and joined.consent_form == "web:/preferences"
        assert joined.consent_ip == "testclient"
        assert joined.consent_wording == PREFERENCES_CONSENT_VERSION
        assert session.get(Contact, contact).language == "es"


def test_a_closed_list_cannot_be_joined_by_posting_its_id(
        web_client, settings, sqlite_store, jane) -> None:
    path = _path(settings, jane["contact"])
    _save(web_client, path, [jane["media"], jane["newsroom"], jane["staff"]])
    assert _status(sqlite_store, jane["contact"], jane["staff"]) is None


def test_a_closed_list_left_is_no_longer_offered(web_client, settings, jane) -> None:
    path = _path(settings, jane["contact"])
    _save(web_client, path, [jane["newsroom"]])
    assert "Media" not in web_client.get(path).text


def test_saving_without_a_csrf_token_is_refused(
        web_client, settings, sqlite_store, jane) -> None:
    path = _path(settings, jane["contact"])
    web_client.get(path)
    response = web_client.post(path, data={"list": [str(jane["speeches"])]})
    assert response.status_code == 403
    assert _status(sqlite_store, jane["contact"], jane["media"]) is SubscriptionStatus.SUBSCRIBED
    assert _status(sqlite_store, jane["contact"], jane["speeches"]) is None


def test_a_forged_preferences_link_is_refused(web_client, settings, jane) -> None:
    unsubscribe = tokens.unsubscribe_token(settings, jane["contact"], jane["media"])
    assert web_client.get(f"/preferences/{unsubscribe}").status_code == 400
    genuine = tokens.preferences_token(settings, jane["contact"])
    assert web_client.get(f"/preferences/{genuine[:-2]}zz").status_code == 400


def test_ticking_a_list_lifts_an_unsubscribed_from_all_suppression(
        web_client, settings, sqlite_store, jane) -> None:
    path = _path(settings, jane["contact"])
    web_client.post("/u/" + tokens.unsubscribe_token(settings, jane["contact"], 0),
                    data={"List-Unsubscribe": "One-Click"})
    assert "You unsubscribed from everything" in web_client.get(path).text
    _save(web_client, path, [jane["speeches"]])
    assert _status(sqlite_store, jane["contact"], jane["speeches"]) is \
        SubscriptionStatus.SUBSCRIBED
    with sqlite_store.Session() as session:
        assert session.query(Suppression).count() == 0


def test_a_bounced_address_is_not_resubscribed_from_preferences(
        web_client, settings, sqlite_store, jane) -> None:
    with sqlite_store.Session.begin() as session:
        session.add(Suppression(email="jane@example.org", reason="550 5.1.1 no such user"))
    path = _path(settings, jane["contact"])
    assert "Mail to this address has been stopped" in web_client.get(path).text
    _save(web_client, path, [jane["media"], jane["newsroom"], jane["speeches"]])
    assert _status(sqlite_store, jane["contact"], jane["speeches"]) is None
    with sqlite_store.Session() as session:
        assert session.query(Suppression).count() == 1


def test_saved_choices_are_in_the_audit_log_as_the_subscriber(
        web_client, settings, sqlite_store, jane) -> None:
    from distribution.accountability.log import entries

    _save(web_client, _path(settings, jane["contact"]), [jane["newsroom"], jane["speeches"]])
    with sqlite_store.Session() as session:
        logged = [(e.actor, e.action, e.summary) for e in entries(session)]
    assert logged == [(f"contact {jane['contact']}", "subscription.preferences",
                       "lists chosen on the preferences page: Newsroom, Speeches")]
