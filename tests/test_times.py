"""User-entered times: every accepted format, DST gaps and folds, and the embargo line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, event, example, given, settings
from hypothesis import strategies as st

from distribution.times import (
    TimeError,
    WhenParsed,
    embargo_line,
    format_in_zone,
    normalize_zone,
    parse_embargo_text,
    parse_when,
    to_zone,
)

ZURICH = "Europe/Zurich"
NEW_YORK = "America/New_York"
APRIL_16_0700Z = datetime(2025, 4, 16, 7, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def instants_for(wall: datetime, tz: ZoneInfo) -> set[datetime]:
    """Every instant whose clock in `tz` reads `wall`, found without using `fold`:
    try each offset the zone uses within two days and keep those that read back."""
    offsets = {(wall + timedelta(hours=h)).replace(tzinfo=UTC).astimezone(tz).utcoffset()
               for h in range(-48, 49)}
    found = set()
    for offset in offsets:
        assert offset is not None
        candidate = (wall - offset).replace(tzinfo=UTC)
        if candidate.astimezone(tz).replace(tzinfo=None) == wall:
            found.add(candidate)
    return found


# --- accepted formats ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "default", "expected"), [
    ("2025-04-16 09:00 Europe/Zurich", None, WhenParsed(APRIL_16_0700Z, ZURICH, False)),
    ("2025-04-16T07:00Z", None, WhenParsed(APRIL_16_0700Z, "UTC", False)),
    ("2025-04-16T09:00:00+02:00", None, WhenParsed(APRIL_16_0700Z, "+02:00", False)),
    ("2025-04-16 07:00 UTC", None, WhenParsed(APRIL_16_0700Z, "UTC", False)),
    ("2025-04-16 09:00", ZURICH, WhenParsed(APRIL_16_0700Z, ZURICH, True)),
    ("2025-04-16 03:00", NEW_YORK, WhenParsed(APRIL_16_0700Z, NEW_YORK, True)),
    ("2025-04-16 09:00 europe/zurich", None, WhenParsed(APRIL_16_0700Z, ZURICH, False)),
    ("2025-04-16 12:30 UTC+05:30", None, WhenParsed(APRIL_16_0700Z, "+05:30", False)),
    ("2025-04-16T03:00-04:00", ZURICH, WhenParsed(APRIL_16_0700Z, "-04:00", False)),
    ("2025-04-16T07:00:00+00:00", None, WhenParsed(APRIL_16_0700Z, "UTC", False)),
    ("  2025-04-16   09:00  Europe/Zurich ", None, WhenParsed(APRIL_16_0700Z, ZURICH, False)),
    ("3 a.m. EDT on April 16, 2025", None, WhenParsed(APRIL_16_0700Z, "EDT", False)),
    ("16 April 2025 3pm JST", None, WhenParsed(utc(2025, 4, 16, 6), "JST", False)),
])
def test_accepted_formats(text: str, default: str | None, expected: WhenParsed) -> None:
    assert parse_when(text, default) == expected


def test_seconds_and_fractions_are_kept() -> None:
    parsed = parse_when("2025-04-16T09:00:30.25+02:00")
    assert parsed.utc == datetime(2025, 4, 16, 7, 0, 30, 250000, tzinfo=UTC)


def test_a_written_zone_wins_over_the_default_zone() -> None:
    parsed = parse_when("2025-04-16 07:00 UTC", NEW_YORK)
    assert (parsed.utc, parsed.zone, parsed.assumed_zone) == (APRIL_16_0700Z, "UTC", False)


def test_now_is_the_injected_instant_in_the_default_zone() -> None:
    now = utc(2025, 4, 16, 7, 0, 12)
    assert parse_when("now", ZURICH, now=now) == WhenParsed(now, ZURICH, False)
    assert parse_when(" NOW ", None, now=now) == WhenParsed(now, "UTC", False)


def test_now_without_injection_is_the_clock() -> None:
    before = datetime.now(UTC)
    parsed = parse_when("now")
    assert before <= parsed.utc <= datetime.now(UTC)
    assert parsed.utc.tzinfo is UTC


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="naive") as caught:
        parse_when("now", now=datetime(2025, 4, 16, 7))
    assert not isinstance(caught.value, TimeError)


def test_a_time_without_any_zone_is_refused() -> None:
    with pytest.raises(TimeError) as caught:
        parse_when("2025-04-16 09:00")
    assert str(caught.value) == (
        "'2025-04-16 09:00' has no time zone; add one (e.g. 'Europe/Zurich') "
        "or set the organisation's time zone")
    with pytest.raises(TimeError, match="has no time zone"):
        parse_when("2025-04-16 09:00", "")  # the shipped default: timezone = ""


# --- abbreviations -------------------------------------------------------------------------

@pytest.mark.parametrize(("abbreviation", "hours"), [
    ("UTC", 0), ("GMT", 0), ("CET", 1), ("CEST", 2), ("EST", -5), ("EDT", -4), ("BST", 1),
])
def test_abbreviations_are_fixed_offsets_and_kept_for_display(abbreviation: str,
                                                              hours: int) -> None:
    parsed = parse_when(f"2025-04-16 09:00 {abbreviation}")
    assert parsed.utc == utc(2025, 4, 16, 9) - timedelta(hours=hours)
    assert parsed.zone == abbreviation
    assert format_in_zone(parsed.utc, parsed.zone) == f"09:00 {abbreviation}, 16 April 2025"


def test_cet_written_in_summer_still_means_plus_one_hour() -> None:
    # Literal reading: one hour later than CEST would lift, never earlier.
    parsed = parse_embargo_text("09:00 CET, 16 April 2025", None)
    assert parsed.utc == utc(2025, 4, 16, 8)
    assert embargo_line(parsed.utc, parsed.zone) == (
        "STRICTLY EMBARGOED UNTIL 09:00 CET, 16 April 2025 (08:00 UTC)")


def test_abbreviations_are_read_in_any_case() -> None:
    assert parse_when("2025-04-16 09:00 cest").zone == "CEST"


@pytest.mark.parametrize("abbreviation", ["CST", "IST", "AST"])
def test_abbreviations_that_mean_several_offsets_are_refused(abbreviation: str) -> None:
    with pytest.raises(TimeError, match=f"'{abbreviation}' is ambiguous; write the zone"):
        parse_when(f"2025-04-16 09:00 {abbreviation}")


# --- refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize("zone", ["Europe/Zurch", "XYZ", "Mars/Olympus"])
def test_unknown_zones_are_refused(zone: str) -> None:
    with pytest.raises(TimeError, match=f"unknown time zone '{zone}'"):
        parse_when(f"2025-04-16 09:00 {zone}")


@pytest.mark.parametrize("text", [
    "tomorrow", "", "2025-04-16 9:0", "2025-02-30 09:00 UTC", "2025-04-16 24:00 UTC",
    "2025-04-16 09:60 UTC", "16/04/2025 09:00 UTC", "2025-04-16 09:00 10:00 UTC",
    "2025-04-16 09:00 UTC CET", "16 April 09:00 UTC", "2025-04-16 16 April 2025 09:00 UTC",
    "13 pm 16 April 2025 UTC", "16 April April 2025 09:00 UTC",
])
def test_malformed_text_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(TimeError) as caught:
        parse_when(text)
    assert str(caught.value) == (
        f"cannot read '{text}' as a time; use e.g. '2025-04-16 09:00 Europe/Zurich'")


@pytest.mark.parametrize("text", ["2025-04-16", "2025-04-16 9", "16 April 2025 CEST"])
def test_a_date_without_a_time_of_day_is_refused(text: str) -> None:
    with pytest.raises(TimeError, match=f"'{text}' has no time of day"):
        parse_when(text, ZURICH)


def test_a_wrong_weekday_is_refused() -> None:
    with pytest.raises(TimeError, match="3 June 2025 is a Tuesday, not a Monday"):
        parse_embargo_text("00:01 GMT Monday 3 June 2025", None)


def test_an_offset_beyond_fourteen_hours_is_refused() -> None:
    with pytest.raises(TimeError, match="UTC offset '\\+15:00' is out of range"):
        parse_when("2025-04-16 09:00 +15:00")


@pytest.mark.parametrize("text", ["9999-12-31 23:59 UTC", "9999-12-31 23:59 Pacific/Kiritimati",
                                  "0001-01-01 00:00 UTC", "0001-01-01 00:00 +02:00"])
def test_an_instant_that_some_zone_cannot_show_is_refused(text: str) -> None:
    """Every embargo is shown in the office's zone and each recipient's: a day from either
    end of the calendar, one of them would fall outside it."""
    with pytest.raises(TimeError, match="is out of range"):
        parse_when(text, ZURICH)


def test_long_text_is_shortened_in_the_message() -> None:
    with pytest.raises(TimeError) as caught:
        parse_when("x" * 500)
    assert len(str(caught.value)) < 140
    assert "\n" not in str(caught.value)


# --- DST: gaps and folds -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ("2025-03-30 02:30 Europe/Zurich",
     "2025-03-30 02:30 Europe/Zurich does not exist: clocks jump from 02:00 to 03:00"),
    ("2025-03-30 02:00 Europe/Zurich",
     "2025-03-30 02:00 Europe/Zurich does not exist: clocks jump from 02:00 to 03:00"),
    ("2025-03-09 02:30 America/New_York",
     "2025-03-09 02:30 America/New_York does not exist: clocks jump from 02:00 to 03:00"),
    ("2025-10-26 02:30 Europe/Zurich",
     "2025-10-26 02:30 Europe/Zurich is ambiguous (CEST or CET); give the UTC offset"),
    ("2025-10-26 02:00 Europe/Zurich",
     "2025-10-26 02:00 Europe/Zurich is ambiguous (CEST or CET); give the UTC offset"),
    ("2025-11-02 01:30 America/New_York",
     "2025-11-02 01:30 America/New_York is ambiguous (EDT or EST); give the UTC offset"),
])
def test_gap_and_fold_times_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(TimeError) as caught:
        parse_when(text)
    assert str(caught.value) == message


def test_a_default_zone_gap_is_refused_too() -> None:
    with pytest.raises(TimeError, match="does not exist: clocks jump from 02:00 to 03:00"):
        parse_when("2025-03-30 02:30", ZURICH)


def test_a_gap_of_a_whole_day_names_both_dates() -> None:
    # Samoa skipped 30 December 2011 when it moved across the date line.
    with pytest.raises(TimeError, match="clocks jump from 2011-12-30 00:00 to 2011-12-31 00:00"):
        parse_when("2011-12-30 10:00 Pacific/Apia")


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-03-30 01:59 Europe/Zurich", utc(2025, 3, 30, 0, 59)),
    ("2025-03-30 03:00 Europe/Zurich", utc(2025, 3, 30, 1, 0)),
    ("2025-10-26 01:59 Europe/Zurich", utc(2025, 10, 25, 23, 59)),
    ("2025-10-26 03:00 Europe/Zurich", utc(2025, 10, 26, 2, 0)),
    ("2025-03-09 01:59 America/New_York", utc(2025, 3, 9, 6, 59)),
    ("2025-03-09 03:00 America/New_York", utc(2025, 3, 9, 7, 0)),
    ("2025-11-02 00:59 America/New_York", utc(2025, 11, 2, 4, 59)),
    ("2025-11-02 02:00 America/New_York", utc(2025, 11, 2, 7, 0)),
])
def test_times_next_to_a_gap_or_fold_are_accepted(text: str, expected: datetime) -> None:
    assert parse_when(text).utc == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-10-26 02:30+02:00 Europe/Zurich", utc(2025, 10, 26, 0, 30)),
    ("2025-10-26 02:30 +01:00 Europe/Zurich", utc(2025, 10, 26, 1, 30)),
    ("2025-11-02 01:30-04:00 America/New_York", utc(2025, 11, 2, 5, 30)),
    ("2025-11-02 01:30 -05:00 America/New_York", utc(2025, 11, 2, 6, 30)),
])
def test_an_offset_settles_a_fold_and_keeps_the_zone(text: str, expected: datetime) -> None:
    parsed = parse_when(text)
    assert parsed.utc == expected
    assert "/" in parsed.zone


def test_an_offset_the_zone_does_not_use_then_is_refused() -> None:
    with pytest.raises(TimeError, match="Europe/Zurich is at \\+02:00, not \\+01:00"):
        parse_when("2025-04-16 09:00+01:00 Europe/Zurich")


def test_an_offset_does_not_make_a_gap_time_exist() -> None:
    with pytest.raises(TimeError, match="does not exist"):
        parse_when("2025-03-30 02:30+01:00 Europe/Zurich")


@lru_cache
def clock_changes(zone: str, year: int) -> tuple[datetime, ...]:
    """The UTC instants in `year` at which `zone` changes its offset (on whole hours)."""
    tz = ZoneInfo(zone)

    def offset(moment: datetime) -> timedelta | None:
        return moment.astimezone(tz).utcoffset()

    days = [datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=n) for n in range(365)]
    changed = [day for day in days if offset(day) != offset(day + timedelta(days=1))]
    hours = [day + timedelta(hours=h) for day in changed for h in range(1, 25)]
    return tuple(hour for hour in hours if offset(hour) != offset(hour - timedelta(hours=1)))


def test_the_clock_change_helper_finds_the_real_changes() -> None:
    assert clock_changes(ZURICH, 2025) == (utc(2025, 3, 30, 1), utc(2025, 10, 26, 1))
    assert clock_changes(NEW_YORK, 2025) == (utc(2025, 3, 9, 7), utc(2025, 11, 2, 6))


@st.composite
def near_a_clock_change(draw: st.DrawFn) -> tuple[datetime, str]:
    """A wall time within two hours of a real clock change, to land in gaps and folds."""
    zone = draw(st.sampled_from([ZURICH, NEW_YORK]))
    change = draw(st.sampled_from(clock_changes(zone, draw(st.integers(1990, 2060)))))
    clock_before = (change - timedelta(hours=1)).astimezone(ZoneInfo(zone)) + timedelta(hours=1)
    return clock_before.replace(tzinfo=None) + timedelta(minutes=draw(st.integers(-120, 120))), zone


anywhere = st.tuples(
    st.datetimes(datetime(1990, 1, 1), datetime(2060, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)),
    st.sampled_from([ZURICH, NEW_YORK]),
)


@settings(deadline=None, max_examples=300)
@given(case=st.one_of(anywhere, near_a_clock_change()))
@example(case=(datetime(2025, 3, 30, 2, 30), ZURICH))
@example(case=(datetime(2025, 10, 26, 2, 30), ZURICH))
@example(case=(datetime(2025, 3, 9, 2, 30), NEW_YORK))
@example(case=(datetime(2025, 11, 2, 1, 30), NEW_YORK))
def test_any_wall_time_is_refused_or_reads_back(case: tuple[datetime, str]) -> None:
    wall, zone = case
    instants = instants_for(wall, ZoneInfo(zone))
    text = f"{wall:%Y-%m-%d %H:%M} {zone}"
    event({0: "gap", 1: "ordinary", 2: "fold"}[len(instants)])
    if len(instants) == 1:
        parsed = parse_when(text)
        assert parsed.utc in instants
        assert parsed.utc.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == wall
    else:
        reason = "does not exist" if not instants else "is ambiguous"
        with pytest.raises(TimeError, match=reason):
            parse_when(text)


ROUND_TRIP_ZONES = [ZURICH, NEW_YORK, "Europe/London", "Asia/Kolkata", "Asia/Tokyo", "UTC"]
instants = st.datetimes(datetime(1990, 1, 1), datetime(2060, 12, 31), timezones=st.just(UTC)).map(
    lambda d: d.replace(second=0, microsecond=0))


@settings(deadline=None)
@given(instant=instants, zone=st.sampled_from(ROUND_TRIP_ZONES))
def test_wall_time_and_zone_round_trip(instant: datetime, zone: str) -> None:
    wall = instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    assume(len(instants_for(wall, ZoneInfo(zone))) == 1)  # folds are refused, tested above
    assert parse_when(f"{wall:%Y-%m-%d %H:%M} {zone}") == WhenParsed(instant, zone, False)
    assert parse_when(f"{wall:%Y-%m-%d %H:%M}", zone) == WhenParsed(instant, zone, True)


@settings(deadline=None)
@given(instant=instants, zone=st.sampled_from(ROUND_TRIP_ZONES))
def test_formatted_times_read_back_to_the_same_instant(instant: datetime, zone: str) -> None:
    # Labels are unambiguous abbreviations or UTC offsets, so even fold times read back.
    assert parse_when(format_in_zone(instant, zone)).utc == instant
    line = embargo_line(instant, zone, NEW_YORK)
    assert parse_embargo_text(line.removeprefix("STRICTLY EMBARGOED UNTIL "), None).utc == instant


TOKENS = ["2025-04-16", "0001-01-01", "9999-12-31", "09:00", "23:59", "9", "pm", "16", "April",
          "2025", "Tuesday", "Europe/Zurich", "CEST", "IST", "UTC", "Z", "+14:00", "-05:00",
          "now", "at", "(07:00 UTC)", ",", "**", "."]
texts = st.text(max_size=40) | st.lists(st.sampled_from(TOKENS), max_size=8).map(" ".join)


@settings(deadline=None, max_examples=500)
@given(text=texts, default=st.sampled_from([None, "", ZURICH, "+14:00"]))
@example(text="0001-01-01 00:00 Europe/Zurich", default=None)
@example(text="9999-12-31 23:59 -05:00", default=None)
def test_any_text_is_read_or_refused_with_a_time_error(text: str, default: str | None) -> None:
    for reader in (parse_when, parse_embargo_text):
        try:
            parsed = reader(text, default)
        except TimeError as error:
            assert "\n" not in str(error)
        else:
            assert parsed.utc.tzinfo is UTC


# --- release files -------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected", "zone"), [
    ("09:00 CET, 16 April 2025", utc(2025, 4, 16, 8), "CET"),
    ("09:00 CEST, 16 April 2025", APRIL_16_0700Z, "CEST"),
    ("16 April 2025 09:00 Europe/Zurich", APRIL_16_0700Z, ZURICH),
    ("00:01 GMT Tuesday 3 June 2025", utc(2025, 6, 3, 0, 1), "GMT"),
    ("2025-04-16T07:00Z", APRIL_16_0700Z, "UTC"),
    ("00:01 HRS GMT TUESDAY 3 JUNE 2025", utc(2025, 6, 3, 0, 1), "GMT"),
    ("00.01 BST on Tuesday, 3rd June 2025.", utc(2025, 6, 2, 23, 1), "BST"),
    ("**Wednesday 16 April 2025 at 09:00 CEST**", APRIL_16_0700Z, "CEST"),
    (": 09:00 CEST, 16 Apr 2025", APRIL_16_0700Z, "CEST"),
    ("9:00 a.m. EDT, April 16, 2025", utc(2025, 4, 16, 13), "EDT"),
    ("12:01 a.m. EST Sept. 3, 2025", utc(2025, 9, 3, 5, 1), "EST"),
    ("09:00 CEST, 16 April 2025 (07:00 UTC)", APRIL_16_0700Z, "CEST"),
])
def test_embargo_text_from_release_files(text: str, expected: datetime, zone: str) -> None:
    assert parse_embargo_text(text, None) == WhenParsed(expected, zone, False)


def test_embargo_text_without_a_zone_uses_the_default_and_says_so() -> None:
    parsed = parse_embargo_text("09:00, 16 April 2025", ZURICH)
    assert parsed == WhenParsed(APRIL_16_0700Z, ZURICH, True)


def test_embargo_text_is_never_now() -> None:
    with pytest.raises(TimeError, match="cannot read 'now'"):
        parse_embargo_text("now", ZURICH)


# --- showing -------------------------------------------------------------------------------

@pytest.mark.parametrize(("instant", "zone", "shown"), [
    (APRIL_16_0700Z, ZURICH, "09:00 CEST, 16 April 2025"),
    (utc(2025, 1, 16, 8), ZURICH, "09:00 CET, 16 January 2025"),
    (APRIL_16_0700Z, NEW_YORK, "03:00 EDT, 16 April 2025"),
    (APRIL_16_0700Z, "UTC", "07:00 UTC, 16 April 2025"),
    (APRIL_16_0700Z, "+02:00", "09:00 UTC+02:00, 16 April 2025"),
    (APRIL_16_0700Z, "Asia/Kolkata", "12:30 UTC+05:30, 16 April 2025"),
    (APRIL_16_0700Z, "CET", "08:00 CET, 16 April 2025"),
    (utc(2025, 4, 16, 7, 0, 30), ZURICH, "09:00:30 CEST, 16 April 2025"),
    (datetime(2025, 4, 16, 9, tzinfo=ZoneInfo(ZURICH)), "UTC", "07:00 UTC, 16 April 2025"),
])
def test_format_in_zone(instant: datetime, zone: str, shown: str) -> None:
    assert format_in_zone(instant, zone) == shown


def test_formatting_a_naive_datetime_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_in_zone(datetime(2025, 4, 16, 7), ZURICH)
    with pytest.raises(ValueError, match="naive"):
        embargo_line(datetime(2025, 4, 16, 7), ZURICH)


def test_embargo_line_in_summer() -> None:
    assert embargo_line(utc(2025, 4, 16, 7), ZURICH) == (
        "STRICTLY EMBARGOED UNTIL 09:00 CEST, 16 April 2025 (07:00 UTC)")


def test_embargo_line_in_winter() -> None:
    assert embargo_line(utc(2025, 1, 16, 8), ZURICH) == (
        "STRICTLY EMBARGOED UNTIL 09:00 CET, 16 January 2025 (08:00 UTC)")


def test_embargo_line_adds_the_recipients_own_time() -> None:
    assert embargo_line(APRIL_16_0700Z, ZURICH, NEW_YORK) == (
        "STRICTLY EMBARGOED UNTIL 09:00 CEST, 16 April 2025 "
        "(07:00 UTC; 03:00 EDT, 16 April 2025 in America/New_York)")


@pytest.mark.parametrize("recipient_zone", [ZURICH, "Europe/Paris", "CEST", "UTC", None])
def test_embargo_line_skips_a_recipient_time_that_adds_nothing(
        recipient_zone: str | None) -> None:
    assert embargo_line(APRIL_16_0700Z, ZURICH, recipient_zone) == (
        "STRICTLY EMBARGOED UNTIL 09:00 CEST, 16 April 2025 (07:00 UTC)")


def test_embargo_line_in_utc_needs_no_utc_note() -> None:
    assert embargo_line(APRIL_16_0700Z, "UTC") == (
        "STRICTLY EMBARGOED UNTIL 07:00 UTC, 16 April 2025")
    assert embargo_line(utc(2025, 6, 3, 0, 1), "GMT", "Asia/Tokyo") == (
        "STRICTLY EMBARGOED UNTIL 00:01 GMT, 3 June 2025 (09:01 JST, 3 June 2025 in Asia/Tokyo)")


def test_embargo_line_dates_the_utc_time_when_the_day_differs() -> None:
    assert embargo_line(utc(2025, 4, 15, 22, 30), ZURICH) == (
        "STRICTLY EMBARGOED UNTIL 00:30 CEST, 16 April 2025 (22:30 UTC, 15 April 2025)")


def test_embargo_line_in_a_fixed_offset() -> None:
    assert embargo_line(APRIL_16_0700Z, "+02:00") == (
        "STRICTLY EMBARGOED UNTIL 09:00 UTC+02:00, 16 April 2025 (07:00 UTC)")


@pytest.mark.parametrize(("given_name", "canonical"), [
    ("europe/zurich", ZURICH), ("UTC", "UTC"), ("cest", "CEST"), ("+2", "+02:00"),
    ("GMT-05:00", "-05:00"), ("+00:00", "UTC"),
])
def test_normalize_zone(given_name: str, canonical: str) -> None:
    assert normalize_zone(given_name) == canonical


def test_normalize_zone_refuses_unknown_zones() -> None:
    with pytest.raises(TimeError, match="unknown time zone 'Nowhere/Town'"):
        normalize_zone("Nowhere/Town")


@pytest.mark.parametrize(("zone", "iso"), [
    (ZURICH, "2025-04-16T09:00:00+02:00"), ("europe/zurich", "2025-04-16T09:00:00+02:00"),
    ("UTC", "2025-04-16T07:00:00+00:00"), ("+02:00", "2025-04-16T09:00:00+02:00"),
    ("UTC-05:30", "2025-04-16T01:30:00-05:30"), ("CEST", "2025-04-16T09:00:00+02:00"),
    ("CET", "2025-04-16T08:00:00+01:00"),
])
def test_to_zone_gives_the_same_instant_on_the_zones_clock(zone: str, iso: str) -> None:
    local = to_zone(APRIL_16_0700Z, zone)
    assert local.isoformat() == iso
    assert local == APRIL_16_0700Z


def test_to_zone_refuses_what_normalize_zone_refuses() -> None:
    with pytest.raises(TimeError, match="unknown time zone 'Nowhere/Town'"):
        to_zone(APRIL_16_0700Z, "Nowhere/Town")
    with pytest.raises(TimeError, match="'IST' is ambiguous"):
        to_zone(APRIL_16_0700Z, "IST")
    with pytest.raises(ValueError, match="naive"):
        to_zone(datetime(2025, 4, 16, 7), ZURICH)
