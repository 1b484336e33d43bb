"""A release's photos and downloads as its web page shows them (public or signed addresses)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from config import Settings
from distribution.media import links
from distribution.media.links import EMAIL, SIZES
from distribution.media.mailing import label
from distribution.store.models import MediaKind, ReleaseMedia


@dataclass(frozen=True)
class PagePhoto:
    src: str
    srcset: str  # "…/w480/x.jpg 480w, …" for responsive images
    link: str  # the original, full size
    width: int
    height: int
    alt: str
    caption: str | None
    credit: str | None


@dataclass(frozen=True)
class PageFile:
    url: str
    filename: str
    label: str
    caption: str | None


@dataclass(frozen=True)
class Gallery:
    photos: tuple[PagePhoto, ...] = ()
    files: tuple[PageFile, ...] = ()


NO_GALLERY = Gallery()


def gallery(settings: Settings, rows: list[ReleaseMedia],
            distribution_id: int | None = None) -> Gallery:
    """Addresses as paths on this site; signed ones when a distribution is given."""
    def url(media: ReleaseMedia, size: int | None = None) -> str:
        if distribution_id is None:
            return urlsplit(links.public_url(settings, media, size)).path
        return urlsplit(links.signed_url(settings, media, distribution_id, size)).path

    photos, files = [], []
    for media in rows:
        if media.kind is MediaKind.IMAGE:
            largest = media.renditions[str(EMAIL)]
            srcset = ", ".join(f"{url(media, size)} {media.renditions[str(size)]['width']}w"
                               for size in SIZES)
            photos.append(PagePhoto(
                src=url(media, EMAIL), srcset=srcset, link=url(media),
                width=int(largest["width"]), height=int(largest["height"]),
                alt=media.alt or media.caption or "", caption=media.caption,
                credit=media.credit))
        else:
            files.append(PageFile(url(media), media.filename,
                                  label(media.content_type, media.bytes), media.caption))
    return Gallery(tuple(photos), tuple(files))
