"""The coaching rules: cadence, attempt limits, stalls, flags. Time is always passed in."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coaching.calendar import MON_FRI, local_date, local_noon, working_days_between
from coaching.rules import (
    Due,
    Flag,
    GroundRule,
    Outcome,
    Rules,
    Stage,
    Status,
    TouchFact,
    counts,
    due,
    flags,
    ground_rule,
    is_untouched,
    last_weekday,
    next_weekday,
    overdue_days,
    progress,
    stage,
    with_overrides,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday, 10:00 in New York
NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
RULES = Rules()
TODAY = local_date(NOW, NY)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def touch(days: float, outcome: Outcome, meeting_on: date | None = None) -> TouchFact:
    return TouchFact(days_ago(days), outcome, meeting_on)


def summarise(*touches: TouchFact, since_days: float | None = None, baseline: int = 0, rules: Rules = RULES):
    since = None if since_days is None else days_ago(since_days)
    return progress(
        touches, counting_since=since, baseline_attempts=baseline, tz=NY, rules=rules, today=TODAY
    )


# ---- cadence ------------------------------------------------------------------------------------


def test_a_new_lead_with_no_touches_is_due_today() -> None:
    summary = progress([], counting_since=None, baseline_attempts=0, tz=NY, rules=RULES, today=TODAY)
    assert summary.next_follow_up == TODAY
    assert summary.attempts == 0


def test_a_reopened_lead_is_due_today_whatever_its_old_touches_said() -> None:
    summary = summarise(touch(40, Outcome.NOT_INTERESTED), since_days=0)
    assert summary.next_follow_up == TODAY
    assert summary.ever_reached and not summary.reached


def test_touches_from_before_the_lead_was_added_count() -> None:
    # Counting covers the lead's whole life: a conversation back-dated to last week is contact.
    summary = summarise(touch(5, Outcome.CONNECTED))
    assert summary.reached


def test_an_unanswered_attempt_is_followed_up_four_days_later() -> None:
    summary = summarise(touch(0, Outcome.VOICEMAIL))
    assert summary.next_follow_up == TODAY + timedelta(days=4)
    assert summary.attempts == 1
    assert not summary.reached


def test_follow_up_spacing_is_a_workspace_setting() -> None:
    summary = summarise(touch(0, Outcome.NO_ANSWER), rules=Rules(follow_up_days=2))
    assert summary.next_follow_up == TODAY + timedelta(days=2)


def test_a_conversation_is_followed_up_before_the_silence_would_count_as_a_stall() -> None:
    summary = summarise(touch(0, Outcome.CONNECTED))
    assert summary.reached
    assert summary.next_follow_up == TODAY + timedelta(days=RULES.stall_days // 2)
    assert summary.next_follow_up - TODAY < timedelta(days=RULES.stall_days)


def test_a_booked_meeting_is_followed_up_the_day_after_it() -> None:
    meeting = TODAY + timedelta(days=9)
    summary = summarise(touch(0, Outcome.MEETING, meeting_on=meeting))
    assert summary.meeting_on == meeting
    assert summary.next_follow_up == meeting + timedelta(days=1)


def test_not_interested_and_opt_out_leave_nothing_scheduled() -> None:
    assert summarise(touch(0, Outcome.NOT_INTERESTED)).next_follow_up is None
    assert summarise(touch(1, Outcome.VOICEMAIL), touch(0, Outcome.OPT_OUT)).next_follow_up is None


def test_a_back_dated_touch_never_schedules_a_follow_up_in_the_past() -> None:
    summary = summarise(touch(20, Outcome.VOICEMAIL))
    assert summary.next_follow_up == TODAY  # 16 days "overdue" is simply due now


def test_no_follow_up_is_scheduled_past_the_hard_cap() -> None:
    touches = [touch(40 - 3 * i, Outcome.NO_ANSWER) for i in range(RULES.attempts_cap)]
    summary = summarise(*touches)
    assert summary.attempts == RULES.attempts_cap
    assert summary.next_follow_up is None


def test_the_follow_up_date_is_the_owners_local_date() -> None:
    # 20:00 UTC on Monday is already Tuesday in Tokyo.
    late = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    summary = progress(
        [TouchFact(late, Outcome.VOICEMAIL)],
        counting_since=late - timedelta(days=1),
        baseline_attempts=0,
        tz=TOKYO,
        rules=RULES,
        today=date(2026, 11, 24),
    )
    assert summary.next_follow_up == date(2026, 11, 30)  # Tuesday + 4 is Saturday: the next working day


def test_a_follow_up_that_would_fall_on_a_day_off_moves_to_the_reps_next_working_day() -> None:
    tuesday = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    facts = [TouchFact(tuesday, Outcome.VOICEMAIL)]

    def next_for(workdays: frozenset[int]) -> date | None:
        return progress(
            facts,
            counting_since=None,
            baseline_attempts=0,
            tz=NY,
            rules=RULES,
            today=date(2026, 12, 1),
            workdays=workdays,
        ).next_follow_up

    assert next_for(MON_FRI) == date(2026, 12, 7)  # not Saturday 5 December
    assert next_for(frozenset({6, 0, 1, 2, 3})) == date(2026, 12, 6)  # a Sunday-Thursday office


def test_the_meeting_reminder_is_done_once_the_lead_is_touched_on_or_after_its_day() -> None:
    monday_meeting = date(2026, 11, 30)
    booked = TouchFact(datetime(2026, 11, 24, 15, 0, tzinfo=UTC), Outcome.CONNECTED, monday_meeting)
    friday_email = TouchFact(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), Outcome.EMAIL)
    wednesday_call = TouchFact(datetime(2026, 11, 25, 15, 0, tzinfo=UTC), Outcome.CALL)

    def reminded(*facts: TouchFact) -> bool:
        summary = progress(
            facts, counting_since=None, baseline_attempts=0, tz=NY, rules=RULES, today=date(2026, 11, 27)
        )
        return summary.meeting_reminded

    assert not reminded(booked)
    assert not reminded(booked, wednesday_call)  # before Friday, the reminder day
    assert reminded(booked, friday_email)


def test_not_interested_is_remembered_until_the_next_touch() -> None:
    assert summarise(touch(2, Outcome.NOT_INTERESTED)).declined
    assert not summarise(touch(2, Outcome.NOT_INTERESTED), touch(0, Outcome.CONNECTED)).declined


# ---- attempts ------------------------------------------------------------------------------------


def test_attempts_count_only_tries_since_the_last_conversation() -> None:
    summary = summarise(
        touch(30, Outcome.VOICEMAIL),
        touch(25, Outcome.CONNECTED),
        touch(10, Outcome.NO_ANSWER),
        touch(5, Outcome.EMAIL),
    )
    assert summary.attempts == 2
    assert summary.reached
    assert summary.ever_reached


def test_handing_to_a_new_contact_starts_the_count_afresh() -> None:
    summary = summarise(touch(30, Outcome.CONNECTED), touch(3, Outcome.VOICEMAIL), since_days=5)
    assert not summary.reached  # the new contact hasn't answered yet
    assert summary.ever_reached  # but the company has: it's a lead, not a prospect
    assert summary.attempts == 1


def test_imported_attempts_count_until_someone_answers() -> None:
    assert summarise(touch(1, Outcome.VOICEMAIL), baseline=5).attempts == 6
    assert summarise(touch(2, Outcome.VOICEMAIL), touch(1, Outcome.REPLIED), baseline=5).attempts == 0


def test_back_dated_touches_are_counted_in_the_order_they_happened() -> None:
    # Logged out of order: the connected call happened after the voicemail.
    summary = summarise(touch(1, Outcome.CONNECTED), touch(3, Outcome.VOICEMAIL))
    assert summary.reached
    assert summary.attempts == 0
    assert summary.last_touch_at == days_ago(1)


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        (0, Stage.TRYING),
        (5, Stage.TRYING),
        (6, Stage.SUGGEST),
        (7, Stage.SUGGEST),
        (8, Stage.INSIST),
        (11, Stage.INSIST),
        (12, Stage.CAP),
    ],
)
def test_the_attempt_limit_suggests_at_six_insists_at_eight_and_stops_at_twelve(
    attempts: int, expected: Stage
) -> None:
    assert stage(attempts, reached=False, rules=RULES) is expected


def test_once_reached_attempts_are_no_longer_the_measure() -> None:
    assert stage(20, reached=True, rules=RULES) is Stage.REACHED


def test_rules_that_contradict_each_other_are_reported() -> None:
    assert Rules(attempts_suggest=9, attempts_limit=8).problems() == [
        "attempts_suggest, attempts_limit and attempts_cap must rise in that order (now 9, 8, 12)"
    ]
    assert "stall_days must be at least 1" in Rules(stall_days=0).problems()
    assert Rules().problems() == []


def test_overrides_replace_only_known_rules() -> None:
    rules = with_overrides(RULES, {"stall_days": 21, "nonsense": 3})
    assert rules.stall_days == 21
    assert rules.follow_up_days == RULES.follow_up_days


# ---- dates ----------------------------------------------------------------------------------------


def test_due_dates_sort_into_overdue_today_and_upcoming() -> None:
    assert due(TODAY - timedelta(days=1), TODAY) is Due.OVERDUE
    assert due(TODAY, TODAY) is Due.TODAY
    assert due(TODAY + timedelta(days=1), TODAY) is Due.UPCOMING
    assert due(None, TODAY) is Due.UNSCHEDULED


def test_nothing_is_due_today_on_a_day_off_and_overdue_counts_working_days() -> None:
    sunday, friday = date(2026, 11, 29), date(2026, 11, 27)
    assert due(sunday, sunday, MON_FRI) is Due.UPCOMING
    assert due(sunday, sunday, frozenset({6, 0, 1, 2, 3})) is Due.TODAY
    monday = date(2026, 11, 30)
    assert overdue_days(friday, monday, MON_FRI) == 1  # Friday's follow-up, seen on Monday
    assert overdue_days(friday, sunday, MON_FRI) == 1
    assert overdue_days(friday - timedelta(days=1), monday, MON_FRI) == 2
    assert overdue_days(monday, monday, MON_FRI) == 0


def test_every_count_comes_from_one_definition_and_adds_up() -> None:
    leads = [
        Facts(next_follow_up=TODAY - timedelta(days=3)),
        Facts(next_follow_up=TODAY),
        Facts(next_follow_up=TODAY + timedelta(days=2)),
        Facts(next_follow_up=None, attempts=12),  # at the cap
        Facts(next_follow_up=None, reached=True, declined=True),
        Facts(next_follow_up=None, opted_out_at=days_ago(1), attempts=9),
        Facts(status=Status.BACKBURNER, next_follow_up=None),
    ]
    tally = counts(leads, today=TODAY, workdays=MON_FRI, rules=RULES)  # type: ignore[arg-type]
    assert (tally.open, tally.overdue, tally.due_today, tally.upcoming, tally.to_decide) == (6, 1, 1, 1, 3)
    assert tally.overdue + tally.due_today + tally.upcoming + tally.to_decide == tally.open
    assert tally.at_limit == 1  # not the opted-out one


def test_a_weekday_name_means_the_last_one_and_next_means_the_coming_one() -> None:
    monday = date(2026, 11, 23)
    assert last_weekday(monday, 0) == monday
    assert last_weekday(monday, 4) == date(2026, 11, 20)  # last Friday
    assert next_weekday(monday, 0) == date(2026, 11, 30)
    assert next_weekday(monday, 1) == date(2026, 11, 24)


def test_a_back_dated_touch_is_filed_at_local_noon_so_no_time_zone_moves_its_day() -> None:
    for zone in (NY, TOKYO, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")):
        assert local_date(local_noon(date(2026, 3, 8), zone), zone) == date(2026, 3, 8)


def test_local_noon_holds_across_a_daylight_saving_change() -> None:
    # 8 March 2026: New York springs forward at 02:00.
    assert local_noon(date(2026, 3, 8), NY) == datetime(2026, 3, 8, 16, 0, tzinfo=UTC)
    assert local_noon(date(2026, 3, 7), NY) == datetime(2026, 3, 7, 17, 0, tzinfo=UTC)


# ---- flags ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    status: Status = Status.OPEN
    reached: bool = False
    attempts: int = 1
    created_at: datetime = NOW - timedelta(days=10)
    last_touch_at: datetime | None = NOW - timedelta(days=1)
    last_contact_at: datetime | None = None
    counting_since: datetime | None = None
    meeting_on: date | None = None
    opted_out_at: datetime | None = None
    meeting_reminded: bool = False
    declined: bool = False
    next_follow_up: date | None = None


def flagged(today: date = TODAY, **facts: object) -> frozenset[Flag]:
    return flags(Facts(**facts), now=NOW, today=today, rules=RULES, tz=NY, workdays=MON_FRI)  # type: ignore[arg-type]


def test_a_healthy_lead_has_no_flags() -> None:
    assert flagged() == frozenset()


def test_contact_then_two_weeks_of_silence_is_a_stall() -> None:
    assert Flag.STALLED in flagged(reached=True, last_contact_at=days_ago(15), last_touch_at=days_ago(15))
    assert Flag.STALLED not in flagged(reached=True, last_contact_at=days_ago(13), last_touch_at=days_ago(13))


def test_a_lead_older_than_the_sales_cycle_is_flagged() -> None:
    assert Flag.PAST_CYCLE in flagged(created_at=days_ago(91))
    assert Flag.PAST_CYCLE not in flagged(created_at=days_ago(89))


def test_a_meeting_is_reminded_on_the_last_working_day_before_it() -> None:
    assert Flag.MEETING_REMINDER in flagged(meeting_on=TODAY + timedelta(days=1))
    assert Flag.MEETING_REMINDER not in flagged(meeting_on=TODAY + timedelta(days=2))
    friday = TODAY - timedelta(days=3)
    assert Flag.MEETING_REMINDER in flagged(today=friday, meeting_on=TODAY)  # Monday's, on Friday
    assert Flag.MEETING_REMINDER not in flagged(today=friday, meeting_on=TODAY, meeting_reminded=True)
    assert Flag.MEETING_REMINDER in flagged(status=Status.WON, meeting_on=TODAY + timedelta(days=1))


def test_a_no_is_an_answer_not_a_stall() -> None:
    said_no = flagged(reached=True, declined=True, last_contact_at=days_ago(30), last_touch_at=days_ago(30))
    assert Flag.DECLINED in said_no and Flag.STALLED not in said_no


def test_an_untouched_owned_lead_is_a_squatting_candidate_after_three_weeks() -> None:
    assert Flag.SQUATTING in flagged(last_touch_at=days_ago(22))
    assert Flag.SQUATTING not in flagged(last_touch_at=days_ago(20))


def test_the_attempt_limit_is_flagged_only_while_nobody_has_answered() -> None:
    assert Flag.AT_LIMIT in flagged(attempts=8)
    assert Flag.AT_LIMIT not in flagged(attempts=8, reached=True, last_contact_at=days_ago(1))


def test_a_won_customer_untouched_for_the_lapse_window_is_due_re_engagement() -> None:
    assert flagged(status=Status.WON, last_touch_at=days_ago(121)) == {Flag.LAPSED}
    assert flagged(status=Status.WON, last_touch_at=days_ago(100)) == frozenset()


def test_an_opted_out_lead_is_never_flagged_for_action() -> None:
    assert flagged(opted_out_at=days_ago(1), attempts=9, created_at=days_ago(200)) == {Flag.OPTED_OUT}


# ---- hand-offs --------------------------------------------------------------------------------------


def rule(requested_by: str = "U1", to_user: str = "U2", **facts: object) -> GroundRule:
    return ground_rule(
        Facts(**facts),  # type: ignore[arg-type]
        owner="U1",
        requested_by=requested_by,
        to_user=to_user,
        now=NOW,
        rules=RULES,
        tz=NY,
    )


def test_a_reached_lead_stuck_past_the_sales_cycle_asks_the_manager_to_step_in() -> None:
    stuck = rule(
        created_at=days_ago(120), last_contact_at=days_ago(60), reached=True, last_touch_at=days_ago(30)
    )
    assert stuck is GroundRule.STEP_IN


def test_nobody_reached_after_the_attempt_limit_means_hand_it_on() -> None:
    assert rule(attempts=8) is GroundRule.NOT_REACHED
    assert rule(attempts=7) is GroundRule.PASSING_ON


def test_asking_for_someone_elses_lead_for_yourself_is_a_connection() -> None:
    assert rule(requested_by="U3", to_user="U3") is GroundRule.CONNECTION


def test_an_untouched_lead_is_squatting_and_a_third_party_request_is_a_judgement_call() -> None:
    assert rule(requested_by="U3", to_user="U2", last_touch_at=days_ago(30)) is GroundRule.SQUATTING
    assert rule(requested_by="U3", to_user="U2") is GroundRule.JUDGEMENT


def test_working_days_skip_the_weekend() -> None:
    friday, monday, tuesday = date(2026, 12, 18), date(2026, 12, 21), date(2026, 12, 22)
    workdays = frozenset(range(5))
    assert working_days_between(friday, monday, workdays) == 1
    assert working_days_between(friday, tuesday, workdays) == 2
    assert working_days_between(tuesday, friday, workdays) == 0
    assert working_days_between(friday, monday, frozenset({5, 6})) == 2  # a weekend-working team


def test_a_lead_handed_over_is_untouched_only_since_its_new_owner_got_it() -> None:
    handed = Facts(
        created_at=NOW - timedelta(days=60), last_touch_at=None, counting_since=NOW - timedelta(hours=1)
    )
    assert is_untouched(handed, now=NOW, rules=Rules(), tz=NY) is False
    assert is_untouched(replace(handed, counting_since=None), now=NOW, rules=Rules(), tz=NY) is True
