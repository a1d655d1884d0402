"""Coaching rules: pure functions over plain data and a `now`. No Slack, no SQL, no clock.

The numbers come from the sales articles Baton is built on: space cold attempts about four days
apart, suggest moving on after six tries and insist after eight (cold calls may run to twelve),
treat two weeks of silence after a real conversation as a stall, and winnow leads that outlive
the sales cycle.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from coaching.calendar import (
    MON_FRI,
    days_ago,
    is_working_day,
    last_working_day_before,
    local_date,
    next_working_day,
    working_days_between,
)


class Outcome(StrEnum):
    CALL = "call"  # logged without an outcome: an attempt whose result we don't know
    CONNECTED = "connected"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no-answer"
    EMAIL = "email"
    REPLIED = "replied"
    MEETING = "meeting"
    NOT_INTERESTED = "not-interested"
    OPT_OUT = "opt-out"


# Two-way contact: the person answered. Everything else is an attempt to reach them.
TWO_WAY = frozenset(
    {Outcome.CONNECTED, Outcome.REPLIED, Outcome.MEETING, Outcome.NOT_INTERESTED, Outcome.OPT_OUT}
)
ATTEMPTS = frozenset({Outcome.CALL, Outcome.VOICEMAIL, Outcome.NO_ANSWER, Outcome.EMAIL})


class Status(StrEnum):
    OPEN = "open"
    BACKBURNER = "backburner"
    WON = "won"
    LOST = "lost"


CLOSED = frozenset({Status.WON, Status.LOST})


class Stage(StrEnum):
    """Where a lead stands against the attempt limit."""

    TRYING = "trying"
    SUGGEST = "suggest"  # time to plan where this goes if the next tries fail
    INSIST = "insist"  # the limit: back-burner it or hand it on
    CAP = "cap"  # the hard cap: no more follow-ups are scheduled
    REACHED = "reached"  # the current contact has answered; attempts no longer the measure


@dataclass(frozen=True)
class Rules:
    """A workspace's coaching numbers. Defaults are the design's; each can be overridden."""

    follow_up_days: int = 4
    attempts_suggest: int = 6
    attempts_limit: int = 8
    attempts_cap: int = 12
    sales_cycle_days: int = 90
    stall_days: int = 14
    squat_days: int = 21
    lapse_days: int = 120

    @property
    def after_contact_days(self) -> int:
        """Check back after a conversation well before the silence would count as a stall."""
        return max(1, self.stall_days // 2)

    def problems(self) -> list[str]:
        """Why these numbers can't work together, in words an admin can act on."""
        found = [f"{f.name} must be at least 1" for f in fields(self) if getattr(self, f.name) < 1]
        if not self.attempts_suggest <= self.attempts_limit <= self.attempts_cap:
            found.append(
                "attempts_suggest, attempts_limit and attempts_cap must rise in that order "
                f"(now {self.attempts_suggest}, {self.attempts_limit}, {self.attempts_cap})"
            )
        return found


DEFAULT_RULES = Rules()


def with_overrides(rules: Rules, overrides: dict[str, int]) -> Rules:
    known = {f.name for f in fields(Rules)}
    return replace(rules, **{name: value for name, value in overrides.items() if name in known})


@dataclass(frozen=True)
class TouchFact:
    at: datetime
    outcome: Outcome
    meeting_on: date | None = None


@dataclass(frozen=True)
class Progress:
    """What the touch log says about a lead: the columns the lead row caches."""

    attempts: int
    reached: bool
    ever_reached: bool
    last_touch_at: datetime | None
    last_contact_at: datetime | None
    meeting_on: date | None
    next_follow_up: date | None
    # The rep touched the lead on or after the day the meeting reminder was raised (and after booking).
    meeting_reminded: bool = False
    # The latest touch is a "not interested": the chase is over until the rep touches it again.
    declined: bool = False


def progress(
    touches: Iterable[TouchFact],
    *,
    counting_since: datetime | None,
    baseline_attempts: int,
    tz: ZoneInfo,
    rules: Rules,
    today: date,
    workdays: frozenset[int] = MON_FRI,
) -> Progress:
    """Summarise a lead's touch log as of `today` (the owner's local date).

    `counting_since` is when the current round of attempts began: None for a lead's whole life,
    or the moment it was reopened, handed to a new owner, or the client handed the rep to someone
    new. Attempts are the tries in that round since the last two-way contact; `baseline_attempts`
    carries tries made before Baton knew the lead (an import) until someone answers. The next
    follow-up comes from the round's latest touch, is due today when the round has none yet, is
    never in the past, and always falls on one of the owner's `workdays`.
    """
    log = sorted(touches, key=lambda t: t.at)
    current = [t for t in log if counting_since is None or t.at >= counting_since]
    contacts = [t for t in current if t.outcome in TWO_WAY]
    last_contact = contacts[-1].at if contacts else None
    attempts = attempts_at_the_cadence(
        [t for t in current if t.outcome in ATTEMPTS and (last_contact is None or t.at > last_contact)], tz
    )
    if last_contact is None:
        attempts += baseline_attempts
    booking = meeting_booking(log, tz)
    meeting_on = booking.meeting_on if booking else None
    follow_up = _next_follow_up(current[-1] if current else None, attempts, meeting_on, tz, rules, today)
    reminded = False
    if booking is not None and meeting_on is not None:
        reminder_day = last_working_day_before(meeting_on, workdays)
        reminded = any(
            t.at > booking.at and local_date(t.at, tz) >= reminder_day for t in log[log.index(booking) :]
        )
    return Progress(
        attempts=attempts,
        reached=last_contact is not None,
        ever_reached=any(t.outcome in TWO_WAY for t in log),
        last_touch_at=log[-1].at if log else None,
        last_contact_at=max((t.at for t in log if t.outcome in TWO_WAY), default=None),
        meeting_on=meeting_on,
        next_follow_up=next_working_day(max(follow_up, today), workdays) if follow_up else None,
        meeting_reminded=reminded,
        declined=bool(log) and log[-1].outcome is Outcome.NOT_INTERESTED,
    )


@dataclass(frozen=True)
class FirstContact:
    """When a lead was first reached (its first two-way touch) and the tries logged before it."""

    at: datetime
    tries: int  # every call, voicemail, no-answer and e-mail before `at`, not one a day


def first_contact(touches: Iterable[TouchFact]) -> FirstContact | None:
    """The weekly review's attempt curve counts each lead once, at its first contact. The lead row
    keeps this so the review reads one row per lead instead of the whole touch log."""
    log = list(touches)
    reached = min((t.at for t in log if t.outcome in TWO_WAY), default=None)
    if reached is None:
        return None
    return FirstContact(reached, sum(t.outcome in ATTEMPTS and t.at < reached for t in log))


def attempts_at_the_cadence(tries: Sequence[TouchFact], tz: ZoneInfo) -> int:
    """Tries counted toward the attempt limit: one a day, in the owner's calendar.

    The seeds' rule is 6 to 8 attempts (8 to 12 for cold calls) spaced out over weeks, a cold
    call every 4 days (shared/seeds/000_60bbef494d32b522.txt, "Number of attempts" and "Are you
    following up enough?"). Seven calls the evening a lead was added are one day's try, not seven
    attempts at that cadence: a burst on one day counts once, and the history keeps every touch.
    """
    return len({local_date(t.at, tz) for t in tries})


def meeting_booking(log: Sequence[TouchFact], tz: ZoneInfo) -> TouchFact | None:
    """The touch that set the lead's meeting, from a log sorted by time.

    A meeting logged as held (its date on or before the day it is filed) replaces a booking only
    when it is that meeting or a later one: "meeting yesterday, demo went great" logged while
    another is booked for tomorrow keeps tomorrow's, and its reminder. A new booking ahead always
    replaces the last one (a rescheduled meeting, earlier or later).
    """
    current: TouchFact | None = None
    for touch in log:
        if touch.meeting_on is None:
            continue
        held = touch.meeting_on <= local_date(touch.at, tz)
        if (
            not held
            or current is None
            or current.meeting_on is None
            or touch.meeting_on >= current.meeting_on
        ):
            current = touch
    return current


def _next_follow_up(
    latest: TouchFact | None, attempts: int, meeting_on: date | None, tz: ZoneInfo, rules: Rules, today: date
) -> date | None:
    """The calendar date the spacing gives; `progress` then moves it onto a working day."""
    if latest is None:
        return today  # a new round (a new lead, reopened, a new owner or contact): the first try is due now
    if latest.outcome in (Outcome.OPT_OUT, Outcome.NOT_INTERESTED):
        return None
    touched_on = local_date(latest.at, tz)
    if meeting_on is not None and meeting_on >= touched_on:
        return meeting_on + timedelta(days=1)  # the day after the meeting: how did it go?
    if latest.outcome in TWO_WAY:
        return touched_on + timedelta(days=rules.after_contact_days)
    if attempts >= rules.attempts_cap:
        return None
    return touched_on + timedelta(days=rules.follow_up_days)


def stage(attempts: int, *, reached: bool, rules: Rules) -> Stage:
    if reached:
        return Stage.REACHED
    if attempts >= rules.attempts_cap:
        return Stage.CAP
    if attempts >= rules.attempts_limit:
        return Stage.INSIST
    if attempts >= rules.attempts_suggest:
        return Stage.SUGGEST
    return Stage.TRYING


def is_stalled(
    last_contact_at: datetime | None, *, reached: bool, now: datetime, rules: Rules, tz: ZoneInfo
) -> bool:
    """Contact was made, then silence for longer than the stall window (calendar days where the rep is)."""
    return (
        reached
        and last_contact_at is not None
        and days_ago(last_contact_at, now=now, tz=tz) > rules.stall_days
    )


def is_past_sales_cycle(created_at: datetime, *, now: datetime, rules: Rules, tz: ZoneInfo) -> bool:
    return days_ago(created_at, now=now, tz=tz) > rules.sales_cycle_days


def untouched_since(lead: "LeadFacts") -> datetime:
    """Since when the owner has left the lead alone: the last touch, or when they got it (added,
    handed to them, reopened, a new contact), whichever is later. A lead handed over this morning
    has not been sat on for weeks, whatever the previous owner did."""
    since = lead.last_touch_at or lead.created_at
    return max(since, lead.counting_since) if lead.counting_since else since


def is_untouched(lead: "LeadFacts", *, now: datetime, rules: Rules, tz: ZoneInfo) -> bool:
    """Owned and untouched for the squatting window: it may be offered to someone else."""
    return days_ago(untouched_since(lead), now=now, tz=tz) > rules.squat_days


def meeting_reminder_due(
    meeting_on: date | None, *, reminded: bool, today: date, workdays: frozenset[int]
) -> bool:
    """Send the client a reminder today: the last working day before the meeting (a Monday meeting
    is reminded on Friday), until the rep has touched the lead since the reminder was raised."""
    if meeting_on is None or reminded or today >= meeting_on or not is_working_day(today, workdays):
        return False
    return today >= last_working_day_before(meeting_on, workdays)


class Due(StrEnum):
    OVERDUE = "overdue"
    TODAY = "today"
    UPCOMING = "upcoming"
    UNSCHEDULED = "unscheduled"


def due(next_follow_up: date | None, today: date, workdays: frozenset[int] = MON_FRI) -> Due:
    """A missed date is overdue whatever today is; nothing is due today on a day off."""
    if next_follow_up is None:
        return Due.UNSCHEDULED
    if next_follow_up < today:
        return Due.OVERDUE
    if next_follow_up == today and is_working_day(today, workdays):
        return Due.TODAY
    return Due.UPCOMING


def overdue_days(next_follow_up: date | None, today: date, workdays: frozenset[int]) -> int:
    """Working days missed: the due day itself up to yesterday. A Friday follow-up looked at on
    Monday (or on the weekend) is overdue 1 working day; 0 when not overdue."""
    if next_follow_up is None or next_follow_up >= today:
        return 0
    return working_days_between(next_follow_up - timedelta(days=1), today - timedelta(days=1), workdays)


class CountedLead(Protocol):
    @property
    def status(self) -> Status: ...
    @property
    def next_follow_up(self) -> date | None: ...
    @property
    def attempts(self) -> int: ...
    @property
    def reached(self) -> bool: ...
    @property
    def opted_out_at(self) -> datetime | None: ...
    @property
    def declined(self) -> bool: ...


@dataclass(frozen=True)
class Counts:
    """The one definition of every count a rep or manager sees: /pipeline, Home, the digest's
    headline and the managers' views all add up the same way. overdue + due_today + upcoming +
    to_decide = open."""

    open: int = 0  # every open lead, whatever else is true of it
    overdue: int = 0
    due_today: int = 0
    upcoming: int = 0
    to_decide: int = 0  # open with nothing scheduled: the attempt cap, a "not interested", an opt-out
    at_limit: int = 0  # the attempt limit without a conversation (not opted out, no "no" given)


def is_at_limit(lead: CountedLead, *, rules: Rules) -> bool:
    return (
        lead.status is Status.OPEN
        and lead.opted_out_at is None
        and not lead.declined
        and not lead.reached  # `stage` says REACHED: asked of every open lead each morning, so said first
        and stage(lead.attempts, reached=lead.reached, rules=rules) in (Stage.INSIST, Stage.CAP)
    )


def counts(leads: Iterable[CountedLead], *, today: date, workdays: frozenset[int], rules: Rules) -> Counts:
    tally = dict.fromkeys(Due, 0)
    at_limit = 0
    for lead in leads:
        if lead.status is not Status.OPEN:
            continue
        tally[due(lead.next_follow_up, today, workdays)] += 1
        at_limit += is_at_limit(lead, rules=rules)
    return Counts(
        open=sum(tally.values()),
        overdue=tally[Due.OVERDUE],
        due_today=tally[Due.TODAY],
        upcoming=tally[Due.UPCOMING],
        to_decide=tally[Due.UNSCHEDULED],
        at_limit=at_limit,
    )


def last_weekday(today: date, weekday: int) -> date:
    """The most recent day with that weekday, today included."""
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def next_weekday(today: date, weekday: int) -> date:
    """The next day with that weekday, today excluded."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


class Flag(StrEnum):
    """Something about a lead worth a rep's attention, beyond when it is due."""

    AT_LIMIT = "at_limit"  # the attempt limit without a conversation
    STALLED = "stalled"  # contact made, then silence
    PAST_CYCLE = "past_cycle"  # open longer than the sales cycle
    MEETING_REMINDER = "meeting_reminder"  # the last working day before a meeting: send the client a reminder
    SQUATTING = "squatting"  # owned, untouched for the squatting window
    LAPSED = "lapsed"  # a customer nobody has touched for the lapse window
    DECLINED = "declined"  # said not interested: close it or park it
    OPTED_OUT = "opted_out"


class LeadFacts(Protocol):
    """What the flag rules read from a lead; `LeadSnapshot` has all of it."""

    @property
    def status(self) -> Status: ...
    @property
    def reached(self) -> bool: ...
    @property
    def attempts(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def last_touch_at(self) -> datetime | None: ...
    @property
    def last_contact_at(self) -> datetime | None: ...
    @property
    def counting_since(self) -> datetime | None: ...
    @property
    def meeting_on(self) -> date | None: ...
    @property
    def opted_out_at(self) -> datetime | None: ...
    @property
    def meeting_reminded(self) -> bool: ...
    @property
    def declined(self) -> bool: ...
    @property
    def next_follow_up(self) -> date | None: ...


def flags(
    lead: LeadFacts, *, now: datetime, today: date, rules: Rules, tz: ZoneInfo, workdays: frozenset[int]
) -> frozenset[Flag]:
    """Everything worth a rep's attention about a lead today. An opt-out wins over all of it."""
    if lead.opted_out_at is not None:
        return frozenset({Flag.OPTED_OUT})
    found = set()
    if meeting_reminder_due(lead.meeting_on, reminded=lead.meeting_reminded, today=today, workdays=workdays):
        found.add(Flag.MEETING_REMINDER)
    if lead.status is Status.WON:
        if days_ago(untouched_since(lead), now=now, tz=tz) > rules.lapse_days:
            found.add(Flag.LAPSED)
        return frozenset(found)
    if lead.status is not Status.OPEN:
        return frozenset(found)
    if lead.declined:
        found.add(Flag.DECLINED)  # a no is an answer: not a stall, not a chase
    elif is_at_limit(lead, rules=rules):
        found.add(Flag.AT_LIMIT)
    elif is_stalled(lead.last_contact_at, reached=lead.reached, now=now, rules=rules, tz=tz):
        found.add(Flag.STALLED)
    if is_past_sales_cycle(lead.created_at, now=now, rules=rules, tz=tz):
        found.add(Flag.PAST_CYCLE)
    if is_untouched(lead, now=now, rules=rules, tz=tz):
        found.add(Flag.SQUATTING)
    return frozenset(found)


class GroundRule(StrEnum):
    """Which lead-squatting ground rule applies to a transfer request (the manager sees it)."""

    STEP_IN = "step_in"  # contact made but stuck for months: work it with the owner before moving it
    NOT_REACHED = "not_reached"  # the attempt limit without reaching anyone: hand it on
    CONNECTION = "connection"  # someone else has a way in: hand it on
    SQUATTING = "squatting"  # untouched for weeks
    PASSING_ON = "passing_on"  # the owner offers it to a colleague
    JUDGEMENT = "judgement"  # none clearly applies


def ground_rule(
    lead: LeadFacts,
    *,
    owner: str,
    requested_by: str,
    to_user: str,
    now: datetime,
    rules: Rules,
    tz: ZoneInfo,
) -> GroundRule:
    """The first ground rule that fits, most delicate first: a reached-but-stuck lead needs the
    manager alongside the owner, because a new rep would start from scratch."""
    if lead.last_contact_at is not None and is_past_sales_cycle(lead.created_at, now=now, rules=rules, tz=tz):
        return GroundRule.STEP_IN
    if not lead.reached and lead.attempts >= rules.attempts_limit:
        return GroundRule.NOT_REACHED
    if requested_by != owner and to_user == requested_by:
        return GroundRule.CONNECTION
    if is_untouched(lead, now=now, rules=rules, tz=tz):
        return GroundRule.SQUATTING
    if requested_by == owner:
        return GroundRule.PASSING_ON
    return GroundRule.JUDGEMENT
