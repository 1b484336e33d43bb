"""`/feed.atom`: the newsroom as an Atom feed (RFC 4287), through the same visibility rule.

Built with ElementTree, so every text is escaped and the XML is well formed whatever a
headline contains.
"""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config import Settings
from distribution.mail.inline import inline_text
from distribution.mail.view import parse_blocks
from distribution.media.catalogue import media_by_release
from distribution.media.links import public_url
from distribution.store.models import ReleaseMedia
from distribution.web.context import Web, web
from distribution.web.newsroom.visibility import PublicRelease, public_releases

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
WITHDRAWN_SUMMARY = "This release has been withdrawn."

ET.register_namespace("", ATOM)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = text
    return element


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _updated(view: PublicRelease) -> datetime:
    withdrawn_at = view.release.withdrawn_at
    return max(view.published_at, withdrawn_at) if withdrawn_at else view.published_at


def _summary(view: PublicRelease) -> str:
    if view.withdrawn:
        return WITHDRAWN_SUMMARY
    first = next((b for b in parse_blocks(view.release.body) if b.kind == "p"), None)
    return inline_text(first.text) if first else view.release.headline


def _entry(feed: ET.Element, base: str, view: PublicRelease,
           media: list[ReleaseMedia], settings: Settings) -> None:
    release = view.release
    entry = _el(feed, "entry")
    url = f"{base}/releases/{release.id}"
    _el(entry, "id", url)
    _el(entry, "title", f"Withdrawn: {release.headline}" if view.withdrawn else release.headline)
    _el(entry, "published", _stamp(view.published_at))
    _el(entry, "updated", _stamp(_updated(view)))
    _el(entry, "link", rel="alternate", type="text/html", href=url)
    if not view.withdrawn:  # a withdrawn release's media are gone
        for item in media:
            _el(entry, "link", rel="enclosure", type=item.content_type, length=str(item.bytes),
                title=item.caption or item.filename, href=public_url(settings, item))
    _el(entry, "summary", _summary(view))


def atom_feed(settings: Settings, views: list[PublicRelease], now: datetime,
              media: dict[int, list[ReleaseMedia]] | None = None) -> bytes:
    base = settings.base_url.rstrip("/")
    feed = ET.Element(f"{{{ATOM}}}feed")
    _el(feed, "id", f"{base}/feed.atom")
    _el(feed, "title", f"{settings.org_name}: press releases")
    _el(feed, "updated", _stamp(max((_updated(v) for v in views), default=now)))
    _el(feed, "link", rel="self", type="application/atom+xml", href=f"{base}/feed.atom")
    _el(feed, "link", rel="alternate", type="text/html", href=f"{base}/releases")
    author = _el(feed, "author")
    _el(author, "name", settings.org_name)
    for view in views[:FEED_SIZE]:
        _entry(feed, base, view, (media or {}).get(view.release.id, []), settings)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _build(w: Web) -> bytes:
    now = w.clock()
    with w.sessions() as session:
        views = public_releases(session, now)[:FEED_SIZE]
        media = media_by_release(session, [v.release.id for v in views])
        return atom_feed(w.settings, views, now, media)


async def show(request: Request) -> Response:
    body = await run_in_threadpool(_build, web(request))
    return Response(body, media_type="application/atom+xml; charset=utf-8")


routes = [Route("/feed.atom", show, methods=["GET"])]
