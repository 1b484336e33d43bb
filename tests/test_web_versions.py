"""The newsroom in every version: one address, the reader's language, hreflang, feeds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from starlette.testclient import TestClient

from distribution.store.models import Release, ReleaseStatus
from distribution.web.app import create_app
from tests.fixtures.settings import make_settings

pytest_plugins = ["tests.fixtures.web"]

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
HEADLINES = {"en": "Head Concludes Visit", "fr": "Le chef conclut sa visite",
             "ar": "رئيس الآلية يختتم زيارته"}


@pytest.fixture
def newsroom(store, tmp_path, clock) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, store.url)
    with TestClient(create_app(settings, store.Session, clock=clock),
                    follow_redirects=False) as client:
        yield client


@pytest.fixture
def release(store, clock):  # type: ignore[no-untyped-def]
    """An English original with French and Arabic versions; sent an hour ago."""
    def add(embargo: timedelta | None = None) -> dict[str, int]:
        ids = {}
        with store.Session.begin() as session:
            for code, headline in HEADLINES.items():
                item = Release(
                    headline=headline, language=code, status=ReleaseStatus.SENT,
                    first_sent_at=clock.now - timedelta(hours=1), body=f"Text {code}.",
                    embargo_until=clock.now + embargo if embargo else None,
                    embargo_zone="Europe/Zurich" if embargo else None,
                    media_contacts=[{"name": "Media", "email": "media@example.org",
                                     "phone": "+41 22 917 00 00"}],
                    version_of_id=ids.get("en"))
                session.add(item)
                session.flush()
                ids[code] = item.id
        return ids
    return add


def test_the_page_follows_accept_language_then_lang_and_links_every_version(newsroom, release):
    ids = release()
    path = f"/releases/{ids['en']}"
    assert HEADLINES["en"] in newsroom.get(path).text
    french = newsroom.get(path, headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"})
    assert HEADLINES["fr"] in french.text and '<html lang="fr" dir="ltr">' in french.text
    assert french.headers["content-language"] == "fr" and "Pour toute demande" in french.text
    arabic = newsroom.get(f"{path}?lang=ar", headers={"Accept-Language": "fr"})
    assert HEADLINES["ar"] in arabic.text and '<html lang="ar" dir="rtl">' in arabic.text
    assert '<article class="release" lang="ar" dir="rtl">' in arabic.text
    for code in HEADLINES:
        assert (f'<link rel="alternate" hreflang="{code}" '
                f'href="https://press.iiim.example.org/releases/{ids["en"]}?lang={code}">'
                in arabic.text)
    assert 'hreflang="x-default"' in arabic.text
    unknown = newsroom.get(f"{path}?lang=de")
    assert HEADLINES["en"] in unknown.text


def test_a_version_has_no_address_of_its_own(newsroom, release):
    ids = release()
    moved = newsroom.get(f"/releases/{ids['ar']}")
    assert moved.status_code == 301
    assert moved.headers["location"] == f"/releases/{ids['en']}?lang=ar"
    listing = newsroom.get("/releases", headers={"Accept-Language": "ar"}).text
    assert listing.count(f'href="/releases/{ids["en"]}"') == 1
    assert HEADLINES["ar"] in listing and HEADLINES["en"] not in listing


def test_no_version_is_on_any_public_path_before_the_lift(newsroom, release, clock):
    ids = release(embargo=timedelta(hours=2))
    paths = ["/releases", "/feed.atom", "/feed/ar.atom", "/feed/fr.atom",
             *(f"/releases/{i}" for i in ids.values()),
             *(f"/releases/{ids['en']}?lang={code}" for code in HEADLINES)]
    for path in paths:
        for language in ("en", "fr", "ar"):
            text = newsroom.get(path, headers={"Accept-Language": language}).text
            assert not any(h in text for h in HEADLINES.values()), (path, language)
    clock.advance(hours=2)
    assert HEADLINES["ar"] in newsroom.get(f"/releases/{ids['en']}?lang=ar").text


def test_feeds_mark_each_entry_language_and_there_is_one_per_language(newsroom, release):
    ids = release()
    main = ET.fromstring(newsroom.get("/feed.atom").content)  # noqa: S314 - our own answer
    [entry] = main.findall(f"{ATOM}entry")
    assert entry.get(XML_LANG) == "en" and entry.findtext(f"{ATOM}title") == HEADLINES["en"]
    arabic = newsroom.get("/feed/ar.atom")
    assert arabic.headers["content-language"] == "ar"
    feed = ET.fromstring(arabic.content)  # noqa: S314 - our own answer
    assert feed.get(XML_LANG) == "ar"
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.get(XML_LANG) == "ar" and entry.findtext(f"{ATOM}title") == HEADLINES["ar"]
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/releases/{ids['en']}?lang=ar")
    assert ET.fromstring(newsroom.get("/feed/es.atom").content).findall(  # noqa: S314
        f"{ATOM}entry") == []
    assert newsroom.get("/feed/xx-not-a-language.atom").status_code == 404


def test_a_phone_number_is_isolated_from_the_right_to_left_text(newsroom, release):
    ids = release()
    page = newsroom.get(f"/releases/{ids['en']}?lang=ar").text
    assert '<bdi class="phone" dir="ltr">+41 22 917 00 00</bdi>' in page
    assert '<a href="mailto:media@example.org" dir="ltr">' in page


def test_hostile_language_requests_change_nothing_but_the_language(newsroom, release):
    ids = release()
    path = f"/releases/{ids['en']}"
    huge = newsroom.get(path, headers={"Accept-Language": "ar;q=0.9, " + "x-" * 20_000})
    assert huge.status_code == 200 and HEADLINES["ar"] in huge.text
    for lang in ('"><script>alert(1)</script>', "ar\r\nSet-Cookie: x=1", "../../etc", "*"):
        page = newsroom.get(path, params={"lang": lang})
        assert page.status_code == 200 and "<script>alert" not in page.text
        assert "set-cookie" not in {k.lower() for k in page.headers if k.lower() != "vary"}
    assert newsroom.get("/feed/..%2Fsecret.atom").status_code == 404
    assert newsroom.get("/releases", headers={"Accept-Language": "q=;;,,;q=x"}).status_code \
        == 200
