"""The public newsroom: `/releases` (newest first) and `/releases/{id}`.

Both read through visibility.public_view: an embargoed or unsent release answers exactly
like a missing one (404), and a withdrawn one shows a notice without its text. A release's
language versions share its address: `/releases/{id}` shows the one the reader asks for
(`?lang=`, else Accept-Language, else the original) and links the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel import Locale
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config import Settings
from distribution import embargo, locales, times
from distribution.locales.dates import date_text
from distribution.mail import tokens
from distribution.mail.view import ReleaseView, release_view
from distribution.media.catalogue import media_of
from distribution.store.models import Release
from distribution.web.context import Web, web
from distribution.web.language import choose, preferred
from distribution.web.newsroom.gallery import NO_GALLERY, Gallery, gallery
from distribution.web.newsroom.media import withdrawn
from distribution.web.newsroom.visibility import (
    PublicRelease,
    public_release,
    public_releases,
    public_versions,
    published_at,
)

PAGE_SIZE = 30
MAX_ID = 2**31 - 1  # larger ids cannot exist; do not hand them to the database


@dataclass(frozen=True)
class Version:
    language: str
    name: str  # the language's own name: "العربية", "Français"
    href: str


@dataclass(frozen=True)
class ReleasePage:
    """One release as the newsroom shows it; a withdrawn one keeps only headline and date."""

    id: int
    headline: str
    published: str
    withdrawn: bool
    view: ReleaseView | None  # the same view model the emails render; None when withdrawn
    media: Gallery = NO_GALLERY  # photos and downloads; none when withdrawn
    embargo_note: str | None = None  # on a trusted reader's signed page before the lift
    language: str = "en"
    direction: str = "ltr"
    versions: tuple[Version, ...] = ()  # every public language version, this one included


def local_date(settings: Settings, moment: datetime, language: str | None = None) -> str:
    """"16 April 2025" in the office's zone (UTC when none is configured), as the language
    writes it."""
    return date_text(times.to_zone(moment, settings.timezone or "UTC"), language)


def release_page(settings: Settings, public: PublicRelease,
                 versions: tuple[Version, ...] = (), page_id: int | None = None,
                 media: Gallery = NO_GALLERY) -> ReleasePage:
    release = public.release
    language = release.language or "en"
    return ReleasePage(
        id=page_id or release.id, headline=release.headline,
        published=local_date(settings, public.published_at, language),
        withdrawn=public.withdrawn,
        view=None if public.withdrawn else release_view(release, settings),
        language=language, direction=locales.direction(language), versions=versions,
        media=NO_GALLERY if public.withdrawn else media,
    )


def _version(original_id: int, release: Release) -> Version:
    try:
        name = Locale.parse(release.language.replace("-", "_")).get_display_name() or ""
    except (ValueError, LookupError):
        name = release.language
    return Version(release.language, name, f"/releases/{original_id}?lang={release.language}")


def _chosen(session, original: PublicRelease, wanted: list[str],  # type: ignore[no-untyped-def]
            now: datetime) -> tuple[PublicRelease, tuple[Version, ...]]:
    found = public_versions(session, original.release, now)
    by_language = {v.release.language: v for v in found}
    code = choose(wanted, by_language) or original.release.language
    versions = tuple(_version(original.release.id, v.release) for v in found)
    return by_language.get(code, original), versions


def _listing(w: Web, wanted: list[str]) -> list[ReleasePage]:
    now = w.clock()
    with w.sessions() as session:
        pages = []
        for view in public_releases(session, now):
            chosen, versions = _chosen(session, view, wanted, now)
            pages.append(release_page(w.settings, chosen, versions, view.release.id))
        return pages


def _one(w: Web, release_id: int, wanted: list[str]) -> ReleasePage | str | None:
    """The page, the address of the original (for a version's own id), or None: hidden."""
    now = w.clock()
    with w.sessions() as session:
        release = session.get(Release, release_id)
        if release is None:
            return None
        original = session.get_one(Release, release.original_id)
        view = public_release(session, original.id, now)
        if view is None:
            return None
        if release.version_of_id is not None:
            return f"/releases/{original.id}?lang={release.language}"
        chosen, versions = _chosen(session, view, wanted, now)
        # Photos and files are the original's, shown with every version.
        return release_page(w.settings, chosen, versions, original.id,
                            gallery(w.settings, media_of(session, original.id)))


def _trusted(w: Web, token: str) -> ReleasePage | None:
    """The page behind a trusted copy's "View online": before the lift too, never withdrawn."""
    try:
        release_id, distribution_id = tokens.read_release_page_token(w.settings, token)
    except tokens.BadToken:
        return None
    with w.sessions() as session:
        release = session.get(Release, release_id)
        if release is None or withdrawn(release):
            return None
        now = w.clock()
        note = None
        if release.embargo_until is not None and not embargo.lifted(release.embargo_until, now):
            note = times.embargo_line(release.embargo_until, release.embargo_zone or "UTC")
        rows = media_of(session, release_id)
        return ReleasePage(
            id=release.id, headline=release.headline,
            published=local_date(w.settings, published_at(release), release.language),
            withdrawn=False, view=release_view(release, w.settings),
            media=gallery(w.settings, rows, distribution_id), embargo_note=note,
            language=release.language, direction=locales.direction(release.language))


async def index(request: Request) -> Response:
    w = web(request)
    number = request.query_params.get("page", "1")
    # ASCII digits only: str.isdigit() is also true of "²", which int() refuses.
    page = int(number) if number.isascii() and number.isdigit() and 0 < int(number) < 10_000 else 0
    if not page:
        raise HTTPException(404)
    releases = await run_in_threadpool(_listing, w, preferred(request.scope["state"]))
    shown = releases[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    if page > 1 and not shown:
        raise HTTPException(404)
    return w.page("releases.html.j2", {
        "releases": shown, "page": page,
        "newer": page - 1 if page > 1 else None,
        "older": page + 1 if len(releases) > page * PAGE_SIZE else None,
    }, public=True)


async def show(request: Request) -> Response:
    w = web(request)
    release_id = request.path_params["release_id"]
    wanted = preferred(request.scope["state"])
    page = await run_in_threadpool(_one, w, release_id, wanted) if release_id <= MAX_ID else None
    if page is None:
        raise HTTPException(404)  # hidden and missing look the same
    if isinstance(page, str):
        return RedirectResponse(page, status_code=301)
    # 410 Gone: a withdrawn release is permanently no longer available (search engines drop it).
    return w.page("release.html.j2", {"release": page, "base_url": w.settings.base_url.rstrip("/")},
                  status=410 if page.withdrawn else 200, public=True, language=page.language)


async def trusted(request: Request) -> Response:
    w = web(request)
    page = await run_in_threadpool(_trusted, w, request.path_params["token"])
    if page is None:
        raise HTTPException(404)
    # For the reader the link was sent to: not kept by shared caches, never indexed.
    return w.page("release.html.j2", {"release": page, "base_url": ""},
                  language=page.language)


async def home(request: Request) -> Response:
    return RedirectResponse("/releases", status_code=302)


routes = [Route("/", home, methods=["GET"]),
          Route("/releases", index, methods=["GET"]),
          Route("/releases/{release_id:int}", show, methods=["GET"]),
          Route("/releases/s/{token}", trusted, methods=["GET"])]
