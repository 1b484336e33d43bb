"""What a message shows of a release's photos and files: links made once per distribution.

Built by the engine (which reads the store) and handed to rendering, which stays pure.
Photos link to a resized copy (or, when a release asks for it, are embedded as CID parts,
resized); files are always links: bulk mail never carries attachments.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Photo:
    src: str  # what the <img> loads: "cid:…" or the emailed copy's address
    link: str  # the full-size original
    width: int  # of the emailed copy
    height: int
    alt: str
    caption: str | None
    credit: str | None
    filename: str

    @property
    def shown_width(self) -> int:
        """The width the HTML asks for: the column is 600 px wide."""
        return min(self.width, 600)

    @property
    def shown_height(self) -> int:
        return round(self.height * self.shown_width / self.width) if self.width else 0


@dataclass(frozen=True)
class Download:
    url: str
    filename: str
    label: str  # "PDF, 1.2 MB"
    caption: str | None
    credit: str | None


@dataclass(frozen=True)
class InlineImage:
    cid: str  # Content-ID without the angle brackets
    data: bytes
    content_type: str
    filename: str


@dataclass(frozen=True)
class MessageMedia:
    photos: tuple[Photo, ...] = ()
    files: tuple[Download, ...] = ()
    inline: tuple[InlineImage, ...] = ()  # the parts the photos' cid: addresses name
    online_url: str | None = None  # "View online": the public page or a signed address


NO_MEDIA = MessageMedia()
