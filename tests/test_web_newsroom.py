"""The public newsroom: /releases, /releases/{id} and /feed.atom, on both backends.

Nothing embargoed may show anywhere before the lift; an embargoed release's URL answers
exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from xml.etree import ElementTree as ET

import pytest
from starlette.testclient import TestClient

from distribution.store.models import Release, ReleaseStatus
from distribution.web import create_app
from tests.fixtures.settings import make_settings

pytest_plugins = ["tests.fixtures.web"]

ATOM = "{http://www.w3.org/2005/Atom}"
EMBARGOED = "Secret Findings Published At Nine"


@pytest.fixture
def newsroom(store, tmp_path, clock) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, store.url)
    with TestClient(create_app(settings, store.Session, clock=clock)) as client:
        yield client


@pytest.fixture
def add(store, clock):
    """Add a release: sent an hour ago unless said otherwise."""
    def add_release(headline: str, *, status: ReleaseStatus = ReleaseStatus.SENT,
                    sent: timedelta | None = timedelta(hours=-1), **fields) -> int:
        with store.Session.begin() as session:
            release = Release(
                headline=headline, status=status,
                first_sent_at=clock.now + sent if sent is not None else None,
                body=fields.pop("body", "First paragraph.\n\n- One\n- Two"), **fields)
            session.add(release)
            session.flush()
            return release.id
    return add_release


def _everything(client: TestClient) -> str:
    """All public surfaces, as one text."""
    return client.get("/releases").text + client.get("/feed.atom").text


def _feed(client: TestClient) -> ET.Element:
    response = client.get("/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)  # noqa: S314 - our own server's answer


def test_a_sent_release_is_a_full_page(newsroom, add) -> None:
    release_id = add(
        "IIIM Head Concludes Visit", subheadline="Second visit to Damascus",
        dateline_text="Damascus, April 16, 2025", dateline_date=date(2025, 4, 16),
        body="The meetings focused on cooperation.\n\n“It was constructive,” he said.\n\n"
             "- Independent\n- Impartial",
        end_marker="-ENDS-",
        media_contacts=[{"name": "Media Office", "email": "media@iiim.example.org",
                         "phone": "+41 22 000 00 00"}],
        boilerplate_heading="About the IIIM",
        boilerplate="The IIIM is a United Nations organisation.")
    page = newsroom.get(f"/releases/{release_id}")
    assert page.status_code == 200
    for text in ("IIIM Head Concludes Visit", "Second visit to Damascus",
                 "Damascus, April 16, 2025 –</span> The meetings focused on cooperation.",
                 "“It was constructive,” he said.", "<li>Independent</li>",
                 "<li>Impartial</li>", "-ENDS-", "Media Office", "mailto:media@iiim.example.org",
                 "+41 22 000 00 00", "About the IIIM",
                 "The IIIM is a United Nations organisation."):
        assert text in page.text


def test_the_listing_is_newest_first_and_leaves_out_drafts(newsroom, add) -> None:
    add("Older Release", sent=timedelta(days=-2))
    add("Newer Release", sent=timedelta(hours=-1))
    draft = add("Draft Release", status=ReleaseStatus.DRAFT, sent=None)
    listing = newsroom.get("/releases").text
    assert listing.index("Newer Release") < listing.index("Older Release")
    assert "Draft Release" not in _everything(newsroom)
    assert newsroom.get(f"/releases/{draft}").status_code == 404


def test_an_embargoed_release_is_nowhere_before_the_lift(newsroom, add, clock) -> None:
    # Trusted media got it already (so it is "sent"); the public must wait for the lift.
    release_id = add(EMBARGOED, embargo_until=clock.now + timedelta(hours=2),
                     embargo_zone="Europe/Zurich")
    hidden = newsroom.get(f"/releases/{release_id}")
    missing = newsroom.get("/releases/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text == missing.text
    assert EMBARGOED not in _everything(newsroom)
    assert EMBARGOED not in newsroom.get(f"/releases/{release_id}").text

    clock.advance(hours=2)  # the lift, to the second
    assert newsroom.get(f"/releases/{release_id}").status_code == 200
    assert EMBARGOED in newsroom.get("/releases").text
    assert EMBARGOED in newsroom.get("/feed.atom").text


def test_a_release_scheduled_but_not_yet_sent_is_hidden(newsroom, add) -> None:
    release_id = add("Scheduled Release", status=ReleaseStatus.SCHEDULED, sent=None)
    assert newsroom.get(f"/releases/{release_id}").status_code == 404
    assert "Scheduled Release" not in _everything(newsroom)


def test_a_withdrawn_release_shows_as_withdrawn_without_its_text(newsroom, add, clock) -> None:
    release_id = add("Withdrawn Release", status=ReleaseStatus.WITHDRAWN,
                     withdrawn_at=clock.now - timedelta(minutes=5),
                     body="The withdrawn text must not be shown.")
    page = newsroom.get(f"/releases/{release_id}")
    assert page.status_code == 410
    assert "Withdrawn Release" in page.text and "has been withdrawn" in page.text
    assert "must not be shown" not in _everything(newsroom) + page.text
    assert "Withdrawn" in newsroom.get("/releases").text
    [entry] = _feed(newsroom).findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Withdrawn: Withdrawn Release"


def test_a_release_withdrawn_before_its_lift_never_shows(newsroom, add, clock) -> None:
    release_id = add(EMBARGOED, status=ReleaseStatus.WITHDRAWN,
                     embargo_until=clock.now + timedelta(hours=2),
                     withdrawn_at=clock.now - timedelta(minutes=5))
    clock.advance(hours=3)
    assert newsroom.get(f"/releases/{release_id}").status_code == 404
    assert EMBARGOED not in _everything(newsroom)


def test_the_atom_feed_is_valid_and_has_only_visible_entries(newsroom, add, clock) -> None:
    visible = add("Visible <Release> & Co", sent=timedelta(hours=-3))
    add(EMBARGOED, embargo_until=clock.now + timedelta(days=1))
    add("Draft", status=ReleaseStatus.DRAFT, sent=None)
    feed = _feed(newsroom)
    assert feed.tag == f"{ATOM}feed"
    for child in ("id", "title", "updated"):
        assert feed.findtext(f"{ATOM}{child}")
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Visible <Release> & Co"
    assert entry.findtext(f"{ATOM}id").endswith(f"/releases/{visible}")
    assert entry.findtext(f"{ATOM}updated")
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/releases/{visible}")
    assert entry.findtext(f"{ATOM}summary") == "First paragraph."


def test_the_feed_is_newest_first_by_when_the_public_saw_it(newsroom, add, clock) -> None:
    add("Sent Early, Lifted Late", sent=timedelta(days=-3),
        embargo_until=clock.now - timedelta(hours=1))
    add("Sent Yesterday", sent=timedelta(days=-1))
    titles = [e.findtext(f"{ATOM}title") for e in _feed(newsroom).findall(f"{ATOM}entry")]
    assert titles == ["Sent Early, Lifted Late", "Sent Yesterday"]


def test_headlines_are_escaped_in_pages(newsroom, add) -> None:
    release_id = add("<script>alert(1)</script>")
    for text in (newsroom.get("/releases").text, newsroom.get(f"/releases/{release_id}").text):
        assert "<script>" not in text and "&lt;script&gt;" in text


@pytest.mark.parametrize("path", ["/releases/99999999999999999999", "/releases/abc",
                                  "/releases?page=0", "/releases?page=x", "/releases?page=2",
                                  "/releases?page=²", "/releases?page=١", "/releases?page=𝟐"])
def test_odd_addresses_are_404(newsroom, path: str) -> None:
    assert newsroom.get(path).status_code == 404


def test_the_listing_pages(newsroom, add) -> None:
    for n in range(31):
        add(f"Release number {n:02d}", sent=timedelta(minutes=-n - 1))
    first = newsroom.get("/releases").text
    assert "Release number 00" in first and "Release number 30" not in first
    assert 'href="/releases?page=2"' in first
    second = newsroom.get("/releases?page=2").text
    assert "Release number 30" in second and 'href="/releases?page=1"' in second


def test_the_home_page_leads_to_the_releases(newsroom) -> None:
    response = newsroom.get("/", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/releases"


def test_the_stylesheet_is_served(newsroom) -> None:
    response = newsroom.get("/static/style.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")


def test_a_right_to_left_release_is_marked_so(newsroom, add) -> None:
    release_id = add("بيان صحفي", language="ar")
    page = newsroom.get(f"/releases/{release_id}").text
    assert '<html lang="ar">' in page and 'dir="rtl"' in page


def test_a_corrected_release_is_listed_once_as_its_new_version(newsroom, add) -> None:
    original = add("Ministerial Briefing for Member States")
    add("Ministerial Briefing for supportive Member States", corrects_id=original)
    listing = newsroom.get("/releases").text
    assert "Ministerial Briefing for supportive Member States" in listing
    assert "Ministerial Briefing for Member States" not in listing
