"""The calendar a coach keeps: working days, calendar days in a time zone, the send window."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coaching.calendar import (
    LATEST_SEND_TIME,
    MON_FRI,
    BadDays,
    add_working_days,
    calendar_days_between,
    days_ago,
    follow_up_day,
    in_send_window,
    is_working_day,
    last_working_day_before,
    local_date,
    local_noon,
    next_working_day,
    parse_workdays,
    send_time_problem,
    workdays_text,
    working_days_between,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SUN_THU = frozenset({6, 0, 1, 2, 3})
ZONES = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Europe/London",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Asia/Jerusalem",
]

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
weeks = st.frozensets(st.integers(0, 6), min_size=1)
zones = st.sampled_from(ZONES).map(ZoneInfo)
# Hypothesis takes naive bounds and attaches the zone itself.
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


# ---- reading working days ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("sun-thu", {6, 0, 1, 2, 3}),
        ("mon,wed,fri", {0, 2, 4}),
        ("Mon - Wed, Fri", {0, 1, 2, 4}),
        ("saturday", {5}),
        ("fri-mon", {4, 5, 6, 0}),
    ],
)
def test_working_days_are_read_as_people_write_them(written: str, expected: set[int]) -> None:
    assert parse_workdays(written) == frozenset(expected)


@pytest.mark.parametrize("written", ["", "weekdays", "mon-", "mon-tue-wed", "funday", ","])
def test_unreadable_working_days_say_how_to_write_them(written: str) -> None:
    with pytest.raises(BadDays, match="mon-fri"):
        parse_workdays(written)


@given(weeks)
def test_working_days_read_back_as_written(workdays: frozenset[int]) -> None:
    assert parse_workdays(workdays_text(workdays)) == workdays


def test_working_days_are_written_the_short_way() -> None:
    assert workdays_text(MON_FRI) == "mon-fri"
    assert workdays_text(SUN_THU) == "sun-thu"
    assert workdays_text(frozenset({0, 2, 4})) == "mon,wed,fri"


# ---- working days --------------------------------------------------------------------------------------

FRIDAY = date(2026, 12, 4)
SATURDAY = date(2026, 12, 5)
SUNDAY = date(2026, 12, 6)
MONDAY = date(2026, 12, 7)


def test_a_weekend_is_not_a_working_day_for_a_mon_fri_team_but_sunday_is_for_sun_thu() -> None:
    assert not is_working_day(SATURDAY, MON_FRI)
    assert not is_working_day(SUNDAY, MON_FRI)
    assert is_working_day(SUNDAY, SUN_THU)
    assert not is_working_day(FRIDAY, SUN_THU)


def test_a_follow_up_that_would_fall_on_a_weekend_moves_to_monday() -> None:
    tuesday = date(2026, 12, 1)
    assert follow_up_day(tuesday, 4, MON_FRI) == MONDAY  # Tue + 4 = Sat -> Mon
    assert follow_up_day(tuesday, 4, SUN_THU) == SUNDAY  # Sat is off too, Sunday is not
    assert next_working_day(MONDAY, MON_FRI) == MONDAY


def test_a_monday_meeting_is_reminded_on_friday_and_a_sunday_one_on_thursday() -> None:
    assert last_working_day_before(MONDAY, MON_FRI) == FRIDAY
    assert last_working_day_before(SUNDAY, SUN_THU) == date(2026, 12, 3)
    assert last_working_day_before(date(2026, 12, 8), MON_FRI) == MONDAY


def test_overdue_counts_working_days() -> None:
    assert working_days_between(FRIDAY, MONDAY, MON_FRI) == 1
    assert working_days_between(FRIDAY, MONDAY, SUN_THU) == 2
    assert working_days_between(FRIDAY - timedelta(days=4), FRIDAY, MON_FRI) == 4
    assert working_days_between(MONDAY, MONDAY, MON_FRI) == 0
    assert working_days_between(MONDAY, FRIDAY - timedelta(days=7), MON_FRI) == 0


def test_adding_working_days_skips_days_off() -> None:
    assert add_working_days(FRIDAY, 1, MON_FRI) == MONDAY
    assert add_working_days(FRIDAY, 5, MON_FRI) == FRIDAY + timedelta(days=7)
    assert add_working_days(SATURDAY, 0, MON_FRI) == MONDAY


@given(days, st.integers(0, 60), weeks)
def test_a_follow_up_always_falls_on_a_working_day_and_never_early(
    touched_on: date, spacing: int, workdays: frozenset[int]
) -> None:
    due = follow_up_day(touched_on, spacing, workdays)
    assert is_working_day(due, workdays)
    assert touched_on + timedelta(days=spacing) <= due < touched_on + timedelta(days=spacing + 7)
    assert working_days_between(touched_on + timedelta(days=spacing), due, workdays) <= 1


@given(days, weeks)
def test_the_day_before_is_the_last_working_day_before(day: date, workdays: frozenset[int]) -> None:
    before = last_working_day_before(day, workdays)
    assert before < day
    assert is_working_day(before, workdays)
    assert working_days_between(before, day - timedelta(days=1), workdays) == 0


@given(days, days, weeks)
def test_working_days_between_counts_each_working_day_once(
    start: date, end: date, workdays: frozenset[int]
) -> None:
    span = min((end - start).days, 400)
    end = start + timedelta(days=span)
    counted = sum(is_working_day(start + timedelta(days=n), workdays) for n in range(1, span + 1))
    assert working_days_between(start, end, workdays) == max(0, counted)


@given(days, st.integers(0, 40), weeks)
def test_adding_working_days_agrees_with_counting_them(
    day: date, count: int, workdays: frozenset[int]
) -> None:
    landed = add_working_days(day, count, workdays)
    assert is_working_day(landed, workdays)
    assert working_days_between(next_working_day(day, workdays), landed, workdays) == count


# ---- calendar days in a time zone ------------------------------------------------------------------


def test_a_friday_touch_is_two_days_old_on_sunday_whatever_the_hours() -> None:
    friday_evening = datetime(2026, 11, 27, 23, 0, tzinfo=NY)
    sunday_morning = datetime(2026, 11, 29, 7, 0, tzinfo=NY)
    assert days_ago(friday_evening, now=sunday_morning, tz=NY) == 2  # 32 hours: one period of 24


def test_yesterday_is_yesterday_in_the_reps_zone_not_in_utc() -> None:
    touched = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Monday 21:00 in New York
    now = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # Tuesday 09:00 in New York
    assert days_ago(touched, now=now, tz=NY) == 1
    assert days_ago(touched, now=now, tz=BERLIN) == 0


def test_an_age_is_never_negative() -> None:
    now = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    assert days_ago(now + timedelta(hours=3), now=now, tz=NY) == 0
    assert calendar_days_between(now + timedelta(days=2), now, NY) == -2


@given(instants, instants, zones)
def test_ages_are_never_negative_and_equal_calendar_days(a: datetime, b: datetime, tz: ZoneInfo) -> None:
    earlier, later = min(a, b), max(a, b)
    age = days_ago(earlier, now=later, tz=tz)
    assert age >= 0
    assert age == (later.astimezone(tz).date() - earlier.astimezone(tz).date()).days
    assert days_ago(later, now=earlier, tz=tz) == 0


@given(days, zones)
def test_a_touch_typed_with_only_a_date_keeps_that_date(day: date, tz: ZoneInfo) -> None:
    assert local_date(local_noon(day, tz), tz) == day


@pytest.mark.parametrize(
    ("zone", "monday"),
    [
        (NY, date(2026, 3, 9)),
        (NY, date(2026, 11, 2)),
        (BERLIN, date(2026, 3, 30)),
        (BERLIN, date(2026, 10, 26)),
    ],
)
def test_days_ago_across_a_daylight_saving_week(zone: ZoneInfo, monday: date) -> None:
    # The clocks changed on the Sunday before `monday`: every day of that week is still one day.
    friday_before = datetime.combine(monday - timedelta(days=3), time(17, 30), tzinfo=zone)
    for offset in range(7):
        morning = datetime.combine(monday + timedelta(days=offset), time(8, 30), tzinfo=zone).astimezone(UTC)
        assert days_ago(friday_before, now=morning, tz=zone) == 3 + offset
        assert local_date(local_noon(monday + timedelta(days=offset), zone), zone) == monday + timedelta(
            days=offset
        )


# ---- the send window -----------------------------------------------------------------------------


def test_a_digest_time_after_the_latest_is_refused_with_the_reason() -> None:
    assert send_time_problem(time(13, 0)) is None
    assert send_time_problem(LATEST_SEND_TIME) is None
    problem = send_time_problem(time(21, 0))
    assert problem is not None
    assert "20:00" in problem
    assert "same day" in problem


def test_the_window_follows_the_time_and_skips_days_off() -> None:
    monday = datetime(2026, 11, 30, 13, 0, tzinfo=NY)
    assert in_send_window(monday, at=time(13, 0), workdays=MON_FRI)
    assert in_send_window(monday + timedelta(hours=3, minutes=59), at=time(13, 0), workdays=MON_FRI)
    assert not in_send_window(monday + timedelta(hours=4), at=time(13, 0), workdays=MON_FRI)
    assert not in_send_window(monday - timedelta(minutes=1), at=time(13, 0), workdays=MON_FRI)
    assert not in_send_window(monday - timedelta(days=1), at=time(13, 0), workdays=MON_FRI)
    assert in_send_window(monday - timedelta(days=1), at=time(13, 0), workdays=SUN_THU)


TICK = timedelta(minutes=5)


@given(
    st.integers(0, LATEST_SEND_TIME.hour * 60).map(lambda m: time(m // 60, m % 60)),
    zones,
    weeks,
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
)
def test_a_five_minute_tick_finds_the_window_on_every_working_day(
    at: time, tz: ZoneInfo, workdays: frozenset[int], day: date
) -> None:
    # The clock ticks on UTC multiples of five minutes; every zone's offset is a multiple of 15.
    start = datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)
    start -= timedelta(minutes=start.minute % 5, seconds=start.second)
    hits = set()
    tick = start
    while tick < start + timedelta(days=1, hours=1):
        local = tick.astimezone(tz)
        if local.date() == day and in_send_window(local, at=at, workdays=workdays):
            hits.add(local.date())
        tick += TICK
    assert hits == ({day} if is_working_day(day, workdays) else set())
