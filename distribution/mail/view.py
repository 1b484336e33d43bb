"""What the email templates show of a release: blocks, dateline, contacts, boilerplate.

Release text comes from the parser as blocks separated by blank lines; a block is one
paragraph line, or a bullet list of lines that start with "- ". The organisation's
defaults (contact, boilerplate) fill what a release leaves out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config import Settings
from distribution.mail import headers as h
from distribution.releases.endmatter import DEFAULT_END_MARKER
from distribution.releases.media_contacts import MediaContact
from distribution.store.models import Release
from distribution.times import MONTHS

RTL_LANGUAGES = frozenset({"ar", "dv", "fa", "he", "ku", "ps", "ur", "yi"})
_ORG_CONTACT = re.compile(r"\s*(?P<name>[^<]*?)\s*<(?P<email>[^<>\s]+)>\s*,?\s*(?P<phone>.*)")
_DASHES = " \t-–—"


@dataclass(frozen=True)
class Block:
    # "p" (a paragraph), "ul" (a bullet list), "ol" (a numbered list), "h2"/"h3" (a heading),
    # "quote" (a block quote) or "table"
    kind: str
    items: tuple[str, ...]  # the paragraph's text, or the list's items
    lead: str | None = None  # the dateline, written before the release's first paragraph
    numbers: tuple[int, ...] = ()  # an "ol" list's numbers, as written
    rows: tuple[tuple[str, ...], ...] = ()  # a table's cells, the header row first

    @property
    def text(self) -> str:
        return " ".join(self.items)


@dataclass(frozen=True)
class Organisation:
    name: str
    address_lines: tuple[str, ...]


@dataclass(frozen=True)
class ReleaseView:
    headline: str
    subheadline: str | None
    dateline: str | None
    blocks: tuple[Block, ...]
    end_marker: str
    contacts: tuple[MediaContact, ...]
    org_contact: MediaContact | None  # shown when a release has none; the Reply-To fallback
    boilerplate_heading: str | None
    boilerplate: tuple[Block, ...]
    language: str
    direction: str  # "ltr" or "rtl", for the HTML dir attribute

    @property
    def reply_to(self) -> h.FoldedHeader | None:
        """The first contact's address a header can carry, else the organisation's."""
        for contact in (*self.contacts, *([self.org_contact] if self.org_contact else [])):
            if contact.email_ok and contact.email:
                try:
                    return h.mailbox("Reply-To", contact.name, contact.email)
                except ValueError:
                    continue
        return None


def release_view(release: Release, settings: Settings) -> ReleaseView:
    dateline = _dateline(release)
    language = (release.language or "en").strip() or "en"
    own_boilerplate = bool((release.boilerplate or "").strip())
    org_contact = parse_contact(settings.org_contact or "")
    return ReleaseView(
        headline=" ".join(release.headline.split()),
        subheadline=" ".join((release.subheadline or "").split()) or None,
        dateline=dateline,
        blocks=_with_lead(parse_blocks(release.body), dateline),
        end_marker=(release.end_marker or "").strip() or DEFAULT_END_MARKER,
        contacts=_contacts(release.media_contacts) or ((org_contact,) if org_contact else ()),
        org_contact=org_contact,
        boilerplate_heading=(release.boilerplate_heading if own_boilerplate
                             else settings.org_boilerplate_heading) or None,
        boilerplate=parse_blocks(release.boilerplate if own_boilerplate
                                 else settings.org_boilerplate),
        language=language,
        direction="rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr",
    )


def organisation(settings: Settings) -> Organisation:
    lines = (line.strip() for line in settings.org_address.splitlines())
    return Organisation(settings.org_name, tuple(line for line in lines if line))


def parse_blocks(text: str | None) -> tuple[Block, ...]:
    """The blocks of text in the body format (distribution.releases.bodyformat)."""
    blocks: list[Block] = []
    for chunk in (text or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        # Lenient: a chunk mixing a lead-in line and bullets becomes a paragraph and a list.
        for kind, run in _runs(lines):
            blocks.append(_block(kind, run))
    return tuple(blocks)


_NUMBERED = re.compile(r"(\d{1,3})\.\s+")
_HEADING = re.compile(r"(#{2,6})\s+")


def _line_kind(line: str) -> str:
    if line.startswith("- "):
        return "ul"
    if _NUMBERED.match(line):
        return "ol"
    if _HEADING.match(line):
        return "h"
    if line.startswith(">"):
        return "quote"
    if len(line) > 1 and line.startswith("|") and line.endswith("|"):
        return "table"
    return "p"


def _block(kind: str, run: list[str]) -> Block:
    if kind == "ul":
        return Block("ul", tuple(line[2:].strip() for line in run))
    if kind == "ol":
        matches = [(_NUMBERED.match(line), line) for line in run]
        return Block("ol", tuple(line[m.end():] for m, line in matches if m),
                     numbers=tuple(int(m[1]) for m, _ in matches if m))
    if kind == "h":
        match = _HEADING.match(run[0])
        level = min(len(match[1]), 3) if match else 2
        return Block(f"h{level}", (" ".join(run)[match.end() if match else 0:],))
    if kind == "quote":
        return Block("quote", (" ".join(line.lstrip(">").strip() for line in run),))
    if kind == "table":
        rows = [tuple(cell.strip() for cell in line.strip("|").split("|")) for line in run]
        rows = [row for row in rows if not all(set(cell) <= set("-: ") for cell in row)]
        return Block("table", (), rows=tuple(rows))
    return Block("p", (" ".join(run),))


def parse_contact(text: str) -> MediaContact | None:
    """The organisation's default contact: "Name <email>, +41 22 000 00 00" or a plain text."""
    text = " ".join(text.split())
    if not text:
        return None
    if match := _ORG_CONTACT.fullmatch(text):
        return MediaContact(match["name"] or None, match["email"], match["phone"] or None)
    as_address = MediaContact(None, text, None)
    return as_address if as_address.email_ok else MediaContact(text, None, None)


def _runs(lines: list[str]) -> list[tuple[str, list[str]]]:
    runs: list[tuple[str, list[str]]] = []
    for line in lines:
        kind = _line_kind(line)
        if runs and runs[-1][0] == kind and kind != "h":
            runs[-1][1].append(line)
        else:
            runs.append((kind, [line]))
    return runs


def _dateline(release: Release) -> str | None:
    """As written ("Damascus, April 16, 2025"), without a trailing dash the template adds."""
    text = (release.dateline_text or "").strip().rstrip(_DASHES)
    if text:
        return text
    when = release.dateline_date
    written = f"{when.day} {MONTHS[when.month - 1]} {when.year}" if when else None
    parts = [release.dateline_place, written]
    return ", ".join(part for part in parts if part) or None


def _with_lead(blocks: tuple[Block, ...], dateline: str | None) -> tuple[Block, ...]:
    if not dateline:
        return blocks
    for index, block in enumerate(blocks):
        if block.kind == "p":
            led = Block(block.kind, block.items, lead=dateline)
            return blocks[:index] + (led,) + blocks[index + 1:]
    return (Block("p", ("",), lead=dateline), *blocks)


def _contacts(raw: list[dict[str, str | None]] | None) -> tuple[MediaContact, ...]:
    contacts = []
    for entry in raw or []:
        fields = [" ".join((entry.get(key) or "").split()) or None
                  for key in ("name", "email", "phone")]
        if any(fields):
            contacts.append(MediaContact(*fields))
    return tuple(contacts)
