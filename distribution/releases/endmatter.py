"""End matter: what follows the story in a release.

That is the end marker ("-ENDS-", "###", "-30-", ...), the media-contact block and the
boilerplate ("About the ...", "Notes to editors", "Background"). They come in any order: real
files put the marker after the boilerplate (sample 01) as often as before the contact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from distribution.releases.bodyformat import Paragraph, heading_text
from distribution.releases.media_contacts import has_contact_details, split_contact_heading

DEFAULT_END_MARKER = "-ENDS-"  # for a release whose text has none
# The house marker in the release's own language, where the office's custom is known.
_HOUSE_END_MARKERS = {"fr": "-FIN-", "es": "-FIN-", "de": "– Ende –", "ar": "-انتهى-"}
# End markers, by convention: English "-ENDS-"/"ENDS"/"- ends -", US "###"/"# # #" and
# "-30-", "***", German "– Ende –" and the wire's "(Schluss)"/"(schluß)", French and Spanish
# "-FIN-"/"FIN", Arabic "-انتهى-".
_END_MARKER = re.compile(
    r"[-–—]*\s*(?:ends?|ende|fin|انتهى)\s*[-–—]*|#\s?#\s?#|[-–—]\s*30\s*[-–—]|\*(?:\s*\*){2,5}"
    r"|\((?:schluss|schluß)\)",
    re.IGNORECASE,
)
# The German wire writes "(Schluss)" at the end of the last paragraph, not on a line alone.
_TRAILING_MARKER = re.compile(r"(?P<text>.*\S)\s+(?P<marker>\((?:schluss|schluß)\))"
                              r"(?:\s+[a-z]{2,4}(?:/[a-z]{2,4})*)?", re.IGNORECASE)
# Boilerplate headings: "About ...", "Notes to editors", "Background"; French "À propos
# ...", "Note aux rédactions"; Spanish "Acerca de ...", "Sobre ...", "Nota para editores";
# German "Über ...", "Hintergrund"; Arabic "نبذة عن ...", "عن ...", "حول ...".
_BOILERPLATE_HEADING = re.compile(
    r"(?:about(?:\s+(?!\d)\S.*)?|notes?\s+(?:to|for)\s+(?:the\s+)?editors?"
    r"|editors?['’]?s?\s+notes?|background(?:\s+information)?"
    r"|[àa]\s+propos\s+(?:de\s+|du\s+|des\s+|d['’])?\S.*|notes?\s+aux\s+r[ée]dactions?"
    r"|acerca\s+de\s+\S.*|sobre\s+\S.*|notas?\s+(?:para|a)\s+(?:los\s+)?(?:editores|redactores)"
    r"|über\s+(?!\d)\S.*|hintergrund(?:informationen)?"
    r"|نبذة\s+عن\s+\S.*|عن\s+\S.*|حول\s+\S.*|معلومات\s+عن\s+\S.*)\s*:?",
    re.IGNORECASE,
)


@dataclass
class EndMatter:
    end_marker: str | None = None  # as written
    boilerplate_heading: str | None = None  # without a trailing colon
    boilerplate: list[Paragraph] = field(default_factory=list)
    contact_block: list[Paragraph] = field(default_factory=list)

    def contact_text(self) -> str | None:
        return "\n\n".join("\n".join(p) for p in self.contact_block) or None

    def contact_lines(self) -> list[str]:
        """The contact block's lines, its headings ("Media contact:") removed."""
        lines: list[str] = []
        for paragraph in self.contact_block:
            rest = split_contact_heading(paragraph[0])
            lines += [paragraph[0] if rest is None else rest, *paragraph[1:]]
        return [line for line in lines if line.strip()]


def house_end_marker(language: str | None) -> str:
    """The marker added to a release whose text has none."""
    base = (language or "").split("-")[0].lower()
    return _HOUSE_END_MARKERS.get(base, DEFAULT_END_MARKER)


def is_end_marker(line: str) -> bool:
    return _END_MARKER.fullmatch(line) is not None


def split_trailing_marker(line: str) -> tuple[str, str] | None:
    """ "... angesprochen?" (Schluss)" -> the text and the marker written at its end."""
    match = _TRAILING_MARKER.fullmatch(line)
    return None if match is None else (match["text"], match["marker"])


def is_boilerplate_heading(line: str) -> bool:
    # "About 200 people attended" is prose: a heading is short and has no final period.
    line = heading_text(line)
    return (
        len(line) <= 60
        and len(line.split()) <= 8
        and not line.endswith(".")
        and _BOILERPLATE_HEADING.fullmatch(line) is not None
    )


def split_end_matter(paragraphs: list[Paragraph]) -> tuple[list[Paragraph], EndMatter]:
    """The story's paragraphs, and the end matter found after (or among) them."""
    story, tail = _split_at_tail(paragraphs)
    story, contacts = _take_contact_blocks(story)
    tail, tail_contacts = _take_contact_blocks(tail)
    end = _read_tail(tail)
    end.contact_block = contacts + tail_contacts
    return story, end


def _is_marker_paragraph(paragraph: Paragraph) -> bool:
    return len(paragraph) == 1 and is_end_marker(paragraph[0])


def _split_at_tail(paragraphs: list[Paragraph]) -> tuple[list[Paragraph], list[Paragraph]]:
    """The story ends at the end marker or the boilerplate heading, whichever comes first."""
    for index, paragraph in enumerate(paragraphs):
        if _is_marker_paragraph(paragraph) or is_boilerplate_heading(paragraph[0]):
            return paragraphs[:index], paragraphs[index:]
    return paragraphs, []


def _take_contact_blocks(
    paragraphs: list[Paragraph],
) -> tuple[list[Paragraph], list[Paragraph]]:
    """Split off contact blocks: a heading paragraph and the entry paragraphs after it."""
    kept: list[Paragraph] = []
    taken: list[Paragraph] = []
    in_block = False
    for paragraph in paragraphs:
        if split_contact_heading(paragraph[0]) is not None:
            in_block = True
        elif not (in_block and _is_contact_entry(paragraph)):
            in_block = False
        (taken if in_block else kept).append(paragraph)
    return kept, taken


def _is_contact_entry(paragraph: Paragraph) -> bool:
    # "Media contacts:", a blank line, "Jane Doe +41 ...": short lines with an address or
    # a phone number still belong to the block.
    if _is_marker_paragraph(paragraph) or is_boilerplate_heading(paragraph[0]):
        return False
    return all(len(line) <= 120 for line in paragraph) and any(
        has_contact_details(line) for line in paragraph
    )


def _read_tail(tail: list[Paragraph]) -> EndMatter:
    end = EndMatter()
    for paragraph in tail:
        if _is_marker_paragraph(paragraph):
            end.end_marker = end.end_marker or paragraph[0]
        elif end.boilerplate_heading is None and is_boilerplate_heading(paragraph[0]):
            end.boilerplate_heading = heading_text(paragraph[0]).rstrip(" :")
            if paragraph[1:]:
                end.boilerplate.append(paragraph[1:])
        else:
            # Text after the marker without a heading of its own is still notes for editors.
            end.boilerplate.append(paragraph)
    return end
