"""`/feed.atom`: the newsroom as an Atom feed (RFC 4287), through the same visibility rule.

Every entry carries its `xml:lang`. `/feed.atom` has each release once, in its original
language; `/feed/{lang}.atom` has the releases that have a version in that language. An
entry keeps its id (the release's address) when the release is corrected: it shows the
newest text, and its `<updated>` moves to the correction.

Built with ElementTree, so every text is escaped and the XML is well formed whatever a
headline contains.
"""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config import Settings
from distribution.errors import InvalidInput
from distribution.locales import N_, translate
from distribution.mail.inline import inline_text
from distribution.media.catalogue import media_by_release
from distribution.media.links import public_url
from distribution.releases import languages
from distribution.releases.bodyformat import read_blocks
from distribution.store.models import ReleaseMedia
from distribution.web.context import Web, web
from distribution.web.newsroom.visibility import PublicRelease, public_families

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
WITHDRAWN_SUMMARY = N_("This release has been withdrawn.")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

ET.register_namespace("", ATOM)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = text
    return element


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _updated(view: PublicRelease) -> datetime:
    moments = (view.published_at, view.corrected_at, view.release.withdrawn_at)
    return max(m for m in moments if m is not None)


def _summary(view: PublicRelease) -> str:
    if view.withdrawn:
        return translate(view.release.language, WITHDRAWN_SUMMARY)
    first = next((b for b in read_blocks(view.release.body) if b.kind == "p"), None)
    return inline_text(first.text) if first else view.release.headline


def _entry(feed: ET.Element, base: str, view: PublicRelease, original_id: int,
           lang_in_url: bool, media: list[ReleaseMedia], settings: Settings) -> None:
    release = view.release
    entry = _el(feed, "entry")
    entry.set(XML_LANG, release.language)
    url = f"{base}/releases/{original_id}"
    if lang_in_url:
        url += f"?lang={release.language}"
    _el(entry, "id", url)
    title = (translate(release.language, "Withdrawn: %(headline)s", headline=release.headline)
             if view.withdrawn else release.headline)
    _el(entry, "title", title)
    _el(entry, "published", _stamp(view.published_at))
    _el(entry, "updated", _stamp(_updated(view)))
    _el(entry, "link", rel="alternate", type="text/html", href=url)
    if not view.withdrawn:  # a withdrawn release's media are gone
        for item in media:
            _el(entry, "link", rel="enclosure", type=item.content_type, length=str(item.bytes),
                title=item.caption or item.filename, href=public_url(settings, item))
    _el(entry, "summary", _summary(view))


def atom_feed(settings: Settings, views: list[tuple[PublicRelease, int]], now: datetime,
              language: str | None = None,
              media: dict[int, list[ReleaseMedia]] | None = None) -> bytes:
    """`views`: (the text shown, its release's address id); `language` for a one-language
    feed; `media` by address id (every version shows its original's)."""
    base = settings.base_url.rstrip("/")
    path = f"/feed/{language}.atom" if language else "/feed.atom"
    feed = ET.Element(f"{{{ATOM}}}feed")
    if language:
        feed.set(XML_LANG, language)
    _el(feed, "id", f"{base}{path}")
    _el(feed, "title", translate(language, "%(org)s: press releases", org=settings.org_name))
    _el(feed, "updated", _stamp(max((_updated(v) for v, _ in views), default=now)))
    _el(feed, "link", rel="self", type="application/atom+xml", href=f"{base}{path}")
    _el(feed, "link", rel="alternate", type="text/html", href=f"{base}/releases")
    author = _el(feed, "author")
    _el(author, "name", settings.org_name)
    for view, original_id in views[:FEED_SIZE]:
        _entry(feed, base, view, original_id, language is not None,
               (media or {}).get(original_id, []), settings)
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


def _build(w: Web, language: str | None) -> bytes:
    now = w.clock()
    with w.sessions() as session:
        views = [(public.current(line), public.id, public.family.main.head.id)
                 for public in public_families(
                    session, now, require_approval=w.settings.require_approval)
                 for line in public.family.lines
                 if (line is public.family.main if language is None
                     else line.language.lower() == language.lower())][:FEED_SIZE]
        # The photos and files of the original's current text, with every version.
        found = media_by_release(session, [owner for _, _, owner in views])
        media = {family_id: found.get(owner, []) for _, family_id, owner in views}
        return atom_feed(w.settings, [(view, family_id) for view, family_id, _ in views],
                         now, language, media)


async def show(request: Request) -> Response:
    body = await run_in_threadpool(_build, web(request), None)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


async def show_language(request: Request) -> Response:
    code = request.path_params["language"]
    try:
        language = languages.checked(code)
    except InvalidInput:
        raise HTTPException(404) from None
    body = await run_in_threadpool(_build, web(request), language)
    return Response(body, media_type="application/atom+xml; charset=utf-8",
                    headers={"Content-Language": language})


routes = [Route("/feed.atom", show, methods=["GET"]),
          Route("/feed/{language}.atom", show_language, methods=["GET"])]
