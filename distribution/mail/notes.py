"""What a notice or a correction says beside its heading, in the reader's language.

The note stored on a distribution is the operator's (English) record. An English copy shows
it as it is; another language gets the same facts from its catalog: the new embargo, the
moment of the lift or the withdrawal (from the release as it stands), and a correction's list
of changes, each part translated.
"""

from __future__ import annotations

import re
from datetime import datetime

from distribution.locales import catalog_language, dates, gettext
from distribution.store.models import Release

_PARAGRAPHS = re.compile(r"paragraphs? (?P<span>\d+(?:–\d+)?)(?: (?P<what>added|removed))?")
_SECTION = re.compile(r"the “(?P<heading>.*)” section")


def localized_note(kind: str, note: str | None, release: Release, language: str) -> str | None:
    if catalog_language(language) == "en" or not note:
        return note
    zone = release.embargo_zone or "UTC"
    if kind == "notice_moved" and release.embargo_until:
        return gettext(language, "The embargo has moved to %(moment)s.",
                       moment=_moment(release.embargo_until, zone, language))
    if kind == "notice_lifted" and release.embargo_until:
        return gettext(language, "Lifted at %(moment)s: you may publish now.",
                       moment=_moment(release.embargo_until, zone, language))
    if kind == "notice_withdrawn":
        when = release.withdrawn_at or release.embargo_until
        if when is None:
            return gettext(language, "Do not publish it, in whole or in part, and delete any "
                                     "copy you hold.")
        return gettext(language, "Withdrawn at %(moment)s. Do not publish it, in whole or in "
                                 "part, and delete any copy you hold.",
                       moment=_moment(when, zone, language))
    if kind == "correction" and note.startswith("Changed: "):
        parts = note.removeprefix("Changed: ").rstrip(".").split("; ")
        return gettext(language, "Changed: %(changes)s.",
                       changes=gettext(language, "; ").join(_change(p, language) for p in parts))
    return note


def _moment(utc: datetime, zone: str, language: str) -> str:
    return dates.moment_with_utc(utc, zone, language)


def _change(part: str, language: str) -> str:
    if match := _PARAGRAPHS.fullmatch(part):
        span, what = match["span"], match["what"]
        one = "–" not in span
        if what == "added":
            text = (gettext(language, "paragraph %(n)s added", n=span) if one
                    else gettext(language, "paragraphs %(n)s added", n=span))
        elif what == "removed":
            text = (gettext(language, "paragraph %(n)s removed", n=span) if one
                    else gettext(language, "paragraphs %(n)s removed", n=span))
        else:
            text = (gettext(language, "paragraph %(n)s", n=span) if one
                    else gettext(language, "paragraphs %(n)s", n=span))
        return text
    if match := _SECTION.fullmatch(part):
        return gettext(language, "the “%(heading)s” section", heading=match["heading"])
    words = {"headline": gettext(language, "headline"),
             "subheadline": gettext(language, "subheadline"),
             "dateline": gettext(language, "dateline"),
             "media contact": gettext(language, "media contact"),
             "media contacts": gettext(language, "media contacts"),
             "boilerplate": gettext(language, "boilerplate")}
    return words.get(part, part)
