"""The embargo rule: who may be sent a release when, and when the public may see it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distribution.embargo import (
    Visibility,
    lifted,
    marked,
    may_send,
    publicly_visible,
)

LIFT = datetime(2025, 4, 16, 7, 0, tzinfo=UTC)
BEFORE = LIFT - timedelta(microseconds=1)
AFTER = LIFT + timedelta(hours=1)


# --- sending -------------------------------------------------------------------------------

def test_public_recipients_are_not_sent_before_the_lift() -> None:
    assert not may_send(LIFT, trusted=False, now=BEFORE)


def test_public_recipients_are_sent_at_the_exact_lift_instant() -> None:
    assert may_send(LIFT, trusted=False, now=LIFT)
    assert may_send(LIFT, trusted=False, now=AFTER)


def test_trusted_recipients_may_be_sent_before_the_lift() -> None:
    assert may_send(LIFT, trusted=True, now=BEFORE - timedelta(days=3))


@pytest.mark.parametrize("trusted", [True, False])
def test_a_release_without_embargo_goes_to_everyone(trusted: bool) -> None:
    assert may_send(None, trusted=trusted, now=BEFORE)


def test_copies_are_marked_until_the_lift_and_not_from_it() -> None:
    assert marked(LIFT, BEFORE)
    assert not marked(LIFT, LIFT)
    assert not marked(LIFT, AFTER)
    assert not marked(None, BEFORE)


def test_times_in_other_zones_compare_as_instants() -> None:
    # Two datetimes sharing one ZoneInfo compare by wall clock; the rule must not.
    zurich = ZoneInfo("Europe/Zurich")
    lift = datetime(2025, 10, 26, 2, 30, tzinfo=zurich, fold=1)  # 01:30 UTC (CET)
    now = datetime(2025, 10, 26, 2, 45, tzinfo=zurich, fold=0)  # 00:45 UTC (CEST)
    assert not may_send(lift, trusted=False, now=now)
    assert marked(lift, now)
    assert may_send(lift, trusted=False, now=lift.astimezone(UTC))


# --- public surfaces -----------------------------------------------------------------------

@pytest.mark.parametrize(("sent", "embargo", "withdrawn", "now", "expected"), [
    (False, None, False, AFTER, Visibility.HIDDEN),  # a draft
    (False, LIFT, False, AFTER, Visibility.HIDDEN),  # lifted but never sent
    (True, LIFT, False, BEFORE, Visibility.HIDDEN),  # sent to media, still embargoed
    (True, LIFT, False, LIFT, Visibility.VISIBLE),
    (True, None, False, BEFORE, Visibility.VISIBLE),
    (True, LIFT, True, AFTER, Visibility.WITHDRAWN),
    (True, None, True, AFTER, Visibility.WITHDRAWN),
    (True, LIFT, True, BEFORE, Visibility.HIDDEN),  # withdrawn before the public saw it
    (False, None, True, AFTER, Visibility.HIDDEN),
])
def test_public_visibility(sent: bool, embargo: datetime | None, withdrawn: bool,
                           now: datetime, expected: Visibility) -> None:
    assert publicly_visible(sent, embargo, withdrawn, now) is expected


def test_only_visible_counts_as_true() -> None:
    # `if publicly_visible(...)` must never show a hidden or withdrawn release.
    assert [bool(v) for v in Visibility] == [False, True, False]
    assert [v for v in Visibility if v] == [Visibility.VISIBLE]


# --- programming errors --------------------------------------------------------------------

NAIVE = datetime(2025, 4, 16, 7, 0)
NAIVE_CALLS: list[Callable[[], object]] = [
    lambda: lifted(LIFT, NAIVE),
    lambda: lifted(None, NAIVE),
    lambda: lifted(NAIVE, LIFT),
    lambda: may_send(NAIVE, True, LIFT),
    lambda: may_send(None, False, NAIVE),
    lambda: marked(NAIVE, LIFT),
    lambda: publicly_visible(True, NAIVE, False, LIFT),
    lambda: publicly_visible(False, None, False, NAIVE),
]


@pytest.mark.parametrize("call", NAIVE_CALLS)
def test_naive_datetimes_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="naive"):
        call()


# --- properties ----------------------------------------------------------------------------

aware = st.datetimes(datetime(1970, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))
zones = st.sampled_from([UTC, ZoneInfo("Europe/Zurich"), ZoneInfo("America/New_York")])
positive = st.timedeltas(timedelta(microseconds=1), timedelta(days=3650))


@given(embargo=aware, now=aware)
def test_no_public_send_before_the_lift_for_any_times(embargo: datetime, now: datetime) -> None:
    if now < embargo:
        assert not may_send(embargo, trusted=False, now=now)
        assert marked(embargo, now)
    else:
        assert may_send(embargo, trusted=False, now=now)
        assert not marked(embargo, now)
    assert may_send(embargo, trusted=True, now=now)


@given(embargo=aware, early=positive, zone=zones, sent=st.booleans(), withdrawn=st.booleans())
def test_nothing_public_before_the_lift_in_any_zone(embargo: datetime, early: timedelta,
                                                    zone: ZoneInfo, sent: bool,
                                                    withdrawn: bool) -> None:
    now = (embargo - early).astimezone(zone)
    assert not may_send(embargo, trusted=False, now=now)
    assert publicly_visible(sent, embargo, withdrawn, now) is Visibility.HIDDEN


@given(embargo=aware, late=st.timedeltas(timedelta(0), timedelta(days=3650)), zone=zones)
def test_everyone_may_be_sent_from_the_lift_on(embargo: datetime, late: timedelta,
                                               zone: ZoneInfo) -> None:
    now = (embargo + late).astimezone(zone)
    assert may_send(embargo, trusted=False, now=now)
    assert publicly_visible(True, embargo, False, now) is Visibility.VISIBLE
