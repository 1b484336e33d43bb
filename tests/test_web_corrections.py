"""A corrected release in the newsroom: one address, one feed entry, its earlier texts kept.

`/releases/{first id}` shows the newest text with "Corrected on <date>" and links to the
earlier texts at `/releases/{id}/history/{n}`; a correction's own id answers 301 there; the
feed entry keeps its id. Nothing of a hidden release shows, and a withdrawn one shows its
notice everywhere, its earlier texts included.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from starlette.testclient import TestClient

from distribution.mail import tokens
from distribution.store.models import Release, ReleaseStatus
from distribution.web.app import create_app
from tests.fixtures.settings import make_settings

pytest_plugins = ["tests.fixtures.web"]

ATOM = "{http://www.w3.org/2005/Atom}"
FIRST, SECOND, THIRD = ("Briefing for Member States", "Briefing for supportive Member States",
                        "Briefing for all Member States")
ARABIC, ARABIC_FIXED = "إحاطة للدول الأعضاء", "إحاطة لجميع الدول الأعضاء"


@pytest.fixture
def settings(tmp_path, store):  # type: ignore[no-untyped-def]
    # Auckland: 23:30 UTC on 16 April is already 17 April at the office.
    return make_settings(tmp_path, store.url, timezone="Pacific/Auckland")


@pytest.fixture
def newsroom(store, settings, clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store.Session, clock=clock),
                    follow_redirects=False) as client:
        yield client


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    from tests.fixtures.web import FakeClock

    return FakeClock(datetime(2025, 4, 18, 9, 0, tzinfo=UTC))


SENT = datetime(2025, 4, 15, 8, 0, tzinfo=UTC)
CORRECTED = datetime(2025, 4, 16, 23, 30, tzinfo=UTC)  # 17 April in Auckland


@pytest.fixture
def family(store):  # type: ignore[no-untyped-def]
    """A release, corrected once; an Arabic version, corrected once. Sent on 15 April."""
    def add(*, embargo: datetime | None = None, withdrawn: datetime | None = None,
            headlines: tuple[str, ...] = (FIRST, SECOND)) -> dict[str, int]:
        ids: dict[str, int] = {}
        status = ReleaseStatus.WITHDRAWN if withdrawn else ReleaseStatus.SENT
        shared = dict(status=status, first_sent_at=SENT, embargo_until=embargo,
                      embargo_zone="Europe/Zurich" if embargo else None, withdrawn_at=withdrawn)
        with store.Session.begin() as session:
            previous = None
            for n, headline in enumerate(headlines):
                row = Release(headline=headline, language="en", body=f"Text {n + 1}.",
                              corrects_id=previous, created_at=SENT if n == 0 else
                              CORRECTED + timedelta(hours=n - 1), **shared)
                session.add(row)
                session.flush()
                ids[f"en{n + 1}"] = previous = row.id
            arabic = Release(headline=ARABIC, language="ar", body="النص الأول.",
                             version_of_id=ids["en1"], created_at=SENT, **shared)
            session.add(arabic)
            session.flush()
            fixed = Release(headline=ARABIC_FIXED, language="ar", body="النص المصحح.",
                            version_of_id=ids["en1"], corrects_id=arabic.id,
                            created_at=CORRECTED, **shared)
            session.add(fixed)
            session.flush()
            ids["ar1"], ids["ar2"] = arabic.id, fixed.id
        return ids
    return add


def _feed(client: TestClient, path: str = "/feed.atom") -> list[ET.Element]:
    return ET.fromstring(client.get(path).content).findall(f"{ATOM}entry")  # noqa: S314


def test_the_release_keeps_its_address_and_shows_the_newest_text(newsroom, family):
    ids = family()
    page = newsroom.get(f"/releases/{ids['en1']}")
    assert page.status_code == 200
    assert SECOND in page.text and "Text 2." in page.text and "Text 1." not in page.text
    # The date the office's zone gives it, linked to the earlier text.
    assert "Corrected on 17 April 2025." in page.text
    assert f'<a href="/releases/{ids["en1"]}/history/1">15 April 2025</a>' in page.text
    moved = newsroom.get(f"/releases/{ids['en2']}")
    assert moved.status_code == 301 and moved.headers["location"] == f"/releases/{ids['en1']}"
    listing = newsroom.get("/releases").text
    assert listing.count(f'href="/releases/{ids["en1"]}"') == 1
    assert SECOND in listing and FIRST not in listing
    assert f"/releases/{ids['en2']}" not in listing


def test_an_earlier_text_stays_at_its_own_address_and_links_the_current_one(newsroom, family):
    ids = family(headlines=(FIRST, SECOND, THIRD))
    root = ids["en1"]
    first = newsroom.get(f"/releases/{root}/history/1")
    assert first.status_code == 200
    assert FIRST in first.text and "Text 1." in first.text and THIRD not in first.text
    assert "This is an earlier text of this release, replaced on 17 April 2025." in first.text
    assert f'<a href="/releases/{root}">Read the current text</a>' in first.text
    second = newsroom.get(f"/releases/{root}/history/2")
    assert SECOND in second.text and "replaced on 17 April 2025" in second.text
    current = newsroom.get(f"/releases/{root}")
    assert THIRD in current.text
    for n in (1, 2):
        assert f'href="/releases/{root}/history/{n}"' in current.text
    # The newest text's number is the release itself; past it, nothing.
    newest = newsroom.get(f"/releases/{root}/history/3")
    assert newest.status_code == 301 and newest.headers["location"] == f"/releases/{root}"
    for path in (f"/releases/{root}/history/4", f"/releases/{root}/history/0",
                 f"/releases/{root}/history/99999999999", "/releases/99999/history/1"):
        assert newsroom.get(path).status_code == 404, path
    by_correction = newsroom.get(f"/releases/{ids['en3']}/history/1")
    assert by_correction.status_code == 301
    assert by_correction.headers["location"] == f"/releases/{root}/history/1"


def test_a_corrected_version_shows_its_own_note_in_its_language(newsroom, family):
    ids = family()
    root = ids["en1"]
    page = newsroom.get(f"/releases/{root}?lang=ar")
    assert ARABIC_FIXED in page.text and "النص المصحح." in page.text
    assert "صُحّح في 17 أبريل 2025." in page.text
    assert f'href="/releases/{root}/history/1?lang=ar"' in page.text
    earlier = newsroom.get(f"/releases/{root}/history/1?lang=ar")
    assert ARABIC in earlier.text and "النص الأول." in earlier.text
    assert "هذا نص سابق لهذا البيان" in earlier.text
    assert f'<a href="/releases/{root}?lang=ar">' in earlier.text
    for row in ("ar1", "ar2"):
        moved = newsroom.get(f"/releases/{ids[row]}")
        assert moved.status_code == 301
        assert moved.headers["location"] == f"/releases/{root}?lang=ar"
    # The earlier text's address does not change with the reader's browser.
    english = newsroom.get(f"/releases/{root}/history/1", headers={"Accept-Language": "ar"})
    assert FIRST in english.text and ARABIC not in english.text


def test_the_feed_keeps_one_entry_per_release_with_its_id(newsroom, family, store):
    ids = family(headlines=(FIRST,))
    [before] = _feed(newsroom)
    with store.Session.begin() as session:
        session.add(Release(headline=SECOND, language="en", body="Text 2.",
                            corrects_id=ids["en1"], created_at=CORRECTED,
                            status=ReleaseStatus.SENT, first_sent_at=SENT))
    [after] = _feed(newsroom)
    assert after.findtext(f"{ATOM}id") == before.findtext(f"{ATOM}id")
    assert after.findtext(f"{ATOM}id").endswith(f"/releases/{ids['en1']}")
    assert after.findtext(f"{ATOM}published") == before.findtext(f"{ATOM}published")
    assert before.findtext(f"{ATOM}updated") == "2025-04-15T08:00:00Z"
    assert after.findtext(f"{ATOM}updated") == "2025-04-16T23:30:00Z"
    assert (before.findtext(f"{ATOM}title"), after.findtext(f"{ATOM}title")) == (FIRST, SECOND)
    assert after.findtext(f"{ATOM}summary") == "Text 2."
    [arabic] = _feed(newsroom, "/feed/ar.atom")
    assert arabic.findtext(f"{ATOM}title") == ARABIC_FIXED
    assert arabic.findtext(f"{ATOM}id").endswith(f"/releases/{ids['en1']}?lang=ar")


def test_no_text_of_an_embargoed_release_is_anywhere_before_the_lift(newsroom, family, clock):
    ids = family(embargo=clock.now + timedelta(hours=2))
    root = ids["en1"]
    paths = ["/releases", "/feed.atom", "/feed/ar.atom",
             *(f"/releases/{i}" for i in ids.values()),
             f"/releases/{root}/history/1", f"/releases/{root}/history/1?lang=ar",
             f"/releases/{ids['en2']}/history/1"]
    for path in paths:
        response = newsroom.get(path)
        for headline in (FIRST, SECOND, ARABIC, ARABIC_FIXED):
            assert headline not in response.text, path
        if path.startswith("/releases/") and path != "/releases":
            # The answer of a release that does not exist, in the same language.
            missing = newsroom.get("/releases/999999" + path.partition("?")[1]
                                   + path.partition("?")[2])
            assert response.status_code == 404 and response.text == missing.text, path
    clock.advance(hours=2)
    assert FIRST in newsroom.get(f"/releases/{root}/history/1").text


def test_a_withdrawn_release_shows_its_notice_on_every_address_without_text(newsroom, family):
    ids = family(headlines=(FIRST, SECOND, THIRD), withdrawn=datetime(2025, 4, 17, 12, 0,
                                                                      tzinfo=UTC))
    root = ids["en1"]
    for path in (f"/releases/{root}", f"/releases/{root}?lang=ar",
                 f"/releases/{root}/history/1", f"/releases/{root}/history/2",
                 f"/releases/{root}/history/1?lang=ar"):
        page = newsroom.get(path)
        assert page.status_code == 410, path
        assert "has been withdrawn" in page.text or "سُحب" in page.text, path
        for text in ("Text 1.", "Text 2.", "Text 3.", "النص"):
            assert text not in page.text, path
        assert "/history/" not in page.text, path
    [entry] = _feed(newsroom)
    assert entry.findtext(f"{ATOM}title") == f"Withdrawn: {THIRD}"
    assert entry.findtext(f"{ATOM}updated") == "2025-04-17T12:00:00Z"


def test_a_trusted_copys_page_shows_the_newest_text_of_its_language(newsroom, family,
                                                                       settings):
    ids = family()
    page = newsroom.get(f"/releases/s/{tokens.release_page_token(settings, ids['ar1'], 1)}")
    assert page.status_code == 200
    assert ARABIC_FIXED in page.text and "صُحّح في 17 أبريل 2025." in page.text


def test_a_correction_waiting_for_approval_is_not_public_until_approved(
        store, tmp_path, clock, family):
    """With approval required, the office's text is the approved one: a correction not yet
    approved (its mail is held too) shows nowhere, not even at its own id."""
    ids = family()
    settings = make_settings(tmp_path, store.url, timezone="Pacific/Auckland",
                             require_approval="true")
    with store.Session.begin() as session:
        for key in ("en1", "ar1", "ar2"):
            session.get_one(Release, ids[key]).approved_revision = 1
    with TestClient(create_app(settings, store.Session, clock=clock),
                    follow_redirects=False) as newsroom:
        page = newsroom.get(f"/releases/{ids['en1']}")
        assert page.status_code == 200 and FIRST in page.text and SECOND not in page.text
        assert "Corrected on" not in page.text
        assert newsroom.get(f"/releases/{ids['en2']}").status_code == 404
        assert newsroom.get(f"/releases/{ids['en1']}/history/2").status_code == 404
        [entry] = _feed(newsroom)
        assert entry.findtext(f"{ATOM}title") == FIRST
        arabic = newsroom.get(f"/releases/{ids['en1']}?lang=ar")
        assert ARABIC_FIXED in arabic.text  # the approved Arabic correction is public

        with store.Session.begin() as session:
            session.get_one(Release, ids["en2"]).approved_revision = 1
        page = newsroom.get(f"/releases/{ids['en1']}")
        assert SECOND in page.text and "Corrected on" in page.text
        assert newsroom.get(f"/releases/{ids['en2']}").status_code == 301
