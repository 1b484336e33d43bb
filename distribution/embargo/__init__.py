"""The embargo rule, in one place: who may be sent a release when, and when the public sees it.

Dispatch asks may_send() for every message it is about to send, not only when rows are
scheduled, so a row that became due early by mistake is still refused. Every public surface
(archive, page, feed, preview) asks publicly_visible(). An embargo has lifted at its exact
instant: `now == embargo_until` counts as lifted.

All datetimes must be timezone-aware (store and pass UTC); a naive one is a programming
error and raises ValueError rather than being guessed at.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime


class Visibility(enum.Enum):
    """What a public surface may show of a release.

    Truthy only for VISIBLE, so `if publicly_visible(...):` means "the content may be shown";
    WITHDRAWN means "show a withdrawal notice, not the release".
    """

    HIDDEN = "hidden"
    VISIBLE = "visible"
    WITHDRAWN = "withdrawn"

    def __bool__(self) -> bool:
        return self is Visibility.VISIBLE


def lifted(embargo_until: datetime | None, now: datetime) -> bool:
    """Has the embargo lifted at `now`? A release without one is never under embargo."""
    now = _utc(now)
    return embargo_until is None or now >= _utc(embargo_until)


def may_send(embargo_until: datetime | None, trusted: bool, now: datetime) -> bool:
    """Public recipients never before the lift; trusted recipients (media) any time."""
    return lifted(embargo_until, now) or trusted


def marked(embargo_until: datetime | None, now: datetime) -> bool:
    """Does a copy sent at `now` carry the embargo marks (subject, banner, plain text)?"""
    return not lifted(embargo_until, now)


def publicly_visible(sent: bool, embargo_until: datetime | None, withdrawn: bool,
                     now: datetime) -> Visibility:
    """The one visibility rule for every public surface.

    Visible only once sent and lifted. A withdrawn release shows as withdrawn only if it
    would otherwise be visible; one withdrawn before it was public stays hidden.
    """
    if not lifted(embargo_until, now) or not sent:
        return Visibility.HIDDEN
    return Visibility.WITHDRAWN if withdrawn else Visibility.VISIBLE


def _utc(value: datetime) -> datetime:
    # Compare in UTC: two datetimes sharing one ZoneInfo compare by wall time, ignoring fold.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r} in the embargo rule; pass aware UTC")
    return value.astimezone(UTC)


