"""What an uploaded file really is, judged by its content, never by its name.

Photos are opened and fully decoded with Pillow (a truncated or corrupt one fails here,
not in a journalist's mail client); documents are recognised by their first bytes (and, for
the zip-based office formats, by the parts inside). Anything else is refused.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from distribution.errors import InvalidInput

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Word, Excel, PowerPoint
_OLE_TYPES = {"doc": "application/msword", "xls": "application/vnd.ms-excel",
              "ppt": "application/vnd.ms-powerpoint"}
_OOXML = {"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}
_ODF_PREFIX = "application/vnd.oasis.opendocument."
_PROGRAMS = (b"MZ", b"\x7fELF", b"#!", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf",
             b"\xca\xfe\xba\xbe")
ACCEPTED = "a photo (JPEG, PNG, WebP) or a document (PDF, Word, Excel, PowerPoint, OpenDocument)"


@dataclass(frozen=True)
class Inspected:
    kind: str  # "image" or "file"
    content_type: str
    width: int | None = None
    height: int | None = None


def inspect(data: bytes, filename: str, *, max_pixels: int) -> Inspected:
    """The kind and type of `data`; raises InvalidInput with one line naming `filename`."""
    if data[:4] in (b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb") or \
            data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n" or \
            (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return _image(data, filename, max_pixels)
    if data.startswith(_PROGRAMS):
        raise InvalidInput(f"{filename} is a program, not {ACCEPTED}; it was not attached")
    content_type = _document_type(data, filename)
    if content_type is None:
        raise InvalidInput(f"{filename} is not {ACCEPTED} (judged by its content)")
    return Inspected("file", content_type)


def _image(data: bytes, filename: str, max_pixels: int) -> Inspected:
    try:
        with warnings.catch_warnings():
            # Pillow's own guard warns (and refuses above twice its limit); ours is the
            # configured limit, checked from the header before any pixel is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidInput(
                    f"{filename} is {width}×{height} pixels, more than the limit of "
                    f"{max_pixels:,} (media_max_pixels)")
            if image.format not in IMAGE_TYPES:
                raise InvalidInput(f"{filename} is a {image.format} image; photos must be "
                                   "JPEG, PNG or WebP")
            image.load()  # decodes every pixel: a truncated file fails here
    except Image.DecompressionBombError:
        raise InvalidInput(f"{filename} has more pixels than the limit of {max_pixels:,} "
                           "(media_max_pixels)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"{filename} is a damaged or truncated image: {exc}") from None
    return Inspected("image", IMAGE_TYPES[image.format], width, height)


def _document_type(data: bytes, filename: str) -> str | None:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(_OLE):
        return _OLE_TYPES.get(filename.rpartition(".")[2].lower())
    if data.startswith(b"PK\x03\x04"):
        return _zip_document_type(data)
    return None


def _zip_document_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                with archive.open("mimetype") as member:  # a few bytes, whatever it claims
                    declared = member.read(100).decode("ascii", "replace").strip()
                return declared if declared.startswith(_ODF_PREFIX) else None
            if "[Content_Types].xml" in names:
                return next((kind for prefix, kind in _OOXML.items()
                             if any(n.startswith(prefix) for n in names)), None)
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None
