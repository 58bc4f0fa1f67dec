"""Clinic time: days, weeks and window bounds in Europe/Berlin, across both DST changes of 2027."""
from datetime import UTC, date, datetime, time, timedelta

import pytest

from portal.services import clinic_time
from portal.services.errors import Invalid

SPRING = date(2027, 3, 28)  # last Sunday of March: 02:00 -> 03:00
AUTUMN = date(2027, 10, 31)  # last Sunday of October: 03:00 -> 02:00


def test_a_date_as_from_is_the_clinic_midnight_and_as_to_the_next_one(ctx):
    assert clinic_time.parse_bound("2027-01-15", end=False) == datetime(2027, 1, 14, 23, tzinfo=UTC)
    assert clinic_time.parse_bound("2027-01-15", end=True) == datetime(2027, 1, 15, 23, tzinfo=UTC)
    assert clinic_time.parse_bound(date(2027, 7, 1), end=False) == datetime(2027, 6, 30, 22, tzinfo=UTC)


def test_a_timestamp_keeps_its_offset_and_comes_back_in_utc(ctx):
    bound = clinic_time.parse_bound("2027-03-28T09:00:00+02:00", end=False)
    assert bound == datetime(2027, 3, 28, 7, tzinfo=UTC) and bound.tzinfo == UTC
    assert clinic_time.parse_bound("2027-03-28T07:00:00Z", end=True) == bound


@pytest.mark.parametrize("value", ["2027-03-28T09:00:00", "next tuesday", "2027-13-01", datetime(2027, 1, 1)])
def test_naive_or_unreadable_bounds_are_invalid(ctx, value):
    with pytest.raises(Invalid) as caught:
        clinic_time.parse_bound(value, end=False, field="start")
    assert "start" in caught.value.fields


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "0001-01-01T00:30:00+01:00"])
def test_bounds_at_the_ends_of_the_calendar_are_invalid_not_an_overflow(ctx, value):
    with pytest.raises(Invalid) as caught:
        clinic_time.parse_bound(value, end=value.startswith("9"), field="to")
    assert caught.value.fields == {"to": [clinic_time.OUT_OF_RANGE]}


def test_a_default_end_past_the_calendar_is_invalid(ctx):
    with pytest.raises(Invalid) as caught:
        clinic_time.window("9999-12-31T12:00:00+00:00", None)
    assert "from" in caught.value.fields


def test_a_missing_bound_stays_missing(ctx):
    assert clinic_time.parse_bound(None, end=True) is None and clinic_time.parse_bound("", end=False) is None


def test_dst_days_are_23_and_25_hours_long(ctx):
    start, end = clinic_time.day_bounds(SPRING)
    assert end - start == timedelta(hours=23)
    start, end = clinic_time.day_bounds(AUTUMN)
    assert end - start == timedelta(hours=25)


def test_a_date_range_includes_both_ends(ctx):
    lower, upper = clinic_time.window("2027-03-27", "2027-03-28")
    assert lower == datetime(2027, 3, 26, 23, tzinfo=UTC)
    assert upper == datetime(2027, 3, 28, 22, tzinfo=UTC)


def test_a_window_defaults_to_now_and_fourteen_clinic_days(ctx):
    before = clinic_time.now()
    lower, upper = clinic_time.window(None, None)
    assert before <= lower <= clinic_time.now()
    assert clinic_time.to_local(upper) == clinic_time.to_local(lower) + timedelta(days=14)


def test_the_default_end_keeps_wall_clock_time_across_dst(ctx):
    lower, upper = clinic_time.window("2027-03-20", None, default_days=14)
    assert clinic_time.to_local(upper) == datetime(2027, 4, 3, tzinfo=clinic_time.zone())
    assert upper - lower == timedelta(days=14, hours=-1)


def test_an_empty_or_backwards_window_is_invalid(ctx):
    with pytest.raises(Invalid) as caught:
        clinic_time.window("2027-03-28T10:00:00+02:00", "2027-03-28T10:00:00+02:00", end_field="end")
    assert "end" in caught.value.fields


def test_a_window_longer_than_allowed_is_invalid_but_dst_does_not_count(ctx):
    clinic_time.window("2027-03-01", "2027-03-31", max_days=31)
    with pytest.raises(Invalid):
        clinic_time.window("2027-03-01", "2027-04-01", max_days=31)


def test_missing_field_is_an_invalid_with_its_own_code(ctx):
    error = clinic_time.MissingField("start")
    assert isinstance(error, Invalid) and error.code == "missing_field"
    assert error.fields == {"start": ["This field is required."]}


def test_weeks_start_on_monday_and_span_seven_clinic_days(ctx):
    week = clinic_time.week_of(SPRING)
    assert week.monday == date(2027, 3, 22) and week.days[-1] == SPRING
    assert week.end - week.start == timedelta(days=7, hours=-1)
    assert week.next.monday == date(2027, 3, 29) and week.previous.monday == date(2027, 3, 15)
    assert clinic_time.week_of(date(2027, 3, 22)) == week


def test_a_wall_clock_time_in_the_spring_gap_does_not_exist(ctx):
    assert clinic_time.local_instant(SPRING, time(2, 30)) is None
    assert clinic_time.local_instant(SPRING, time(3, 0)) == datetime(2027, 3, 28, 1, tzinfo=UTC)
    assert clinic_time.local_instant(SPRING, time(1, 30)) == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)


def test_the_repeated_autumn_hour_takes_the_summer_time_occurrence(ctx):
    assert clinic_time.local_instant(AUTUMN, time(2, 30)) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_times_for_people_name_the_zone(ctx):
    summer = datetime(2027, 3, 29, 7, tzinfo=UTC)
    assert clinic_time.format_local(summer) == "Mon 29 Mar 2027, 09:00 CEST (Europe/Berlin)"
    assert clinic_time.format_time(datetime(2027, 1, 4, 8, tzinfo=UTC)) == "09:00"
