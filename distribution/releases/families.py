"""A release's family: its texts in every language, and the corrections of each.

A language's texts form a line: the first text, then each correction of it (corrects_id),
oldest first. The original language's line starts at the family's root, whose id is the
family's public address. A language version names the root (version_of_id) and is a line
of its own; a correction of a version stays a version of the root. Every row of a family
shares one embargo and one fate (sent, withdrawn).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from distribution.errors import NotFound
from distribution.store.models import Release


@dataclass(frozen=True)
class Line:
    """One language's texts, oldest first: the last is the current one."""

    texts: tuple[Release, ...]

    @property
    def first(self) -> Release:
        return self.texts[0]

    @property
    def head(self) -> Release:
        return self.texts[-1]

    @property
    def language(self) -> str:
        return self.head.language or "en"

    @property
    def corrected(self) -> bool:
        return len(self.texts) > 1

    @property
    def ids(self) -> list[int]:
        return [text.id for text in self.texts]

    def number(self, release_id: int) -> int:
        """1 for the first text, 2 for its first correction…"""
        return self.ids.index(release_id) + 1


@dataclass(frozen=True)
class Family:
    main: Line                   # the original language's texts, from the root
    versions: tuple[Line, ...]   # the other languages', in the order they were added

    @property
    def root(self) -> Release:
        return self.main.first

    @property
    def lines(self) -> tuple[Line, ...]:
        return (self.main, *self.versions)

    @property
    def members(self) -> list[Release]:
        return sorted((text for line in self.lines for text in line.texts), key=lambda r: r.id)

    @property
    def ids(self) -> list[int]:
        return [r.id for r in self.members]

    @property
    def heads(self) -> list[Release]:
        """The current text of every language, the original's first."""
        return [line.head for line in self.lines]

    def line_of(self, release_id: int) -> Line:
        for line in self.lines:
            if release_id in line.ids:
                return line
        raise NotFound(f"release {release_id} is not in the family of release {self.root.id}")

    def is_main(self, release_id: int) -> bool:
        return release_id in self.main.ids

    def by_language(self) -> dict[str, Line]:
        return {line.language: line for line in self.lines}


def root_of(session: Session, release: Release) -> Release:
    """The first text of the family: up through versions and corrections."""
    while (parent := release.version_of_id or release.corrects_id) is not None:
        release = session.get_one(Release, parent)
    return release


def family_of(session: Session, release_id: int) -> Family:
    """The whole family of any of its rows (the root, a correction, a version)."""
    release = session.get(Release, release_id)
    if release is None:
        raise NotFound(f"no release with id {release_id}")
    root = root_of(session, release)
    main, frontier = [root], [root.id]
    while frontier:
        newer = list(session.scalars(select(Release).where(
            Release.corrects_id.in_(frontier), Release.version_of_id.is_(None))))
        main += newer
        frontier = [r.id for r in newer]
    # Versions name the root; rows written before that rule may name a later main text.
    versions = session.scalars(select(Release).where(
        Release.version_of_id.in_([r.id for r in main])))
    return assemble(main, versions)


def assemble(main: Iterable[Release], versions: Iterable[Release]) -> Family:
    """Lines from rows: the main line's texts, and every version row of the family."""
    return Family(Line(_chain(main)), tuple(Line(_chain(group))
                                            for group in _version_groups(list(versions))))


def families(rows: Iterable[Release]) -> list[Family]:
    """Every family whose rows are all in `rows` (say, every release that went out)."""
    by_id = {r.id: r for r in rows}
    groups: dict[int, tuple[list[Release], list[Release]]] = {}
    for row in by_id.values():
        root = _root_in(row, by_id)
        if root is None:
            continue  # a row whose parent is not among them (a draft)
        main, versions = groups.setdefault(root.id, ([], []))
        (versions if row.version_of_id is not None else main).append(row)
    return [assemble(main, versions) for main, versions in groups.values()]


def _root_in(row: Release, by_id: dict[int, Release]) -> Release | None:
    seen = 0
    while (parent := row.version_of_id or row.corrects_id) is not None:
        found = by_id.get(parent)
        seen += 1
        if found is None or seen > len(by_id):
            return None
        row = found
    return row


def _chain(rows: Iterable[Release]) -> tuple[Release, ...]:
    """Texts that correct one another, oldest first (corrections only follow what they
    correct, so the ids give the order)."""
    return tuple(sorted(rows, key=lambda r: r.id))


def _version_groups(rows: list[Release]) -> list[list[Release]]:
    """Version rows as lines: each first version and the corrections that follow it."""
    ids = {r.id for r in rows}
    line_of: dict[int, int] = {}
    groups: dict[int, list[Release]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        start = line_of.get(row.corrects_id or 0) if row.corrects_id in ids else row.id
        start = start if start is not None else row.id
        line_of[row.id] = start
        groups.setdefault(start, []).append(row)
    return list(groups.values())
