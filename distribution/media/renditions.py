"""Resized copies of a photo, made once when it is attached, never per recipient.

Each is re-encoded from the pixels alone: EXIF (camera serial numbers, GPS position),
XMP, comments and colour profiles of the original are not carried over. The email uses
the EMAIL size; the newsroom offers all of them in a srcset.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from distribution.media.links import SIZES

JPEG_QUALITY = 82


@dataclass(frozen=True)
class Rendition:
    size: int  # the longest side asked for
    data: bytes
    content_type: str
    width: int
    height: int


def renditions(original: bytes) -> list[Rendition]:
    """One copy per size in SIZES, none larger than the original."""
    with Image.open(io.BytesIO(original)) as opened:
        # Turned as the camera meant, since the orientation tag goes with the EXIF.
        image = ImageOps.exif_transpose(opened)
        image.load()
    alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if alpha else "RGB")
    return [_resized(image, size, alpha) for size in SIZES]


def _resized(image: Image.Image, size: int, alpha: bool) -> Rendition:
    copy = image.copy()
    copy.thumbnail((size, size), Image.Resampling.LANCZOS)
    copy.info = {}  # nothing of the original's metadata rides along
    out = io.BytesIO()
    if alpha:
        copy.save(out, "PNG", optimize=True)
        content_type = "image/png"
    else:
        copy.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        content_type = "image/jpeg"
    return Rendition(size, out.getvalue(), content_type, copy.width, copy.height)
