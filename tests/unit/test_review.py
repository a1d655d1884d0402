"""The weekly review's figures and the attempt curve, from rows as the database groups them."""

from datetime import date, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from coaching.review import (
    Advice,
    Figures,
    attempt_curve,
    day_bounds,
    late_by,
    limit_problem,
    review_days,
    team_week,
)
from coaching.rules import Rules
from handlers.review_chart import alt_text, day_axis, day_labels, review_png

MON_FRI = frozenset(range(5))
TODAY = date(2026, 11, 30)  # a Monday: last week is Mon 23 - Sun 29 November
DANA, SAM = "U0DANA", "U0SAM"


def test_the_review_looks_at_last_week_and_the_week_before_by_the_managers_midnights() -> None:
    days = review_days(TODAY)
    assert (days[0], days[7], days[13]) == (date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 29))
    # A review on 16 March looks back over 8 March, when New York's clocks went forward: that day
    # is 23 hours long, and every touch still lands on the day it happened there.
    bounds = day_bounds(date(2026, 3, 16), ZoneInfo("America/New_York"))
    assert len(bounds) == 15
    assert sorted({(b - a).total_seconds() / 3600 for a, b in pairwise(bounds)}) == [23, 24]


def scripted_week() -> dict[str, Figures]:
    week = team_week(
        TODAY,
        touches=[
            (DANA, "call", 7, None, 3),
            (DANA, "voicemail", 8, None, 2),
            (DANA, "email", 9, None, 1),
            (DANA, "connected", 10, None, 2),
            (DANA, "meeting", 11, date(2026, 11, 27), 1),  # held on Friday
            (DANA, "meeting", 11, date(2026, 12, 2), 1),  # booked for next Wednesday
            (DANA, "replied", 12, None, 1),
            (DANA, "call", 0, None, 4),  # the week before
            (SAM, "voicemail", 7, None, 5),
        ],
        follow_ups=[
            (DANA, date(2026, 11, 23), 7, 2),  # due Monday, done Monday: on time
            (DANA, date(2026, 11, 20), 7, 1),  # due Friday, done Monday: 1 working day late
            (DANA, date(2026, 11, 21), 7, 1),  # due on a Saturday, done Monday: on time
            (DANA, date(2026, 11, 24), 10, 1),  # due Tuesday, done Thursday: 2 late
        ],
        statuses=[
            (DANA, "won", 9, 1),
            (DANA, "backburner", 10, 2),
            (DANA, "lost", 1, 1),
            (DANA, "open", 9, 1),
        ],
        handoffs=[(SAM, "in", 8, 1), (DANA, "out", 8, 1)],
        workdays_of=lambda _user: MON_FRI,
        people=["U0KENJI"],
    )
    assert week.days[0] == date(2026, 11, 23)
    assert [r.user_id for r in week.reps] == [DANA, SAM, "U0KENJI"]  # the busiest first
    return {
        "dana": week.rep(DANA).week,  # type: ignore[union-attr]
        "dana before": week.rep(DANA).before,  # type: ignore[union-attr]
        "sam": week.rep(SAM).week,  # type: ignore[union-attr]
        "kenji": week.rep("U0KENJI").week,  # type: ignore[union-attr]
        "team": week.week,
    }


def test_a_scripted_week_gives_exact_figures_per_rep_and_for_the_team() -> None:
    figures = scripted_week()
    assert figures["dana"] == Figures(
        calls=6,  # 3 calls, 2 connected, and the call that booked a meeting
        voicemails=2,
        emails=1,
        meetings_held=1,
        replies=1,
        conversations=5,
        meetings_booked=1,
        won=1,
        parked=2,
        handoffs_out=1,
        on_time=3,
        late=2,
        late_days=3,
    )
    assert figures["dana"].touches == 11
    assert figures["dana before"] == Figures(calls=4, lost=1)
    assert figures["sam"] == Figures(voicemails=5, handoffs_in=1)
    assert figures["kenji"].is_empty
    assert figures["team"] == figures["dana"] + figures["sam"]


def test_the_chart_gets_each_days_touches_by_kind() -> None:
    week = team_week(
        TODAY,
        touches=[(DANA, "call", 7, None, 3), (DANA, "voicemail", 7, None, 2), (SAM, "replied", 13, None, 1)],
        workdays_of=lambda _user: MON_FRI,
    )
    assert week.daily[0] == (3, 2, 0, 0, 0)  # calls, voicemails, e-mails, replies, meetings
    assert week.daily[6] == (0, 0, 0, 1, 0)
    assert week.rep(SAM).daily[6] == (0, 0, 0, 1, 0)  # type: ignore[union-attr]


def test_lateness_counts_working_days_after_the_follow_up_day() -> None:
    assert late_by(date(2026, 11, 27), date(2026, 11, 27), MON_FRI) == 0
    assert late_by(date(2026, 11, 27), date(2026, 11, 30), MON_FRI) == 1  # Friday's, done Monday
    assert late_by(date(2026, 11, 28), date(2026, 11, 30), MON_FRI) == 0  # Saturday's, done Monday
    assert late_by(date(2026, 11, 28), date(2026, 12, 1), MON_FRI) == 1
    assert late_by(date(2026, 11, 27), date(2026, 11, 20), MON_FRI) == 0  # done early


# ---- the attempt curve -------------------------------------------------------------------------------


def rows(counts: dict[int, int], *, recent: bool = True) -> list[tuple[int, bool, int]]:
    return [(attempt, recent, count) for attempt, count in counts.items()]


KNEE_AT_7 = {1: 30, 2: 20, 3: 15, 4: 8, 5: 4, 6: 2, 7: 4, 8: 2, 9: 1, 10: 1, 11: 1, 12: 1, 13: 11}


def test_a_curve_that_flattens_after_the_7th_attempt_suggests_a_limit_of_7() -> None:
    curve = attempt_curve(rows(KNEE_AT_7), Rules())
    assert curve.reached == 100 and curve.recent
    assert [round(s, 2) for s in curve.shares[:8]] == [0.3, 0.5, 0.65, 0.73, 0.77, 0.79, 0.83, 0.85]
    assert curve.knee == 7
    assert curve.advice is Advice.SET_LIMIT and curve.suggested == 7
    assert curve.headline == (
        "Your team reaches 83% of the leads it ever reaches by the 7th attempt; the limit is 8."
    )
    assert curve.window == "100 leads first reached in the last 90 days"


def test_a_knee_at_the_current_limit_needs_no_change() -> None:
    curve = attempt_curve(rows(KNEE_AT_7), Rules(attempts_limit=7))
    assert curve.advice is Advice.FITS and curve.suggested is None
    assert curve.reason == "The curve flattens after the 7th attempt: the limit fits."


def test_a_knee_outside_suggest_and_cap_is_explained_not_offered() -> None:
    curve = attempt_curve(rows(KNEE_AT_7), Rules(attempts_suggest=7, attempts_limit=9))
    assert curve.advice is Advice.OUT_OF_RANGE and curve.suggested is None
    assert "above attempts_suggest (7)" in curve.reason


def test_too_few_leads_reached_gives_one_sentence_and_no_advice() -> None:
    curve = attempt_curve(rows({1: 5, 2: 4, 3: 3}), Rules())
    assert curve.advice is Advice.NOT_ENOUGH and curve.suggested is None
    assert curve.reason == (
        "No advice on the limit yet: only 12 leads have been reached so far, "
        "and a curve needs at least 30 to say where to stop."
    )
    assert not attempt_curve([], Rules()).reached


def test_a_quiet_last_quarter_falls_back_to_all_time() -> None:
    curve = attempt_curve(rows({1: 10}) + rows(KNEE_AT_7, recent=False), Rules())
    assert not curve.recent and curve.reached == 110
    assert curve.window == "110 leads first reached so far"


def test_a_curve_still_climbing_has_no_clear_knee() -> None:
    steady = attempt_curve(rows(dict.fromkeys(range(1, 13), 8) | {13: 4}), Rules())
    assert steady.knee is None and steady.advice is Advice.NO_KNEE
    assert "the 12th attempt still adds 8%" in steady.reason
    late = attempt_curve(rows({1: 10, 5: 10, 13: 30}), Rules())
    assert late.advice is Advice.NO_KNEE
    assert "reached only 40%" in late.reason


def test_setting_the_limit_stays_strictly_between_suggest_and_cap() -> None:
    assert limit_problem(Rules(), 7) is None
    assert limit_problem(Rules(), 6) is not None
    assert limit_problem(Rules(), 12) is not None


def test_the_picture_is_a_png_and_its_alt_text_says_the_same_in_words() -> None:
    week = team_week(
        TODAY,
        touches=[(DANA, "call", 7, None, 3), (DANA, "voicemail", 8, None, 2), (SAM, "replied", 13, None, 1)],
        workdays_of=lambda _user: MON_FRI,
    )
    curve = attempt_curve(rows(KNEE_AT_7), Rules())
    names = {DANA: "Dana Reyes", SAM: "Sam Okafor"}
    png = review_png(week, curve, name=names.__getitem__)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # The axis names the week it shows, which starts on the day after the last review, not on a Monday.
    assert day_axis(week.days) == f"touches per day ({week.days[0]:%a} to {week.days[-1]:%a})"
    assert day_labels([date(2026, 11, 17) + timedelta(days=n) for n in range(7)]) == [
        "Tu",
        "We",
        "Th",
        "Fr",
        "Sa",
        "Su",
        "Mo",
    ]
    words = alt_text(week, curve, name=names.__getitem__)
    assert "Dana Reyes: 5 touches (3 calls, 2 voicemails), most on Monday." in words
    assert "Sam Okafor: 1 touch (1 reply), most on Sunday." in words
    assert "83% by the 7th" not in words and "85% by the 8th" in words
    assert "The limit of 8 is marked. It flattens after the 7th attempt." in words
