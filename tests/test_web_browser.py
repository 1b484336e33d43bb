"""End to end in a real headless Chromium against a real uvicorn: click as a person would.

Screenshots (phone-sized) are saved in tests/artifacts/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from distribution.mail import tokens
from distribution.store.models import Contact, Release, ReleaseStatus, SubscriptionStatus
from tests.fixtures.webpages import add_list, add_member, link_in, outbox_messages, subscription

pytest_plugins = ["tests.fixtures.browser"]
pytestmark = pytest.mark.browser


def _status(store, contact_id: int, list_id: int) -> SubscriptionStatus:
    with store.Session() as session:
        sub = subscription(session, contact_id, list_id)
        assert sub is not None
        return sub.status


def test_unsubscribe_by_clicking_the_button(page, live_server, screenshot) -> None:
    store = live_server.store
    with store.Session.begin() as session:
        newsroom = add_list(session, "Newsroom", open_signup=True)
        jane = add_member(session, newsroom, "jane@example.org")
        ids = jane.id, newsroom.id

    page.goto(tokens.RecipientLinks(live_server.settings).links(*ids)[0])
    assert page.get_by_role("heading", name="Unsubscribe").is_visible()
    assert page.get_by_text("Newsroom").first.is_visible()
    screenshot(page, "unsubscribe-page")
    assert _status(store, *ids) is SubscriptionStatus.SUBSCRIBED  # opening changed nothing

    page.get_by_role("button", name="Unsubscribe from Newsroom").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    screenshot(page, "unsubscribe-done")
    assert _status(store, *ids) is SubscriptionStatus.UNSUBSCRIBED


def test_subscribe_read_the_email_confirm_and_manage(page, live_server, screenshot) -> None:
    store = live_server.store
    with store.Session.begin() as session:
        newsroom_id = add_list(session, "Newsroom", open_signup=True,
                               description="Every press release, as it is published.").id

    page.goto(f"{live_server.url}/subscribe/Newsroom")
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_label("Name").fill("Rea Der")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("checkbox").check()
    screenshot(page, "subscribe-form")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    screenshot(page, "subscribe-sent")

    [message] = outbox_messages(live_server.settings)
    assert message["To"] == "reader@example.org"
    page.goto(link_in(message, "/confirm/"))
    # The reader chose French: the pages from the mail's link on speak French.
    confirm = page.get_by_role("button", name="Valider")
    assert confirm.is_visible()
    screenshot(page, "confirm-page")
    with store.Session() as session:
        contact = session.scalar(select(Contact).where(Contact.email == "reader@example.org"))
        assert contact is not None and contact.language == "fr"
        contact_id = contact.id
    assert _status(store, contact_id, newsroom_id) is SubscriptionStatus.PENDING

    confirm.click()
    page.get_by_role("heading", name="Vous êtes abonné").wait_for()
    screenshot(page, "confirm-done")
    with store.Session() as session:
        sub = subscription(session, contact_id, newsroom_id)
        assert sub is not None and sub.status is SubscriptionStatus.SUBSCRIBED
        assert sub.consent_ip == "127.0.0.1" and sub.consent_at is not None

    # The preferences link on that page: untick the list and save.
    page.get_by_role("link", name="Gérer vos abonnements").click()
    page.get_by_role("heading", name="Vos abonnements").wait_for()
    page.get_by_role("checkbox", name="Newsroom").uncheck()
    screenshot(page, "preferences-page")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Vos choix sont enregistrés").wait_for()
    assert _status(store, contact_id, newsroom_id) is SubscriptionStatus.UNSUBSCRIBED


def test_the_newsroom_reads_on_a_phone(page, live_server, screenshot) -> None:
    now = datetime.now(UTC)
    with live_server.store.Session.begin() as session:
        public = Release(headline="IIIM Head Concludes his Visit to Damascus",
                         dateline_text="Damascus, April 16, 2025", status=ReleaseStatus.SENT,
                         first_sent_at=now - timedelta(hours=1),
                         body="The meetings focused on cooperation.\n\n- Independent\n"
                              "- Impartial",
                         media_contacts=[{"name": "Media Office",
                                          "email": "media@iiim.example.org", "phone": None}],
                         boilerplate_heading="About the IIIM",
                         boilerplate="The IIIM is a United Nations organisation.")
        embargoed = Release(headline="Not Yet Public", status=ReleaseStatus.SENT,
                            first_sent_at=now, embargo_until=now + timedelta(days=1))
        session.add_all([public, embargoed])

    page.goto(f"{live_server.url}/releases")
    screenshot(page, "newsroom-list")
    assert "Not Yet Public" not in page.content()
    page.get_by_role("link", name="IIIM Head Concludes his Visit to Damascus").click()
    page.get_by_text("-ENDS-").wait_for()
    screenshot(page, "newsroom-release")
    assert page.get_by_role("listitem").filter(has_text="Independent").first.is_visible()
