"""What a manager's weekly review says about last week and the team's attempt curve. Pure: plain rows in.

The database hands over counts already grouped (per rep, kind and day); this module turns them into
the week's figures, the change from the week before and the attempt curve, with the advice on the
attempt limit that the curve supports, or the reason it supports none.

**The week.** The review's week is the seven calendar days before the day the review is sent, in
the manager's time zone (a Monday review covers Monday to Sunday); "the week before" is the seven
days before that. Touches are placed on those days by the manager's clock.

**The figures, per rep** (the person who logged the touch; the lead's owner for wins, losses and
parking; the old and the new owner for hand-offs):
- touches by kind: calls (including connected, no-answer, not-interested and opt-out calls, and a
  meeting *booked* for a later day, which is agreed in a conversation), voicemails, e-mails,
  meetings held (a meeting logged on the day it happened) and replies;
- conversations: touches with two-way contact (connected, replied, a meeting, not interested, opt-out);
- meetings booked: a meeting logged for a later day;
- won, lost and parked (back-burnered) leads; hand-offs in and out (approved transfers);
- follow-ups done on time or late: a touch logged on a lead that had a follow-up scheduled does that
  follow-up. It is *on time* when it comes on or before the scheduled day, or on the rep's first
  working day after a scheduled day off; otherwise it is *late* by the working days after the
  scheduled day up to and including the day it was done (the rep's working days).

**The attempt curve.** For each lead ever reached (its first two-way touch), the attempt at which
contact was first made: the tries before that first contact (calls, voicemails, no-answers, e-mails,
plus the tries an import carried over) plus one. The curve is the cumulative share of those leads
reached by attempt 1, 2 … 12, over the leads first reached in the last 90 days, or over all time
when fewer than `ENOUGH_REACHED` were reached in those 90 days. A lead first reached after its 12th
attempt counts in the whole but under no attempt, so the curve may end below 100%.

- *Enough data*: at least `ENOUGH_REACHED` (30) leads reached in the window used.
- *A clear knee* at attempt N: N is the first attempt by which the team has reached at least
  `KNEE_SHARE` (80%) of the leads it reaches, and every attempt from N+1 to the 12th adds less than
  `FLAT_GAIN` (3 points) of them, with at least `FLAT_RUN` (2) such flat attempts after N.
- Advice ("Set the limit to N") only when there is enough data, a clear knee, N differs from the
  current limit, and attempts_suggest < N < attempts_cap; otherwise one sentence says why not.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from coaching.calendar import next_working_day, working_days_between
from coaching.rules import TWO_WAY, Outcome, Rules

WEEK = 7
DAYS = 2 * WEEK  # the week before, then last week: the SQL buckets touches into these days


class TouchKind(StrEnum):
    """How the chart stacks a day's touches, bottom to top."""

    CALL = "call"
    VOICEMAIL = "voicemail"
    EMAIL = "email"
    REPLY = "reply"
    MEETING = "meeting"


KINDS = tuple(TouchKind)
KIND_LABEL = {
    TouchKind.CALL: "calls",
    TouchKind.VOICEMAIL: "voicemails",
    TouchKind.EMAIL: "e-mails",
    TouchKind.REPLY: "replies",
    TouchKind.MEETING: "meetings held",
}
KIND_ONE = {
    TouchKind.CALL: "call",
    TouchKind.VOICEMAIL: "voicemail",
    TouchKind.EMAIL: "e-mail",
    TouchKind.REPLY: "reply",
    TouchKind.MEETING: "meeting held",
}


def count_of(n: int, kind: TouchKind) -> str:
    """ "1 reply", "3 replies"."""
    return f"{n} {KIND_ONE[kind] if n == 1 else KIND_LABEL[kind]}"


def touch_kind(outcome: str, meeting_on: date | None, day: date) -> TouchKind:
    """The kind a touch counts as; a meeting logged for a later day was booked, usually on a call."""
    if outcome == Outcome.MEETING:
        return TouchKind.MEETING if meeting_on is None or meeting_on <= day else TouchKind.CALL
    return {
        Outcome.VOICEMAIL.value: TouchKind.VOICEMAIL,
        Outcome.EMAIL.value: TouchKind.EMAIL,
        Outcome.REPLIED.value: TouchKind.REPLY,
    }.get(outcome, TouchKind.CALL)


# ---- the week -------------------------------------------------------------------------------------


def review_days(today: date) -> tuple[date, ...]:
    """The 14 days the review looks at: the week before (0-6), then last week (7-13)."""
    first = today - timedelta(days=DAYS)
    return tuple(first + timedelta(days=i) for i in range(DAYS))


def day_bounds(today: date, tz: ZoneInfo) -> tuple[datetime, ...]:
    """The 15 midnights (as aware instants) around those 14 days in the manager's time zone; exact
    across a daylight-saving change, which is why the SQL gets them rather than a day length."""
    first = today - timedelta(days=DAYS)
    return tuple(
        datetime.combine(first + timedelta(days=i), time(0), tzinfo=tz).astimezone(UTC)
        for i in range(DAYS + 1)
    )


_TICK = timedelta(microseconds=1)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in `tz`, in UTC: an instant falls on that day or later there
    exactly when it is not before this one, so "more than N calendar days ago" becomes a comparison
    the database can make. A midnight skipped by a clock change starts the day when the clocks jump."""
    guess = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    if guess.astimezone(tz).date() >= day > (guess - _TICK).astimezone(tz).date():
        return guess
    low, high = guess - timedelta(days=1), guess + timedelta(days=1)  # the day before; the day or later
    while high - low > _TICK:
        middle = low + (high - low) / 2
        if middle.astimezone(tz).date() >= day:
            high = middle
        else:
            low = middle
    return high


@dataclass(frozen=True)
class Figures:
    """One rep's (or the team's) week. Field order is the order the review shows them in."""

    calls: int = 0
    voicemails: int = 0
    emails: int = 0
    meetings_held: int = 0
    replies: int = 0
    conversations: int = 0
    meetings_booked: int = 0
    won: int = 0
    lost: int = 0
    parked: int = 0
    handoffs_in: int = 0
    handoffs_out: int = 0
    on_time: int = 0
    late: int = 0
    late_days: int = 0  # working days late, summed over the late follow-ups

    @property
    def touches(self) -> int:
        return self.calls + self.voicemails + self.emails + self.meetings_held + self.replies

    def by_kind(self, kind: TouchKind) -> int:
        return getattr(self, KIND_FIELD[kind])  # type: ignore[no-any-return]

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Figures)))

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(Figures))


FIGURE_NAMES = tuple(f.name for f in fields(Figures))
_AT = {name: i for i, name in enumerate(FIGURE_NAMES)}  # each figure's place in `Figures` order
KIND_FIELD = {
    TouchKind.CALL: "calls",
    TouchKind.VOICEMAIL: "voicemails",
    TouchKind.EMAIL: "emails",
    TouchKind.REPLY: "replies",
    TouchKind.MEETING: "meetings_held",
}

Daily = tuple[tuple[int, ...], ...]  # per day of last week, touches per kind in KINDS order


@dataclass(frozen=True)
class RepWeek:
    user_id: str
    week: Figures
    before: Figures  # the week before, for the change
    daily: Daily


@dataclass(frozen=True)
class TeamWeek:
    days: tuple[date, ...]  # last week's seven days
    reps: tuple[RepWeek, ...]  # most touches first
    week: Figures
    before: Figures
    daily: Daily

    def rep(self, user_id: str) -> RepWeek | None:
        return next((r for r in self.reps if r.user_id == user_id), None)


# The rows the SQL returns (plain tuples, so this module needs no database to test):
TouchRow = tuple[str, str, int, date | None, int]  # rep, outcome, day index, meeting_on, count
FollowUpRow = tuple[str, date, int, int]  # rep, the follow-up's day, day index it was done, count
StatusRow = tuple[str, str, int, int]  # lead owner, new status, day index (only its week counts), count
HandoffRow = tuple[str, str, int, int]  # rep, "in" | "out", day index (only its week counts), count

_STATUS_FIELD = {"won": "won", "lost": "lost", "backburner": "parked"}


def late_by(due: date, done: date, workdays: frozenset[int]) -> int:
    """Working days a follow-up was late: 0 when done by its day, or by the first working day after
    a day it was due that was a day off."""
    return working_days_between(next_working_day(due, workdays), done, workdays)


def team_week(
    today: date,
    *,
    touches: Iterable[TouchRow],
    follow_ups: Iterable[FollowUpRow] = (),
    statuses: Iterable[StatusRow] = (),
    handoffs: Iterable[HandoffRow] = (),
    workdays_of: Callable[[str], frozenset[int]],
    people: Iterable[str] = (),
) -> TeamWeek:
    """Last week and the week before, per rep and for the team; `people` are listed even when idle."""
    days = review_days(today)
    # Each rep's week is a list of numbers in `Figures` order: a team of ten thousand tallies a
    # million rows, and a list costs a fraction of a Counter to make and to add to.
    counts: dict[tuple[str, int], list[int]] = {}
    daily: dict[str, list[int]] = {}
    team_daily = [[0] * len(KINDS) for _ in range(WEEK)]
    width = len(FIGURE_NAMES)

    # A fortnight of a big team's touches is tens of thousands of rows of a few dozen kinds: what a
    # row counts as is worked out once per kind of row, not once per row.
    counted_as: dict[tuple[str, int, date | None], tuple[int, int, bool, bool]] = {}
    for user, outcome, index, meeting_on, count in touches:
        found = counted_as.get((outcome, index, meeting_on))
        if found is None:
            day = days[index]
            kind = touch_kind(outcome, meeting_on, day)
            booked = outcome == Outcome.MEETING and meeting_on is not None and meeting_on > day
            found = counted_as[(outcome, index, meeting_on)] = (
                _AT[KIND_FIELD[kind]],
                KINDS.index(kind),
                outcome in TWO_WAY,
                booked,
            )
        at, kind_index, two_way, booked = found
        # inlined, here and below, rather than a function called a million times for a big team;
        # not setdefault, which would build a list per row, used or not
        figures = counts.get((user, index // WEEK))
        if figures is None:
            figures = counts[(user, index // WEEK)] = [0] * width
        figures[at] += count
        if two_way:
            figures[_AT["conversations"]] += count
        if booked:
            figures[_AT["meetings_booked"]] += count
        if index >= WEEK:
            per_day = daily.get(user)
            if per_day is None:
                per_day = daily[user] = [0] * (WEEK * len(KINDS))  # day by day, kinds in KINDS order
            per_day[(index - WEEK) * len(KINDS) + kind_index] += count
            team_daily[index - WEEK][kind_index] += count
    lateness: dict[tuple[date, int, frozenset[int]], int] = {}
    for user, due, index, count in follow_ups:
        workdays = workdays_of(user)
        late = lateness.get((due, index, workdays))
        if late is None:
            late = lateness[(due, index, workdays)] = late_by(due, days[index], workdays)
        figures = counts.get((user, index // WEEK))
        if figures is None:
            figures = counts[(user, index // WEEK)] = [0] * width
        figures[_AT["late"] if late else _AT["on_time"]] += count
        figures[_AT["late_days"]] += late * count
    moves = [
        (user, _AT[_STATUS_FIELD[status]], index, count)
        for user, status, index, count in statuses
        if status in _STATUS_FIELD
    ]
    moves += [
        (user, _AT["handoffs_in" if direction == "in" else "handoffs_out"], index, count)
        for user, direction, index, count in handoffs
    ]
    for user, at, index, count in moves:
        figures = counts.get((user, index // WEEK))
        if figures is None:
            figures = counts[(user, index // WEEK)] = [0] * width
        figures[at] += count

    everyone = {user for user, _ in counts} | set(people)
    empty = tuple((0,) * len(KINDS) for _ in range(WEEK))
    idle = Figures()
    reps = [
        RepWeek(
            user,
            Figures(*counts[(user, 1)]) if (user, 1) in counts else idle,
            Figures(*counts[(user, 0)]) if (user, 0) in counts else idle,
            _by_day(daily[user]) if user in daily else empty,
        )
        for user in everyone
    ]
    reps.sort(key=lambda r: (-r.week.touches, -r.week.conversations, r.user_id))
    # The team's figures are its reps' numbers added up (adding ten thousand Figures would build ten
    # thousand intermediate ones).
    team = [[0] * width, [0] * width]
    for (_, week), tallied in counts.items():
        team[week] = [a + b for a, b in zip(team[week], tallied, strict=True)]
    return TeamWeek(
        days[WEEK:],
        tuple(reps),
        Figures(*team[1]),
        Figures(*team[0]),
        tuple(tuple(day) for day in team_daily),
    )


def _by_day(flat: list[int]) -> Daily:
    width = len(KINDS)
    return tuple(tuple(flat[d * width : (d + 1) * width]) for d in range(WEEK))


# ---- the attempt curve ------------------------------------------------------------------------------

CURVE_ATTEMPTS = 12
RECENT_DAYS = 90
ENOUGH_REACHED = 30
KNEE_SHARE = 0.80
FLAT_GAIN = 0.03
FLAT_RUN = 2


class Advice(StrEnum):
    NONE_REACHED = "none_reached"
    NOT_ENOUGH = "not_enough"
    NO_KNEE = "no_knee"
    FITS = "fits"  # the knee is the current limit
    OUT_OF_RANGE = "out_of_range"  # the knee is not between attempts_suggest and attempts_cap
    SET_LIMIT = "set_limit"


CurveRow = tuple[int, bool, int]  # attempt of first contact (13: after the 12th), recent?, leads


@dataclass(frozen=True)
class AttemptCurve:
    reached: int  # leads in the window the curve is drawn over
    recent: bool  # the last RECENT_DAYS days (False: all time)
    shares: tuple[float, ...]  # cumulative share reached by attempt 1..CURVE_ATTEMPTS
    limit: int
    knee: int | None
    advice: Advice
    reason: str  # the plain sentence under the curve

    @property
    def suggested(self) -> int | None:
        """The limit the "Set the limit to N" button offers, when the curve supports one."""
        return self.knee if self.advice is Advice.SET_LIMIT else None

    def share_by(self, attempt: int) -> float:
        return self.shares[min(attempt, CURVE_ATTEMPTS) - 1] if self.shares else 0.0

    @property
    def headline(self) -> str:
        """ "Your team reaches 83% of the leads it ever reaches by the 6th attempt; the limit is 8." """
        if not self.reached:
            return f"No lead has been reached yet, so there is no attempt curve; the limit is {self.limit}."
        at = self.knee or min(self.limit, CURVE_ATTEMPTS)
        return (
            f"Your team reaches {percent(self.share_by(at))} of the leads it ever reaches by the "
            f"{ordinal(at)} attempt; the limit is {self.limit}."
        )

    @property
    def window(self) -> str:
        span = f"in the last {RECENT_DAYS} days" if self.recent else "so far"
        return f"{self.reached} lead{'' if self.reached == 1 else 's'} first reached {span}"


def percent(share: float) -> str:
    return f"{round(share * 100)}%"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _shares(counts: Mapping[int, int]) -> tuple[float, ...]:
    total = sum(counts.values())
    if not total:
        return ()
    running, shares = 0, []
    for attempt in range(1, CURVE_ATTEMPTS + 1):
        running += counts.get(attempt, 0)
        shares.append(running / total)
    return tuple(shares)


def gains_of(shares: tuple[float, ...]) -> list[float]:
    """What each attempt adds: the share first reached at attempt 1, 2 …"""
    return [shares[0], *(b - a for a, b in pairwise(shares))] if shares else []


def knee_of(shares: tuple[float, ...]) -> int | None:
    """The first attempt with KNEE_SHARE reached after which every attempt adds under FLAT_GAIN."""
    if not shares:
        return None
    gains = gains_of(shares)
    for n in range(1, CURVE_ATTEMPTS - FLAT_RUN + 1):
        if shares[n - 1] >= KNEE_SHARE and all(gain < FLAT_GAIN for gain in gains[n:]):
            return n
    return None


def attempt_curve(rows: Iterable[CurveRow], rules: Rules) -> AttemptCurve:
    recent: Counter[int] = Counter()
    every: Counter[int] = Counter()
    for attempt, is_recent, count in rows:
        every[attempt] += count
        if is_recent:
            recent[attempt] += count
    use_recent = sum(recent.values()) >= ENOUGH_REACHED
    counts = recent if use_recent else every
    reached = sum(counts.values())
    shares = _shares(counts)
    knee = knee_of(shares)
    limit = rules.attempts_limit

    def curve(advice: Advice, reason: str) -> AttemptCurve:
        return AttemptCurve(reached, use_recent, shares, limit, knee, advice, reason)

    if not reached:
        return curve(Advice.NONE_REACHED, "No advice on the limit until the team has reached some leads.")
    if reached < ENOUGH_REACHED:
        return curve(
            Advice.NOT_ENOUGH,
            f"No advice on the limit yet: only {reached} lead{' has' if reached == 1 else 's have'} been "
            f"reached so far, and a curve needs at least {ENOUGH_REACHED} to say where to stop.",
        )
    if knee is None:
        gains = gains_of(shares)
        if shares[-1] < KNEE_SHARE:
            reason = (
                f"No advice on the limit: even by the {ordinal(CURVE_ATTEMPTS)} attempt the team has "
                f"reached only {percent(shares[-1])} of those leads, so later attempts still pay off."
            )
        else:
            last = max(i + 1 for i, gain in enumerate(gains) if gain >= FLAT_GAIN)
            reason = (
                f"No advice on the limit: the {ordinal(last)} attempt still adds "
                f"{percent(gains[last - 1])} of the leads reached, so the curve has no clear point to stop."
            )
        return curve(Advice.NO_KNEE, reason)
    if knee == limit:
        return curve(Advice.FITS, f"The curve flattens after the {ordinal(knee)} attempt: the limit fits.")
    if not rules.attempts_suggest < knee < rules.attempts_cap:
        return curve(
            Advice.OUT_OF_RANGE,
            f"The curve flattens after the {ordinal(knee)} attempt, but a limit has to stay above "
            f"attempts_suggest ({rules.attempts_suggest}) and below attempts_cap ({rules.attempts_cap}): "
            "change those with `/coach set` first if the team agrees.",
        )
    return curve(
        Advice.SET_LIMIT,
        f"After the {ordinal(knee)} attempt each further try adds under {percent(FLAT_GAIN)} "
        f"of the leads reached: a limit of {knee} would fit this team.",
    )


def limit_problem(rules: Rules, limit: int) -> str | None:
    """Why "Set the limit to N" can't be applied to these rules now (they may have changed since)."""
    if not rules.attempts_suggest < limit < rules.attempts_cap:
        return (
            f"The limit has to stay above attempts_suggest ({rules.attempts_suggest}) and below "
            f"attempts_cap ({rules.attempts_cap}); {limit} doesn't, so nothing changed."
        )
    return None
