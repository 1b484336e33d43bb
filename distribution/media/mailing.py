"""A release's media as one distribution's messages show them: built once, for every recipient.

Trusted copies sent before the lift link to signed addresses (the public ones answer 404
until then); every other copy links to the public addresses. Embedded photos are the
resized copies made at attach time: no image work happens while sending.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from config import Settings
from distribution.mail.media import Download, InlineImage, MessageMedia, Photo
from distribution.media import links
from distribution.media.blobs import blob_store
from distribution.media.catalogue import inline_photos, media_of
from distribution.media.links import EMAIL
from distribution.releases.families import Family, family_of
from distribution.store.models import MediaKind, Release, ReleaseMedia

# Resized photos by hash, for embedding: content-addressed, so never stale.
_BYTES: OrderedDict[str, bytes] = OrderedDict()
_BYTES_KEEP = 32

# Signed links of a test copy or a preview name no distribution.
NO_DISTRIBUTION = 0

_LABELS = {"application/pdf": "PDF", "application/msword": "Word",
           "application/vnd.ms-excel": "Excel", "application/vnd.ms-powerpoint": "PowerPoint"}


def message_media(session: Session, settings: Settings, release_id: int, *,
                  distribution_id: int | None, signed: bool,
                  family: Family | None = None) -> MessageMedia:
    """The photos, files and online address for the copies of one distribution.

    `signed`: a trusted copy before the lift (needs the distribution the links name). A
    language version shows the photos and files of its original's current text. `family`:
    the release's, when the caller has it.
    """
    source = _Source.read(session, release_id, family)
    signing = distribution_id if signed and distribution_id is not None else None
    return source.media(session, settings, signing)


def distribution_media(session: Session, settings: Settings, release_id: int, *,
                       distribution_id: int, family: Family,
                       ) -> tuple[MessageMedia, MessageMedia]:
    """`message_media` of a distribution's public copies and of its signed ones (trusted,
    before the lift), from one read of the release's media."""
    source = _Source.read(session, release_id, family)
    return source.media(session, settings, None), source.media(session, settings,
                                                               distribution_id)


@dataclass(frozen=True)
class _Source:
    """What a release's media in its messages are made from."""

    family: Family
    text: Release
    rows: list[ReleaseMedia]
    embed: bool

    @classmethod
    def read(cls, session: Session, release_id: int, family: Family | None) -> _Source:
        family = family or family_of(session, release_id)
        owner = release_id if family.is_main(release_id) else family.main.head.id
        rows = media_of(session, owner)
        return cls(family, session.get_one(Release, release_id), rows,
                   bool(rows) and inline_photos(session, owner))

    def media(self, session: Session, settings: Settings,
              signing: int | None) -> MessageMedia:
        def url(media: ReleaseMedia, size: int | None = None) -> str:
            if signing is None:
                return links.public_url(settings, media, size)
            return links.signed_url(settings, media, signing, size)

        photos, files, inline = [], [], []
        for media in self.rows:
            if media.kind is MediaKind.IMAGE:
                copy = media.renditions[str(EMAIL)]
                src = url(media, EMAIL)
                image = _inline(session, settings, media) if self.embed else None
                if image is not None:  # a copy missing from the store is linked instead
                    inline.append(image)
                    src = f"cid:{image.cid}"
                photos.append(Photo(src=src, link=url(media), width=int(copy["width"]),
                                    height=int(copy["height"]),
                                    alt=media.alt or media.caption or "",
                                    caption=media.caption, credit=media.credit,
                                    filename=media.filename))
            else:
                files.append(Download(url=url(media), filename=media.filename,
                                      label=label(media.content_type, media.bytes),
                                      caption=media.caption, credit=media.credit))
        online = online_url(settings, self.family, self.text, distribution_id=signing)
        return MessageMedia(tuple(photos), tuple(files), tuple(inline), online)


def online_url(settings: Settings, family: Family, text: Release, *,
               distribution_id: int | None) -> str:
    """"View online": the family's public page (a version's with `?lang=`), or for a
    trusted copy before the lift, a signed page (with a distribution to name)."""
    if distribution_id is not None:
        return links.signed_page_url(settings, text.id, distribution_id)
    language = None if family.is_main(text.id) else text.language
    return links.public_page_url(settings, family.root.id, language)


def _inline(session: Session, settings: Settings, media: ReleaseMedia) -> InlineImage | None:
    copy = media.renditions[str(EMAIL)]
    sha = str(copy["sha256"])
    data = _BYTES.get(sha)
    if data is None:
        data = blob_store(settings, session).get(sha)
        if data is None:
            return None
        _BYTES[sha] = data
        if len(_BYTES) > _BYTES_KEEP:
            _BYTES.popitem(last=False)
    _BYTES.move_to_end(sha)
    return InlineImage(cid=f"photo{media.id}.{sha[:16]}@{settings.sender_domain}", data=data,
                       content_type=str(copy["content_type"]),
                       filename=links.rendition_name(media, EMAIL))


def label(content_type: str, size: int) -> str:
    """"PDF, 1.2 MB": what a reader sees before downloading."""
    kind = _LABELS.get(content_type)
    if kind is None:
        kind = ("Word" if "word" in content_type else "Excel" if "sheet" in content_type
                else "PowerPoint" if "presentation" in content_type else "Document")
    if size >= 1_000_000:
        return f"{kind}, {size / 1_000_000:.1f} MB"
    return f"{kind}, {max(1, round(size / 1000))} KB"
