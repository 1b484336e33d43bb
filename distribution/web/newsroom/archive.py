"""The public newsroom: `/releases` (newest first) and `/releases/{id}`.

Both read through visibility.public_view: an embargoed or unsent release answers exactly
like a missing one (404), and a withdrawn one shows a notice without its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config import Settings
from distribution import embargo, times
from distribution.mail import tokens
from distribution.mail.view import ReleaseView, release_view
from distribution.media.catalogue import media_of
from distribution.store.models import Release
from distribution.web.context import Web, web
from distribution.web.newsroom.gallery import NO_GALLERY, Gallery, gallery
from distribution.web.newsroom.media import withdrawn
from distribution.web.newsroom.visibility import (
    PublicRelease,
    public_release,
    public_releases,
    published_at,
)

PAGE_SIZE = 30
MAX_ID = 2**31 - 1  # larger ids cannot exist; do not hand them to the database


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


def local_date(settings: Settings, moment: datetime) -> str:
    """"16 April 2025" in the office's zone (UTC when none is configured)."""
    return times.date_text(times.to_zone(moment, settings.timezone or "UTC"))


def release_page(settings: Settings, public: PublicRelease,
                 media: Gallery = NO_GALLERY) -> ReleasePage:
    release = public.release
    return ReleasePage(
        id=release.id, headline=release.headline,
        published=local_date(settings, public.published_at), withdrawn=public.withdrawn,
        view=None if public.withdrawn else release_view(release, settings),
        media=NO_GALLERY if public.withdrawn else media,
    )


def _listing(w: Web) -> list[ReleasePage]:
    with w.sessions() as session:
        return [release_page(w.settings, v) for v in public_releases(session, w.clock())]


def _one(w: Web, release_id: int) -> ReleasePage | None:
    with w.sessions() as session:
        view = public_release(session, release_id, w.clock())
        if view is None:
            return None
        return release_page(w.settings, view, gallery(w.settings, media_of(session, release_id)))


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
            published=local_date(w.settings, published_at(release)), withdrawn=False,
            view=release_view(release, w.settings),
            media=gallery(w.settings, rows, distribution_id), embargo_note=note)


async def index(request: Request) -> Response:
    w = web(request)
    number = request.query_params.get("page", "1")
    # ASCII digits only: str.isdigit() is also true of "²", which int() refuses.
    page = int(number) if number.isascii() and number.isdigit() and 0 < int(number) < 10_000 else 0
    if not page:
        raise HTTPException(404)
    releases = await run_in_threadpool(_listing, w)
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
    page = await run_in_threadpool(_one, w, release_id) if release_id <= MAX_ID else None
    if page is None:
        raise HTTPException(404)  # hidden and missing look the same
    # 410 Gone: a withdrawn release is permanently no longer available (search engines drop it).
    return w.page("release.html.j2", {"release": page}, status=410 if page.withdrawn else 200,
                  public=True)


async def trusted(request: Request) -> Response:
    w = web(request)
    page = await run_in_threadpool(_trusted, w, request.path_params["token"])
    if page is None:
        raise HTTPException(404)
    # For the reader the link was sent to: not kept by shared caches, never indexed.
    return w.page("release.html.j2", {"release": page})


async def home(request: Request) -> Response:
    return RedirectResponse("/releases", status_code=302)


routes = [Route("/", home, methods=["GET"]),
          Route("/releases", index, methods=["GET"]),
          Route("/releases/{release_id:int}", show, methods=["GET"]),
          Route("/releases/s/{token}", trusted, methods=["GET"])]
