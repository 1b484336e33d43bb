"""What a notice or a correction says beside its heading, in the reader's language.

The note stored on a distribution is the operator's (English) record. An English copy shows
it as it is; another language gets the same facts from its catalog: the new embargo, the
moment of the lift or the withdrawal (from the release as it stands), and a correction's list
of changes, each part translated.
"""

from __future__ import annotations

import re
from datetime import datetime

from distribution.locales import catalog_language, dates, translate
from distribution.store.models import Release

_PARAGRAPHS = re.compile(r"paragraphs? (?P<span>\d+(?:–\d+)?)(?: (?P<what>added|removed))?")
_SECTION = re.compile(r"the “(?P<heading>.*)” section")


def localized_note(kind: str, note: str | None, release: Release, language: str) -> str | None:
    if catalog_language(language) == "en" or not note:
        return note
    zone = release.embargo_zone or "UTC"
    if kind == "notice_moved" and release.embargo_until:
        return translate(language, "The embargo has moved to %(moment)s.",
                       moment=_moment(release.embargo_until, zone, language))
    if kind == "notice_lifted" and release.embargo_until:
        return translate(language, "Lifted at %(moment)s: you may publish now.",
                       moment=_moment(release.embargo_until, zone, language))
    if kind == "notice_withdrawn":
        when = release.withdrawn_at or release.embargo_until
        if when is None:
            return translate(language, "Do not publish it, in whole or in part, and delete any "
                                     "copy you hold.")
        return translate(language, "Withdrawn at %(moment)s. Do not publish it, in whole or in "
                                 "part, and delete any copy you hold.",
                       moment=_moment(when, zone, language))
    if kind == "correction" and note.startswith("Changed: "):
        parts = note.removeprefix("Changed: ").rstrip(".").split("; ")
        return translate(language, "Changed: %(changes)s.",
                       changes=translate(language, "; ").join(_change(p, language) for p in parts))
    return note


def _moment(utc: datetime, zone: str, language: str) -> str:
    return dates.moment_with_utc(utc, zone, language)


def _change(part: str, language: str) -> str:
    if match := _PARAGRAPHS.fullmatch(part):
        span, what = match["span"], match["what"]
        one = "–" not in span
        if what == "added":
            text = (translate(language, "paragraph %(n)s added", n=span) if one
                    else translate(language, "paragraphs %(n)s added", n=span))
        elif what == "removed":
            text = (translate(language, "paragraph %(n)s removed", n=span) if one
                    else translate(language, "paragraphs %(n)s removed", n=span))
        else:
            text = (translate(language, "paragraph %(n)s", n=span) if one
                    else translate(language, "paragraphs %(n)s", n=span))
        return text
    if match := _SECTION.fullmatch(part):
        return translate(language, "the “%(heading)s” section", heading=match["heading"])
    words = {"headline": translate(language, "headline"),
             "subheadline": translate(language, "subheadline"),
             "dateline": translate(language, "dateline"),
             "media contact": translate(language, "media contact"),
             "media contacts": translate(language, "media contacts"),
             "boilerplate": translate(language, "boilerplate")}
    return words.get(part, part)
