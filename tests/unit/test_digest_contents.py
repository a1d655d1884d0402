"""What goes in a digest and a review, and when each is due, across time zones and DST changes."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from coaching.digest_contents import (
    DIGEST_CAP,
    SECTION_CAP,
    Days,
    Section,
    digest_due,
    digest_for,
    review_due,
    review_for,
    section_for,
)
from coaching.rules import Flag, Rules, Status

NOW = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # Monday 08:30 in New York
TODAY = date(2026, 11, 23)
RULES = Rules()
WORKDAYS = frozenset(range(5))
NY = ZoneInfo("America/New_York")
DAYS = Days(NY, WORKDAYS)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@dataclass(frozen=True)
class L:
    id: int = 1
    name: str = "Acme"
    status: Status = Status.OPEN
    created_at: datetime = NOW - timedelta(days=30)
    opted_out_at: datetime | None = None
    snoozed_until: date | None = None
    next_follow_up: date | None = TODAY
    meeting_on: date | None = None
    attempts: int = 2
    reached: bool = False
    last_touch_at: datetime | None = NOW - timedelta(days=4)
    last_contact_at: datetime | None = None
    counting_since: datetime | None = None
    meeting_reminded: bool = False
    declined: bool = False


def section(today: date = TODAY, days: Days = DAYS, **facts: object) -> Section | None:
    return section_for(L(**facts), now=NOW, today=today, rules=RULES, days=days)  # type: ignore[arg-type]


# ---- one section per lead, the most useful one ----------------------------------------------------


def test_a_follow_up_due_today_or_overdue_is_listed() -> None:
    assert section() is Section.FOLLOW_UP
    assert section(next_follow_up=TODAY - timedelta(days=3)) is Section.FOLLOW_UP


def test_a_lead_on_schedule_is_not_listed() -> None:
    assert section(next_follow_up=TODAY + timedelta(days=1)) is None


def test_a_meeting_tomorrow_comes_first_even_when_nothing_else_is_due() -> None:
    assert (
        section(meeting_on=TODAY + timedelta(days=1), next_follow_up=TODAY + timedelta(days=2))
        is Section.MEETING
    )


def test_a_monday_meeting_is_reminded_on_friday_for_customers_too_until_the_rep_touches_it() -> None:
    friday, monday = TODAY - timedelta(days=3), TODAY
    assert (
        section(today=friday, meeting_on=monday, next_follow_up=monday + timedelta(days=1)) is Section.MEETING
    )
    assert section(today=friday, meeting_on=monday, status=Status.WON, next_follow_up=None) is Section.MEETING
    assert section(today=friday, meeting_on=monday, meeting_reminded=True, next_follow_up=None) is None
    assert section(today=friday, meeting_on=monday, opted_out_at=ago(5)) is None


def test_nothing_is_due_on_a_day_off() -> None:
    sunday = TODAY - timedelta(days=1)
    assert section(today=sunday, next_follow_up=sunday - timedelta(days=2)) is None
    sun_thu = Days(NY, frozenset({6, 0, 1, 2, 3}))
    assert section(today=sunday, days=sun_thu, next_follow_up=sunday) is Section.FOLLOW_UP


def test_a_no_is_answered_once_and_then_left_alone() -> None:
    said_no = {"reached": True, "declined": True, "last_contact_at": ago(20), "last_touch_at": ago(20)}
    assert section(next_follow_up=None, **said_no) is None


def test_at_the_attempt_limit_the_advice_is_a_decision_not_another_try() -> None:
    assert section(attempts=8) is Section.AT_LIMIT
    assert section(attempts=12, next_follow_up=None) is Section.AT_LIMIT


def test_silence_after_a_conversation_is_a_stall_not_a_chase() -> None:
    stalled = {"reached": True, "last_contact_at": ago(20), "last_touch_at": ago(20)}
    assert section(**stalled) is Section.STALLED


def test_past_the_cycle_and_untouched_for_weeks_are_flags_beside_a_due_follow_up() -> None:
    leads = [L(1, "Old", created_at=ago(100), last_touch_at=ago(30))]
    [(section_, [item], _)] = digest_for("U1", leads, now=NOW, today=TODAY, rules=RULES, days=DAYS).sections
    assert section_ is Section.FOLLOW_UP
    assert item.flags == {Flag.PAST_CYCLE, Flag.SQUATTING}


def test_a_lead_never_touched_says_so_instead_of_inventing_a_touch() -> None:
    [(_, [item], _)] = digest_for(
        "U1", [L(last_touch_at=None, created_at=NOW)], now=NOW, today=TODAY, rules=RULES, days=DAYS
    ).sections
    assert item.touched_days is None


def test_ages_are_calendar_days_where_the_rep_is() -> None:
    friday_evening = datetime(2026, 11, 20, 23, 0, tzinfo=NY)  # 57.5 hours before NOW
    [(_, [item], _)] = digest_for(
        "U1", [L(last_touch_at=friday_evening)], now=NOW, today=TODAY, rules=RULES, days=DAYS
    ).sections
    assert item.touched_days == 3


def test_a_customer_untouched_for_the_lapse_window_is_due_a_hello() -> None:
    assert section(status=Status.WON, next_follow_up=None, last_touch_at=ago(121)) is Section.LAPSED
    assert section(status=Status.WON, next_follow_up=None, last_touch_at=ago(100)) is None


def test_opted_out_parked_lost_and_snoozed_leads_are_never_listed() -> None:
    assert section(opted_out_at=ago(1), attempts=9) is None
    assert section(status=Status.BACKBURNER) is None
    assert section(status=Status.LOST) is None
    assert section(snoozed_until=TODAY + timedelta(days=2)) is None
    assert section(snoozed_until=TODAY) is Section.FOLLOW_UP  # back when the snooze ends


def test_each_lead_appears_once_in_a_fixed_order_most_overdue_first() -> None:
    leads = [
        L(1, "Later", next_follow_up=TODAY - timedelta(days=1)),
        L(2, "Earlier", next_follow_up=TODAY - timedelta(days=5)),
        L(3, "Meeting", meeting_on=TODAY + timedelta(days=1)),
        L(4, "Limit", attempts=8),
    ]
    digest = digest_for("U1", leads, now=NOW, today=TODAY, rules=RULES, days=DAYS)
    assert [(s, [i.name for i in items]) for s, items, _ in digest.sections] == [
        (Section.MEETING, ["Meeting"]),
        (Section.AT_LIMIT, ["Limit"]),
        (Section.FOLLOW_UP, ["Earlier", "Later"]),
    ]
    assert digest.total == 4


def test_long_lists_are_capped_and_counted() -> None:
    leads = [L(i, f"Lead {i:03d}", next_follow_up=TODAY - timedelta(days=i % 7)) for i in range(40)]
    digest = digest_for("U1", leads, now=NOW, today=TODAY, rules=RULES, days=DAYS)
    [(_, items, more)] = digest.sections
    assert len(items) == SECTION_CAP and more == 40 - SECTION_CAP
    assert digest.total == 40 and digest.shown <= DIGEST_CAP


def test_a_rep_with_nothing_to_do_gets_an_empty_digest() -> None:
    assert digest_for(
        "U1", [L(next_follow_up=TODAY + timedelta(days=3))], now=NOW, today=TODAY, rules=RULES, days=DAYS
    ).is_empty


# ---- when ---------------------------------------------------------------------------------------------


TOKYO, LONDON = ZoneInfo("Asia/Tokyo"), ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("utc", "zone", "due"),
    [
        (datetime(2026, 11, 23, 13, 30, tzinfo=UTC), NY, True),  # Monday 08:30 in New York
        (datetime(2026, 11, 23, 13, 25, tzinfo=UTC), NY, False),  # 08:25: not yet
        (datetime(2026, 11, 23, 16, 59, tzinfo=UTC), NY, True),  # 11:59: late, still inside the window
        (datetime(2026, 11, 23, 17, 30, tzinfo=UTC), NY, False),  # 12:30: four hours on, too late
        (datetime(2026, 11, 22, 23, 30, tzinfo=UTC), TOKYO, True),  # Monday 08:30 in Tokyo is Sunday in UTC
        (datetime(2026, 11, 28, 13, 30, tzinfo=UTC), NY, False),  # Saturday
    ],
)
def test_the_digest_is_due_at_the_reps_own_morning_on_working_days(
    utc: datetime, zone: ZoneInfo, due: bool
) -> None:
    assert digest_due(utc.astimezone(zone), at=time(8, 30), workdays=WORKDAYS) is due


def test_the_digest_time_holds_across_a_daylight_saving_change() -> None:
    # New York springs forward on Sunday 8 March 2026: 08:30 is 13:30 UTC before and 12:30 UTC after.
    friday, monday = datetime(2026, 3, 6, 13, 30, tzinfo=UTC), datetime(2026, 3, 9, 12, 30, tzinfo=UTC)
    assert digest_due(friday.astimezone(NY), at=time(8, 30), workdays=WORKDAYS)
    assert digest_due(monday.astimezone(NY), at=time(8, 30), workdays=WORKDAYS)
    assert not digest_due((monday - timedelta(hours=1)).astimezone(NY), at=time(8, 30), workdays=WORKDAYS)
    # London falls back on 25 October 2026.
    assert digest_due(
        datetime(2026, 10, 26, 8, 30, tzinfo=UTC).astimezone(LONDON), at=time(8, 30), workdays=WORKDAYS
    )


def test_a_team_can_work_sunday_to_thursday() -> None:
    sunday = datetime(2026, 11, 22, 5, 30, tzinfo=UTC).astimezone(ZoneInfo("Asia/Jerusalem"))
    assert digest_due(sunday, at=time(7, 0), workdays=frozenset({6, 0, 1, 2, 3}))


def test_any_digest_time_opens_its_own_window() -> None:
    one_pm = datetime(2026, 11, 23, 18, 0, tzinfo=UTC).astimezone(NY)  # Monday 13:00 in New York
    assert digest_due(one_pm, at=time(13, 0), workdays=WORKDAYS)
    assert digest_due(one_pm.replace(minute=59, hour=16), at=time(13, 0), workdays=WORKDAYS)
    assert digest_due(one_pm.replace(hour=11, minute=59), at=time(11, 56), workdays=WORKDAYS)
    assert digest_due(one_pm.replace(hour=12, minute=0), at=time(11, 56), workdays=WORKDAYS)


def test_the_weekly_review_is_due_on_its_day() -> None:
    assert review_due(NOW.astimezone(NY), at=time(8, 30), review_day=0, workdays=WORKDAYS)
    assert not review_due(
        (NOW + timedelta(days=1)).astimezone(NY), at=time(8, 30), review_day=0, workdays=WORKDAYS
    )


def test_a_manager_off_on_the_review_day_gets_it_on_their_next_working_morning() -> None:
    sunday_off = frozenset({1, 2, 3, 4, 5})  # Tuesday to Saturday
    tuesday = (NOW + timedelta(days=1)).astimezone(NY)
    assert not review_due(NOW.astimezone(NY), at=time(8, 30), review_day=0, workdays=sunday_off)
    assert review_due(tuesday, at=time(8, 30), review_day=0, workdays=sunday_off)


# ---- the weekly review -----------------------------------------------------------------------------------


def test_the_review_counts_each_reps_pipeline_and_names_squatting_candidates() -> None:
    leads = [
        ("U1", L(1, "A", next_follow_up=TODAY - timedelta(days=2))),
        ("U1", L(2, "B", attempts=8)),
        ("U1", L(3, "C", created_at=ago(120), last_touch_at=ago(40))),
        ("U2", L(4, "D", next_follow_up=TODAY + timedelta(days=2))),
        ("U2", replace(L(5, "E"), status=Status.WON)),
    ]
    review = review_for(
        leads, departed=frozenset(), now=NOW, today=TODAY, rules=RULES, days_of={}, default_days=DAYS
    )
    first, second = review.reps
    assert (first.owner_id, first.open, first.overdue, first.at_limit, first.stale) == ("U1", 3, 1, 1, 1)
    assert [i.name for i in first.squatting] == ["C"]
    assert (second.owner_id, second.open) == ("U2", 1)


def test_leads_of_people_who_left_are_listed_as_orphans() -> None:
    leads = [("U9", L(i, f"Lead {i}")) for i in range(7)] + [("U1", L(99, "Kept"))]
    review = review_for(
        leads, departed=frozenset({"U9"}), now=NOW, today=TODAY, rules=RULES, days_of={}, default_days=DAYS
    )
    [(departed, items, more)] = review.orphaned
    assert departed == "U9" and len(items) == SECTION_CAP and more == 2
    assert [r.owner_id for r in review.reps] == ["U1"]
