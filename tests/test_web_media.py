"""Media on the web: every address before the lift, after it, and after a withdrawal.

A public media address must answer exactly like a missing one until the release is public;
a signed address (in trusted copies) works before the lift and stops at a withdrawal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from distribution.mail import tokens
from distribution.media import catalogue
from distribution.media.blobs import blob_store
from distribution.media.links import public_url, signed_url
from distribution.store.models import Release, ReleaseMedia, ReleaseStatus
from distribution.web import create_app
from tests.fixtures import media
from tests.fixtures.settings import make_settings

pytest_plugins = ["tests.fixtures.web"]

BASE = "https://press.iiim.example.org"
MISSING = "/media/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/nothing.jpg"


@pytest.fixture(params=["folder", "database"])
def settings_(request, store, tmp_path):
    return make_settings(tmp_path, store.url, media_store=request.param)


@pytest.fixture
def client(settings_, store, clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings_, store.Session, clock=clock)) as client:
        yield client


@pytest.fixture
def embargoed(store, settings_, clock):
    """A release whose trusted copies went out; it lifts in an hour. Its photo and PDF."""
    with store.Session.begin() as session:
        release = Release(headline="Embargoed findings", body="Text.",
                          embargo_until=clock.now + timedelta(hours=1), embargo_zone="UTC")
        session.add(release)
        session.flush()
        blobs = blob_store(settings_, session)
        photo = catalogue.attach(session, blobs, release, catalogue.Upload(
            media.jpeg(1600, 1000), "site visit.jpg", "Caption", "© IIIM", "Alt"), settings_)
        pdf = catalogue.attach(session, blobs, release, catalogue.Upload(
            media.pdf() + b"%" * 5000, "Rapport été.pdf"), settings_)
        release.status = ReleaseStatus.SCHEDULED
        release.first_sent_at = clock.now - timedelta(minutes=5)
        session.flush()
        return release.id, photo.id, pdf.id


def _row(store, media_id: int) -> ReleaseMedia:
    with store.Session() as session:
        row = session.get(ReleaseMedia, media_id)
        assert row is not None
        return row


def _path(url: str) -> str:
    assert url.startswith(BASE)
    return url[len(BASE):]


def _addresses(settings_, row: ReleaseMedia) -> tuple[list[str], list[str]]:
    sizes = [None, 480, 800, 1200] if row.renditions else [None]
    return ([_path(public_url(settings_, row, s)) for s in sizes],
            [_path(signed_url(settings_, row, 7, s)) for s in sizes])


def _like_missing(client: TestClient, path: str) -> None:
    missing, answer = client.get(MISSING), client.get(path)
    assert answer.status_code == missing.status_code == 404, path
    assert answer.content == missing.content
    assert answer.headers.get("cache-control") == missing.headers.get("cache-control")


def test_before_the_lift_public_addresses_answer_like_missing_ones_and_signed_ones_work(
        client, store, settings_, embargoed):
    _, photo_id, pdf_id = embargoed
    for media_id in (photo_id, pdf_id):
        public, signed = _addresses(settings_, _row(store, media_id))
        for path in public:
            _like_missing(client, path)
        for path in signed:
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["cache-control"] == "private, no-store"
            assert answer.headers["x-robots-tag"] == "noindex"


def test_after_the_lift_public_addresses_serve_with_type_name_cache_and_hash(
        client, store, settings_, embargoed, clock):
    _, photo_id, pdf_id = embargoed
    clock.advance(hours=1)  # the exact instant of the lift counts as lifted
    photo, pdf = _row(store, photo_id), _row(store, pdf_id)
    original = client.get(_path(public_url(settings_, photo)))
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/jpeg"
    assert original.headers["content-disposition"] == (
        "inline; filename=\"site visit.jpg\"; filename*=UTF-8''site%20visit.jpg")
    assert original.headers["cache-control"] == "public, max-age=300"
    assert original.headers["etag"] == f'"{hashlib.sha256(original.content).hexdigest()}"'
    assert original.headers["x-content-type-options"] == "nosniff"
    resized = client.get(_path(public_url(settings_, photo, 800)))
    assert resized.status_code == 200 and len(resized.content) < len(original.content)
    document = client.get(_path(public_url(settings_, pdf)))
    assert document.headers["content-type"] == "application/pdf"
    assert document.headers["content-disposition"] == (
        "attachment; filename=\"Rapport _t_.pdf\"; filename*=UTF-8''Rapport%20%C3%A9t%C3%A9.pdf")
    again = client.get(_path(public_url(settings_, pdf)),
                       headers={"If-None-Match": document.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    for path in _addresses(settings_, pdf)[1]:
        assert client.get(path).status_code == 200  # trusted links keep working


def test_ranges_of_a_large_file(client, store, settings_, embargoed, clock):
    _, _, pdf_id = embargoed
    clock.advance(hours=2)
    path = _path(public_url(settings_, _row(store, pdf_id)))
    whole = client.get(path).content
    part = client.get(path, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == whole[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(whole)}"
    tail = client.get(path, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == whole[-100:]
    rest = client.get(path, headers={"Range": f"bytes={len(whole) - 5}-"})
    assert rest.content == whole[-5:]
    beyond = client.get(path, headers={"Range": f"bytes={len(whole)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(whole)}"
    stale = client.get(path, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200 and stale.content == whole


def test_a_withdrawn_release_loses_every_media_address(client, store, settings_, embargoed,
                                                      clock):
    release_id, photo_id, pdf_id = embargoed
    clock.advance(hours=2)
    assert client.get(_path(public_url(settings_, _row(store, photo_id)))).status_code == 200
    with store.Session.begin() as session:
        release = session.get(Release, release_id)
        release.status = ReleaseStatus.WITHDRAWN
        release.withdrawn_at = clock.now
    for media_id in (photo_id, pdf_id):
        public, signed = _addresses(settings_, _row(store, media_id))
        for path in public + signed:
            _like_missing(client, path)


def test_a_release_never_sent_shows_no_media_even_after_its_lift_time(
        client, store, settings_, clock):
    with store.Session.begin() as session:
        release = Release(headline="Draft", body="Text.")
        session.add(release)
        session.flush()
        row = catalogue.attach(session, blob_store(settings_, session), release,
                               catalogue.Upload(media.png(), "draft.png"), settings_)
        media_id = row.id
    for path in _addresses(settings_, _row(store, media_id))[0]:
        _like_missing(client, path)


def test_forged_altered_or_borrowed_tokens_are_refused_like_missing_files(
        client, store, settings_, embargoed):
    _, photo_id, _ = embargoed
    genuine = _path(signed_url(settings_, _row(store, photo_id), 7))
    token = genuine.split("/")[3]
    borrowed = tokens.unsubscribe_token(settings_, photo_id, 7)  # same ids, other purpose
    other_key = replace(settings_, secret_key="another-key")
    for path in (genuine.replace(token, token[:-2] + "xx"),
                 genuine.replace(token, borrowed),
                 genuine.replace(token, tokens.media_token(other_key, photo_id, 7)),
                 "/media/s/not-a-token/x.jpg", genuine.replace("/media/s/", "/media/s/w1200/")):
        _like_missing(client, path)


# --- the release page, the trusted page and the feed -----------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"


def _enclosures(client: TestClient) -> list[dict[str, str]]:
    from xml.etree import ElementTree as ET

    feed = ET.fromstring(client.get("/feed.atom").content)  # noqa: S314 - our own answer
    return [dict(link.attrib) for link in feed.iter(f"{ATOM}link")
            if link.get("rel") == "enclosure"]


def test_the_public_page_and_feed_show_photos_and_downloads_only_after_the_lift(
        client, store, settings_, embargoed, clock):
    release_id, photo_id, pdf_id = embargoed
    photo, pdf = _row(store, photo_id), _row(store, pdf_id)
    assert client.get(f"/releases/{release_id}").status_code == 404
    assert _enclosures(client) == []
    assert photo.public_key not in client.get("/feed.atom").text
    clock.advance(hours=1)
    page = client.get(f"/releases/{release_id}").text
    for size in (480, 800, 1200):
        width = photo.renditions[str(size)]["width"]
        assert f"{_path(public_url(settings_, photo, size))} {width}w" in page
    assert 'alt="Alt"' in page
    assert '<figcaption>Caption <span class="credit">© IIIM</span></figcaption>' in page
    assert f'href="{_path(public_url(settings_, pdf))}">Rapport été.pdf</a> (PDF, 5 KB)' in page
    enclosures = _enclosures(client)
    assert [(e["href"], e["type"], e["length"]) for e in enclosures] == [
        (public_url(settings_, photo), "image/jpeg", str(photo.bytes)),
        (public_url(settings_, pdf), "application/pdf", str(pdf.bytes))]


def test_the_trusted_page_works_before_the_lift_with_signed_media_until_a_withdrawal(
        client, store, settings_, embargoed):
    release_id, photo_id, _ = embargoed
    path = f"/releases/s/{tokens.release_page_token(settings_, release_id, 7)}"
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-robots-tag"] == "noindex"
    assert "STRICTLY EMBARGOED" in page.text.upper() and "Embargoed findings" in page.text
    photo = _row(store, photo_id)
    assert photo.public_key not in page.text  # its public address would answer 404 now
    signed = _path(signed_url(settings_, photo, 7, 800))
    assert signed in page.text and client.get(signed).status_code == 200
    with store.Session.begin() as session:
        release = session.get(Release, release_id)
        release.status = ReleaseStatus.WITHDRAWN
        release.withdrawn_at = release.first_sent_at
    _like_missing(client, path)
    _like_missing(client, f"/releases/s/{tokens.media_token(settings_, release_id, 7)}")


def test_a_withdrawn_release_page_and_entry_show_no_media(client, store, settings_,
                                                         embargoed, clock):
    release_id, photo_id, _ = embargoed
    clock.advance(hours=2)
    with store.Session.begin() as session:
        release = session.get(Release, release_id)
        release.status = ReleaseStatus.WITHDRAWN
        release.withdrawn_at = clock.now
    page = client.get(f"/releases/{release_id}")
    assert page.status_code == 410
    assert _row(store, photo_id).public_key not in page.text + client.get("/feed.atom").text
    assert _enclosures(client) == []


def test_hostile_captions_and_names_are_escaped_on_the_page_and_in_headers(
        client, store, settings_, clock):
    with store.Session.begin() as session:
        release = Release(headline="Public", body="Text.")
        session.add(release)
        session.flush()
        row = catalogue.attach(session, blob_store(settings_, session), release, catalogue.Upload(
            media.png(), catalogue.clean_filename('a"b\r\nSet-Cookie: x=1;.png'),
            "<script>alert(1)</script>", "© <b>x</b>", '"><svg onload=alert(1)>'), settings_)
        release.status, release.first_sent_at = ReleaseStatus.SENT, clock.now
        release_id, media_id = release.id, row.id
    page = client.get(f"/releases/{release_id}").text
    assert "<script>alert" not in page and "<svg" not in page and "<b>x</b>" not in page
    answer = client.get(_path(public_url(settings_, _row(store, media_id))))
    assert answer.status_code == 200 and "set-cookie" not in answer.headers
    assert answer.headers["content-disposition"].startswith('inline; filename="a_bSet-Cookie')


def test_media_and_page_are_public_from_the_first_copy_delivered_after_the_lift(
        client, store, settings_, embargoed, clock):
    """Emails link to them: they must not wait for the whole distribution to finish."""
    from distribution.store.models import Delivery, DeliveryStatus, Distribution

    release_id, photo_id, _ = embargoed
    with store.Session.begin() as session:
        release = session.get(Release, release_id)
        release.first_sent_at = None  # the distribution is still under way
        dist = Distribution(release_id=release_id, list_names=["public"])
        session.add(dist)
        session.flush()
        session.add(Delivery(distribution_id=dist.id, contact_id=1, email="a@example.org",
                             status=DeliveryStatus.HELD))
        session.flush()
        dist_id = dist.id
    path = _path(public_url(settings_, _row(store, photo_id)))
    clock.advance(hours=1)
    _like_missing(client, path)  # lifted, but no copy delivered yet
    assert client.get(f"/releases/{release_id}").status_code == 404
    with store.Session.begin() as session:
        [row] = session.query(Delivery).filter_by(distribution_id=dist_id).all()
        row.status = DeliveryStatus.SENT
    assert client.get(path).status_code == 200
    assert client.get(f"/releases/{release_id}").status_code == 200


def test_head_answers_like_get_without_the_bytes(client, store, settings_, embargoed, clock):
    _, _, pdf_id = embargoed
    path = _path(public_url(settings_, _row(store, pdf_id)))
    assert client.head(path).status_code == 404
    clock.advance(hours=1)
    head, get = client.head(path), client.get(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
    assert head.headers["etag"] == get.headers["etag"]
