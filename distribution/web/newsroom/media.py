"""A release's photos and files on the web: `/media/{key}/…` and the signed `/media/s/{token}/…`.

Public addresses carry a random key and answer only while the release is public (the
newsroom's visibility rule): before the lift, after a withdrawal, or for a key that never
existed, the answer is the same 404. Signed addresses are in trusted copies: they answer
before the lift too, and stop once the release is withdrawn. Byte ranges are served for
large files; the bytes never change under one address (content-addressed), so the ETag is
their hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config import Settings
from distribution.mail import tokens
from distribution.media.blobs import blob_store
from distribution.media.links import SIZES, rendition_name
from distribution.store.models import MediaKind, Release, ReleaseMedia, ReleaseStatus
from distribution.web.context import Web, web
from distribution.web.newsroom.visibility import public_family

# Short: a withdrawal must reach shared caches soon, and the 404 before the lift is never kept.
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, no-store"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class Served:
    data: bytes
    sha256: str
    content_type: str
    filename: str
    download: bool  # files are downloads; photos open in the browser
    public: bool


def withdrawn(release: Release) -> bool:
    return release.status is ReleaseStatus.WITHDRAWN or release.withdrawn_at is not None


def _served(session: Session, settings: Settings, media: ReleaseMedia, size: int | None,
            public: bool) -> Served | None:
    if size is None:
        sha, content_type, name = media.sha256, media.content_type, media.filename
    elif media.kind is MediaKind.IMAGE and size in SIZES:
        copy = media.renditions[str(size)]
        sha, content_type = str(copy["sha256"]), str(copy["content_type"])
        name = rendition_name(media, size)
    else:
        return None
    data = blob_store(settings, session).get(sha)
    if data is None:
        return None
    return Served(data, sha, content_type, name, media.kind is MediaKind.FILE, public)


def public_media(w: Web, key: str, size: int | None, now: datetime) -> Served | None:
    with w.sessions() as session:
        media = session.scalar(select(ReleaseMedia).where(ReleaseMedia.public_key == key))
        if media is None:
            return None
        # An earlier text's photos are public exactly when its release is.
        view = public_family(session, media.release_id, now,
                             require_approval=w.settings.require_approval)
        if view is None or view.withdrawn:  # hidden or withdrawn: as if it never existed
            return None
        return _served(session, w.settings, media, size, public=True)


def signed_media(w: Web, token: str, size: int | None) -> Served | None:
    try:
        media_id, _distribution_id = tokens.read_media_token(w.settings, token)
    except tokens.BadToken:
        return None
    with w.sessions() as session:
        media = session.get(ReleaseMedia, media_id)
        release = session.get(Release, media.release_id) if media is not None else None
        if media is None or release is None or withdrawn(release):
            return None
        return _served(session, w.settings, media, size, public=False)


def _size(request: Request) -> int | None:
    size = request.path_params.get("size")
    return None if size is None else int(size)


async def public(request: Request) -> Response:
    w = web(request)
    key = request.path_params["key"]
    served = await run_in_threadpool(public_media, w, key, _size(request), w.clock())
    return _respond(request, served)


async def signed(request: Request) -> Response:
    w = web(request)
    served = await run_in_threadpool(signed_media, w, request.path_params["token"],
                                     _size(request))
    return _respond(request, served)


def _respond(request: Request, served: Served | None) -> Response:
    if served is None:
        raise HTTPException(404)  # the same page as any missing address
    etag = f'"{served.sha256}"'
    headers = {
        "Content-Disposition": disposition(served.filename, served.download),
        "Cache-Control": PUBLIC_CACHE if served.public else PRIVATE_CACHE,
        "ETag": etag,
        "Accept-Ranges": "bytes",
    }
    if not served.public:
        headers["X-Robots-Tag"] = "noindex"
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    total = len(served.data)
    wanted = request.headers.get("range")
    if wanted and request.headers.get("if-range", etag) == etag:
        span = byte_range(wanted, total)
        if span is None:
            return Response(status_code=416, headers={**headers,
                                                      "Content-Range": f"bytes */{total}"})
        if span != (0, total - 1):
            start, end = span
            headers["Content-Range"] = f"bytes {start}-{end}/{total}"
            return Response(served.data[start:end + 1], status_code=206,
                            media_type=served.content_type, headers=headers)
    return Response(served.data, media_type=served.content_type, headers=headers)


def byte_range(header: str, total: int) -> tuple[int, int] | None:
    """(first, last) of one `bytes=` range (RFC 9110 14.1.2); None if unsatisfiable.

    Several ranges at once are answered with the whole file (RFC 9110 allows it).
    """
    if "," in header:
        return (0, total - 1)
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return (0, total - 1)  # a Range we do not understand is ignored
    first, last = match.groups()
    if not first and not last:
        return (0, total - 1)
    if not first:  # the last N bytes
        length = int(last)
        return (max(0, total - length), total - 1) if length and total else None
    start = int(first)
    end = min(int(last), total - 1) if last else total - 1
    if start >= total or (last and int(last) < start):
        return None
    return (start, end)


def disposition(filename: str, download: bool) -> str:
    """RFC 6266: an ASCII fallback name, and the real one encoded (RFC 8187)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in filename)
    kind = "attachment" if download else "inline"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


routes = [
    Route("/media/s/{token}/w{size:int}/{name}", signed, methods=["GET", "HEAD"]),
    Route("/media/s/{token}/{name}", signed, methods=["GET", "HEAD"]),
    Route("/media/{key}/w{size:int}/{name}", public, methods=["GET", "HEAD"]),
    Route("/media/{key}/{name}", public, methods=["GET", "HEAD"]),
]
