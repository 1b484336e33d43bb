"""The addresses of a release's media: public (random, answered after the lift) and signed
(for trusted copies, answered before the lift until a withdrawal)."""

from __future__ import annotations

from urllib.parse import quote

from config import Settings
from distribution.mail import tokens
from distribution.store.models import ReleaseMedia

EMAIL = 1200  # longest side of the photo copy that goes into (or is linked from) email
SIZES = (480, 800, EMAIL)  # the resized copies made of every photo
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def _base(settings: Settings) -> str:
    return settings.base_url.rstrip("/")


def rendition_name(media: ReleaseMedia, size: int) -> str:
    """photo.png resized to a JPEG is served as photo.jpg."""
    content_type = media.renditions[str(size)]["content_type"]
    stem = media.filename.rpartition(".")[0] or media.filename
    return stem + _EXTENSIONS.get(str(content_type), "")


def public_url(settings: Settings, media: ReleaseMedia, size: int | None = None) -> str:
    return f"{_base(settings)}/media/{media.public_key}/{_tail(media, size)}"


def signed_url(settings: Settings, media: ReleaseMedia, distribution_id: int,
               size: int | None = None) -> str:
    token = tokens.media_token(settings, media.id, distribution_id)
    return f"{_base(settings)}/media/s/{token}/{_tail(media, size)}"


def public_page_url(settings: Settings, family_id: int, language: str | None = None) -> str:
    """The release's one public address (its family's first id, whatever corrected it since);
    `language`: a language version's page there."""
    page = f"{_base(settings)}/releases/{family_id}"
    return f"{page}?lang={quote(language, safe='-')}" if language else page


def signed_page_url(settings: Settings, release_id: int, distribution_id: int) -> str:
    token = tokens.release_page_token(settings, release_id, distribution_id)
    return f"{_base(settings)}/releases/s/{token}"


def _tail(media: ReleaseMedia, size: int | None) -> str:
    if size is None:
        return quote(media.filename, safe="")
    return f"w{size}/{quote(rendition_name(media, size), safe='')}"
