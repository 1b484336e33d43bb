"""Which text of a release each recipient of a distribution gets.

A release's copy goes out in the contact's language (the current text of that language,
else the original's). A notice or a correction follows the copy the recipient holds: the
language they were sent, whatever their contact record says now.

- A notice (embargo moved, lifted, withdrawn) comes with the current text of the language
  they hold.
- A correction of a language version carries that version, corrected.
- A correction of the original carries, for a reader of a version that was corrected
  too, that corrected version; for any other reader, the corrected original, its notice
  in the reader's language (`Choice.notice_language`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from distribution.embargo.notices import sent_text
from distribution.releases import languages
from distribution.releases.families import Family, Line, assemble
from distribution.store.db import one_of
from distribution.store.models import (
    CARRIES_RELEASE,
    Delivery,
    DeliveryStatus,
    Distribution,
    DistributionKind,
    Release,
)

# The last few copies are enough to thread; a long chain of corrections stays a short header.
THREAD_LENGTH = 5


@dataclass(frozen=True)
class Held:
    """What a recipient of a notice or a correction holds of the release."""

    message_ids: tuple[str, ...]  # their copies' Message-IDs, oldest first (the last few)
    text_id: int                  # the newest text they were sent (of a version, if any)


@dataclass(frozen=True)
class Choice:
    text: Release
    notice_language: str  # the catalog of the notice's own words: the reader's language


def held_copies(session: Session, distribution: Distribution, family: Family,
                contact_ids: list[int]) -> dict[int, Held]:
    """For a notice or correction: the copies of the release each recipient holds, so the
    follow-up threads with them and speaks their language. One query per batch."""
    if DistributionKind(distribution.kind) in (DistributionKind.RELEASE, DistributionKind.TEST):
        return {}
    rows = session.execute(
        select(Delivery.contact_id, Delivery.message_id, sent_text())
        .join(Distribution, Distribution.id == Delivery.distribution_id)
        .where(Distribution.release_id.in_(family.ids), Distribution.id != distribution.id,
               Distribution.kind.in_(CARRIES_RELEASE),
               Delivery.status == DeliveryStatus.SENT, Delivery.message_id.is_not(None),
               one_of(session, Delivery.contact_id, contact_ids))
        .order_by(Delivery.sent_at, Delivery.id))
    ids: dict[int, list[str]] = {}
    texts: dict[int, int] = {}
    for contact_id, mid, text_id in rows:
        if mid is not None:  # the query asks for none, but the column may hold one
            ids.setdefault(contact_id, []).append(mid)
            # A reader of a version who was sent the original's correction (their version
            # had none) still reads their version's language.
            if not family.is_main(text_id) or family.is_main(texts.get(contact_id, text_id)):
                texts[contact_id] = text_id
    return {contact: Held(tuple(found[-THREAD_LENGTH:]), texts[contact])
            for contact, found in ids.items()}


class Texts:
    """The choice for one distribution; a dictionary lookup per recipient."""

    def __init__(self, kind: DistributionKind, release: Release, family: Family,
                 held: dict[int, Held]) -> None:
        self.kind = kind
        self.release = release  # the distribution's own text
        self.family = family
        self.held = held
        self._current = {line.language: line.head for line in family.versions}
        self._lines = {text.id: line for line in family.lines for text in line.texts}
        self._by_language: dict[str | None, Choice] = {}

    @classmethod
    def plain(cls, kind: DistributionKind, release: Release, versions: list[Release]) -> Texts:
        """A release and its language versions, with no history to follow."""
        return cls(kind, release, assemble([release], versions), {})

    def choose(self, contact_id: int, language: str | None) -> Choice:
        if self.kind in (DistributionKind.RELEASE, DistributionKind.TEST):
            return self._in_language(language)
        held = self.held.get(contact_id)
        line = self._lines.get(held.text_id) if held is not None else None
        if line is None:  # no copy on record (sent before copies named their text)
            line = self._line_in(language)
        if self.kind is not DistributionKind.CORRECTION:
            return Choice(line.head, line.language)
        if not self.family.is_main(self.release.id):
            return Choice(self.release, self.release.language)  # to that version's readers
        if line is not self.family.main and line.corrected:
            return Choice(line.head, line.language)
        return Choice(self.release, line.language)

    def references(self, contact_id: int) -> tuple[str, ...]:
        """The Message-IDs a follow-up answers: the copies the recipient holds."""
        held = self.held.get(contact_id)
        return held.message_ids if held is not None else ()

    def _in_language(self, language: str | None) -> Choice:
        found = self._by_language.get(language)
        if found is None:
            code = languages.pick(language, self._current, fallback="")
            text = self._current.get(code, self.release)
            found = self._by_language[language] = Choice(text, text.language)
        return found

    def _line_in(self, language: str | None) -> Line:
        lines = self.family.by_language()
        code = languages.pick(language, [line.language for line in self.family.versions],
                              fallback="")
        return lines.get(code, self.family.main)
