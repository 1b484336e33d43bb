"""The public newsroom: `/releases` (newest first), `/releases/{id}` and its earlier texts.

Everything reads through visibility.public_family: an embargoed or unsent release answers
exactly like a missing one (404), and a withdrawn one shows a notice without its text, its
earlier texts included. A release keeps one address whatever corrects it, its family's first
id: `/releases/{id}` shows the newest text in the language the reader asks for (`?lang=`,
else Accept-Language, else the original's), says when it was corrected, and links each
earlier text at `/releases/{id}/history/{n}` (n = 1 for the first text; `?lang=` for a
language version's, the original's without). The id of a correction or of a language
version answers 301 with the family's address.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from babel import Locale
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config import Settings
from distribution import embargo, locales, times
from distribution.errors import NotFound
from distribution.locales.dates import date_text
from distribution.mail import tokens
from distribution.mail.view import ReleaseView, release_view
from distribution.media.catalogue import media_of
from distribution.releases.families import Family, Line, family_of
from distribution.web.context import Web, web
from distribution.web.language import choose, preferred
from distribution.web.newsroom.gallery import NO_GALLERY, Gallery, gallery
from distribution.web.newsroom.media import withdrawn
from distribution.web.newsroom.visibility import (
    PublicFamily,
    PublicRelease,
    public_families,
    public_family,
    published_at,
)

PAGE_SIZE = 30
MAX_ID = 2**31 - 1  # larger ids cannot exist; do not hand them to the database
MAX_TEXTS = 10_000  # no release has more texts; a larger number is not looked up


@dataclass(frozen=True)
class Version:
    language: str
    name: str  # the language's own name: "العربية", "Français"
    href: str


@dataclass(frozen=True)
class Earlier:
    """A link to an earlier text of the release."""

    number: int  # 1: the first text
    date: str  # when it became the text: "16 April 2025"
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
    corrected: str | None = None  # the date the text shown replaced an earlier one
    earlier: tuple[Earlier, ...] = ()  # the earlier texts of the language shown
    replaced: str | None = None  # on an earlier text's page: when the next text replaced it
    current_href: str | None = None  # on an earlier text's page: the current text's address


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
        corrected=(local_date(settings, public.corrected_at, language)
                   if public.corrected_at and not public.withdrawn else None),
    )


def address(family: Family, line: Line) -> str:
    """The public address of a language's current text."""
    page = f"/releases/{family.root.id}"
    return page if line is family.main else f"{page}?lang={line.language}"


def history_address(family: Family, line: Line, number: int) -> str:
    page = f"/releases/{family.root.id}/history/{number}"
    return page if line is family.main else f"{page}?lang={line.language}"


def _version(family: Family, line: Line) -> Version:
    try:
        name = Locale.parse(line.language.replace("-", "_")).get_display_name() or ""
    except (ValueError, LookupError):
        name = line.language
    return Version(line.language, name, f"/releases/{family.root.id}?lang={line.language}")


def _versions(family: Family) -> tuple[Version, ...]:
    return tuple(_version(family, line) for line in family.lines)


def _line(family: Family, wanted: list[str]) -> Line:
    """The language the reader asks for, else the original's."""
    lines = family.by_language()
    return lines.get(choose(wanted, lines) or "", family.main)


def _current_page(settings: Settings, session: Session, public: PublicFamily,
                  line: Line) -> ReleasePage:
    family = public.family
    # Photos and files are the original's (its current text's), shown with every version.
    media = gallery(settings, media_of(session, family.main.head.id))
    page = release_page(settings, public.current(line), _versions(family), public.id, media)
    if public.withdrawn:
        return page
    earlier = tuple(
        Earlier(n, local_date(settings, _became_current(public, line, n), line.language),
                history_address(family, line, n))
        for n in range(1, len(line.texts)))
    return replace(page, earlier=earlier)


def _became_current(public: PublicFamily, line: Line, number: int) -> datetime:
    return public.published_at if number == 1 else line.texts[number - 1].created_at


def _listing(w: Web, wanted: list[str]) -> list[ReleasePage]:
    now = w.clock()
    with w.sessions() as session:
        return [release_page(w.settings, public.current(_line(public.family, wanted)),
                             _versions(public.family), public.id)
                for public in public_families(
                    session, now, require_approval=w.settings.require_approval)]


def _one(w: Web, release_id: int, wanted: list[str]) -> ReleasePage | str | None:
    """The page, the family's address (for a correction's or a version's own id), or None:
    hidden."""
    with w.sessions() as session:
        public = public_family(session, release_id, w.clock(),
                               require_approval=w.settings.require_approval)
        if public is None:
            return None
        family = public.family
        if release_id != public.id:
            return address(family, family.line_of(release_id))
        return _current_page(w.settings, session, public, _line(family, wanted))


def _earlier(w: Web, release_id: int, number: int, lang: str | None) -> ReleasePage | str | None:
    """An earlier text's page; an address (the family's, or the current text's); or None."""
    with w.sessions() as session:
        public = public_family(session, release_id, w.clock(),
                               require_approval=w.settings.require_approval)
        if public is None:
            return None
        family = public.family
        if release_id != public.id:
            return history_address(family, family.line_of(release_id), number)
        # Only ?lang= chooses: the address of an earlier text is the same for every reader.
        line = _line(family, [lang] if lang else [])
        if not 1 <= number <= len(line.texts):
            return None
        if number == len(line.texts):
            return address(family, line)
        if public.withdrawn:
            return release_page(w.settings, public.current(line), page_id=public.id)
        page = release_page(w.settings, public.text(line, number), page_id=public.id)
        replaced = local_date(w.settings, line.texts[number].created_at, line.language)
        return replace(page, replaced=replaced, current_href=address(family, line))


def _trusted(w: Web, token: str) -> ReleasePage | None:
    """The page behind a trusted copy's "View online": before the lift too, never withdrawn.
    It shows the newest text of the language the copy was in."""
    try:
        release_id, distribution_id = tokens.read_release_page_token(w.settings, token)
    except tokens.BadToken:
        return None
    with w.sessions() as session:
        try:
            family = family_of(session, release_id)
        except NotFound:
            return None
        if withdrawn(family.main.head):
            return None
        line = family.line_of(release_id)
        release = line.head
        now = w.clock()
        note = None
        if release.embargo_until is not None and not embargo.lifted(release.embargo_until, now):
            note = times.embargo_line(release.embargo_until, release.embargo_zone or "UTC")
        rows = media_of(session, family.main.head.id)
        corrected = (local_date(w.settings, release.created_at, release.language)
                     if line.corrected else None)
        return ReleasePage(
            id=family.root.id, headline=release.headline,
            published=local_date(w.settings, published_at(family.root), release.language),
            withdrawn=False, view=release_view(release, w.settings),
            media=gallery(w.settings, rows, distribution_id), embargo_note=note,
            language=release.language, direction=locales.direction(release.language),
            corrected=corrected)


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


async def history(request: Request) -> Response:
    w = web(request)
    release_id, number = request.path_params["release_id"], request.path_params["number"]
    page = (await run_in_threadpool(_earlier, w, release_id, number,
                                    request.query_params.get("lang"))
            if release_id <= MAX_ID and number <= MAX_TEXTS else None)
    if page is None:
        raise HTTPException(404)
    if isinstance(page, str):
        return RedirectResponse(page, status_code=301)
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
          Route("/releases/{release_id:int}/history/{number:int}", history, methods=["GET"]),
          Route("/releases/s/{token}", trusted, methods=["GET"])]
