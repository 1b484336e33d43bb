"""A release's photos and files in the store: attach, detach, list, describe."""

from __future__ import annotations

import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from config import Settings
from distribution.errors import InvalidInput, NotFound
from distribution.media import links
from distribution.media.blobs import BlobStore, blob_store
from distribution.releases.bodyformat import CONTROLS
from distribution.releases.frontmatter import PhotoSpec
from distribution.store.models import (
    Delivery,
    DeliveryStatus,
    Distribution,
    MediaKind,
    Release,
    ReleaseMedia,
    ReleaseMediaOptions,
    ReleaseStatus,
)

MAX_TEXT = {"caption": 2000, "credit": 300, "alt": 1000}


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str
    caption: str | None = None
    credit: str | None = None
    alt: str | None = None


@dataclass(frozen=True)
class MediaUploads:
    """Files read from disk, and the settings that say where and how to store them."""

    settings: Settings
    uploads: list[Upload]


def read_upload(path: Path, settings: Settings, *, caption: str | None = None,
                credit: str | None = None, alt: str | None = None) -> Upload:
    """The file at `path`, refused if missing or over the size limit (checked before reading)."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InvalidInput(f"{path} is not a file")
        if size > settings.media_max_bytes:
            raise InvalidInput(f"{path.name} is {size:,} bytes, more than the limit of "
                               f"{settings.media_max_bytes:,} (media_max_bytes)")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    return Upload(data, clean_filename(path.name), _text(caption, "caption"),
                  _text(credit, "credit"), _text(alt, "alt"))


def front_matter_uploads(specs: list[PhotoSpec], folder: Path,
                         settings: Settings) -> list[Upload]:
    """The photos a release file names, read before anything is stored."""
    return [read_upload(folder / Path(spec.path).expanduser(), settings, caption=spec.caption,
                        credit=spec.credit, alt=spec.alt) for spec in specs]


def attach_all(session: Session, settings: Settings, release: Release,
               uploads: list[Upload], *, new_version: bool = False) -> list[ReleaseMedia]:
    """Attach each upload; `new_version`: to a correction, which counts as sent already."""
    if not uploads:
        return []
    store = blob_store(settings, session)
    add = store_upload if new_version else attach
    return [add(session, store, release, upload, settings) for upload in uploads]


def copy_media(session: Session, from_id: int, to_id: int) -> None:
    """A correction keeps the photos and files of the version it corrects (the same bytes,
    new addresses: the old version's addresses keep following the old version)."""
    columns = ("kind", "filename", "content_type", "sha256", "bytes", "width", "height",
               "renditions", "caption", "credit", "alt", "position")
    for media in media_of(session, from_id):
        session.add(ReleaseMedia(release_id=to_id, public_key=secrets.token_urlsafe(24),
                                 **{name: getattr(media, name) for name in columns}))
    if inline_photos(session, from_id):
        session.add(ReleaseMediaOptions(release_id=to_id, inline_photos=True))
    session.flush()


def clean_filename(name: str) -> str:
    """The last path part, without control characters, at most 200 characters."""
    name = os.path.basename(name.replace("\\", "/"))
    name = "".join(c for c in unicodedata.normalize("NFC", name)
                   if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext[:9]) if dot else name[:200]
    return name or "file"


def _text(value: str | None, field: str) -> str | None:
    value = " ".join((value or "").split()) or None
    if value is not None and CONTROLS.search(value):
        # Shown in pages, the feed's XML and email: a control character breaks the feed.
        raise InvalidInput(f"the {field} holds a control character; type it again")
    if value is not None and len(value) > MAX_TEXT[field]:
        raise InvalidInput(f"the {field} is longer than {MAX_TEXT[field]} characters")
    return value


def check_editable(session: Session, release: Release) -> None:
    """Photos change only before any copy went out: after, a correction carries them.

    A release is marked sent only when its distribution finishes, so the deliveries are
    asked too: one sent, or claimed by a batch that is sending it, is a copy gone out.
    """
    out = session.scalar(select(exists().where(
        Delivery.distribution_id == Distribution.id, Distribution.release_id == release.id,
        Delivery.status.in_([DeliveryStatus.SENT.value, DeliveryStatus.SENDING.value]))))
    if out or release.first_sent_at is not None or release.status in (ReleaseStatus.SENT,
                                                                      ReleaseStatus.WITHDRAWN):
        raise InvalidInput(f"release {release.id} has already been sent; its photos and files "
                           "cannot change (send a correction with `pressroom release correct`)")


def attach(session: Session, store: BlobStore, release: Release, upload: Upload,
           settings: Settings) -> ReleaseMedia:
    """Check, resize (photos) and store the upload; a new media row of the release.

    Pillow is imported where it is used, not by every `release show`.
    """
    check_editable(session, release)
    return store_upload(session, store, release, upload, settings)


def store_upload(session: Session, store: BlobStore, release: Release, upload: Upload,
                 settings: Settings) -> ReleaseMedia:
    """attach() without the check that no copy went out: for a correction's new version."""
    from distribution.media.checks import inspect
    from distribution.media.renditions import renditions

    if len(upload.data) > settings.media_max_bytes:
        raise InvalidInput(f"{upload.filename} is {len(upload.data):,} bytes, more than the "
                           f"limit of {settings.media_max_bytes:,} (media_max_bytes)")
    found = inspect(upload.data, upload.filename, max_pixels=settings.media_max_pixels)
    sized = {}
    if found.kind == "image":
        for rendition in renditions(upload.data):
            sized[str(rendition.size)] = {
                "sha256": store.put(rendition.data), "content_type": rendition.content_type,
                "width": rendition.width, "height": rendition.height,
                "bytes": len(rendition.data)}
    position = session.scalar(select(func.coalesce(func.max(ReleaseMedia.position), 0))
                              .where(ReleaseMedia.release_id == release.id)) or 0
    media = ReleaseMedia(
        release_id=release.id, kind=MediaKind(found.kind), filename=upload.filename,
        content_type=found.content_type, sha256=store.put(upload.data),
        bytes=len(upload.data), width=found.width, height=found.height, renditions=sized,
        caption=upload.caption, credit=upload.credit, alt=upload.alt,
        public_key=secrets.token_urlsafe(24), position=position + 1)
    session.add(media)
    session.flush()
    return media


def detach(session: Session, release: Release, media_id: int) -> list[str]:
    """Remove one media row; the hashes nothing else names any more (for the store)."""
    check_editable(session, release)
    media = session.get(ReleaseMedia, media_id)
    if media is None or media.release_id != release.id:
        raise NotFound(f"release {release.id} has no photo or file {media_id}")
    hashes = {media.sha256, *(r["sha256"] for r in media.renditions.values())}
    session.delete(media)
    session.flush()
    return [sha for sha in sorted(hashes) if not is_named(session, sha)]


def is_named(session: Session, sha256: str) -> bool:
    """Does any media row still name these bytes (as an original or a resized copy)?"""
    if session.scalar(select(ReleaseMedia.id).where(ReleaseMedia.sha256 == sha256).limit(1)):
        return True
    # Renditions are JSON; few releases have many photos, so they are read and looked at.
    return any(r.get("sha256") == sha256 for renditions_ in session.scalars(
        select(ReleaseMedia.renditions)) for r in renditions_.values())


def media_of(session: Session, release_id: int) -> list[ReleaseMedia]:
    return list(session.scalars(select(ReleaseMedia).where(ReleaseMedia.release_id == release_id)
                                .order_by(ReleaseMedia.position, ReleaseMedia.id)))


def media_by_release(session: Session, release_ids: list[int]) -> dict[int, list[ReleaseMedia]]:
    found: dict[int, list[ReleaseMedia]] = {}
    if release_ids:
        for media in session.scalars(select(ReleaseMedia).where(
                ReleaseMedia.release_id.in_(release_ids))
                .order_by(ReleaseMedia.position, ReleaseMedia.id)):
            found.setdefault(media.release_id, []).append(media)
    return found


def inline_photos(session: Session, release_id: int) -> bool:
    options = session.get(ReleaseMediaOptions, release_id)
    return bool(options and options.inline_photos)


def set_inline_photos(session: Session, release: Release, inline: bool) -> None:
    check_editable(session, release)
    options = session.get(ReleaseMediaOptions, release.id)
    if options is None:
        session.add(ReleaseMediaOptions(release_id=release.id, inline_photos=inline))
    else:
        options.inline_photos = inline
    session.flush()


def describe(media: ReleaseMedia, settings: Settings) -> dict[str, Any]:
    return {
        "id": media.id, "kind": media.kind.value, "filename": media.filename,
        "content_type": media.content_type, "caption": media.caption, "credit": media.credit,
        "alt": media.alt, "bytes": media.bytes, "width": media.width, "height": media.height,
        "sha256": media.sha256, "public_url": links.public_url(settings, media),
    }
