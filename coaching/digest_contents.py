"""What a rep's morning digest and a manager's weekly review hold. Pure: plain data and a `now`.

The digest lists only what needs action today, each lead once, in the section whose advice fits it
best: a meeting tomorrow needs a reminder sent; a lead at the attempt limit needs a decision, not
another try; a stalled deal needs something of value, not a chase.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from coaching.calendar import days_ago, in_send_window, is_working_day, local_date, next_working_day
from coaching.rules import (
    Counts,
    Flag,
    Rules,
    Status,
    counts,
    flags,
    is_at_limit,
    is_past_sales_cycle,
    is_stalled,
    meeting_reminder_due,
    overdue_days,
    untouched_since,
)


class Section(StrEnum):
    MEETING = "meeting"  # the last working day before a meeting: send the client a reminder today
    AT_LIMIT = "at_limit"  # the attempt limit without a conversation: back-burner or hand on
    STALLED = "stalled"  # contact made, then silence: a value-adding touch
    FOLLOW_UP = "follow_up"  # overdue or due today
    LAPSED = "lapsed"  # a customer untouched for the lapse window


SECTION_ORDER = tuple(Section)
SECTION_CAP = 5  # items shown per section; the rest are counted ("and 4 more")
DIGEST_CAP = 12  # items shown in all; each takes two blocks of Slack's fifty
# Shown beside an item that is listed anyway: past the sales cycle, untouched for weeks.
ITEM_FLAGS = frozenset({Flag.PAST_CYCLE, Flag.SQUATTING})


class DigestLead(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def opted_out_at(self) -> datetime | None: ...
    @property
    def snoozed_until(self) -> date | None: ...
    @property
    def next_follow_up(self) -> date | None: ...
    @property
    def meeting_on(self) -> date | None: ...
    @property
    def attempts(self) -> int: ...
    @property
    def reached(self) -> bool: ...
    @property
    def last_touch_at(self) -> datetime | None: ...
    @property
    def last_contact_at(self) -> datetime | None: ...
    @property
    def counting_since(self) -> datetime | None: ...
    @property
    def meeting_reminded(self) -> bool: ...
    @property
    def declined(self) -> bool: ...


@dataclass(frozen=True)
class Days:
    """Whose calendar a digest is read on: the rep's time zone and working days."""

    tz: ZoneInfo
    workdays: frozenset[int]


def section_for(lead: DigestLead, *, now: datetime, today: date, rules: Rules, days: Days) -> Section | None:
    """The one section a lead belongs in today, or None when it needs nothing today.

    Nothing is due on a day off; an opt-out silences everything; a "not interested" was answered
    with one close-or-park prompt when it was logged, and stays quiet until the lead is touched again.
    """
    return _Morning(now=now, today=today, rules=rules, days=days).section(lead)


class _Morning:
    """One rep's day, worked out once for all their leads: `section_for` and the ranking's overdue
    days, with what depends only on the day (a working day? a meeting on that date reminded
    today? overdue since that date?) answered once per rep and date instead of once per lead. A
    morning puts a million leads through this against ten thousand (rep, day) pairs."""

    __slots__ = ("_overdue", "_reminders", "days", "now", "rules", "today", "working")

    def __init__(self, *, now: datetime, today: date, rules: Rules, days: Days) -> None:
        self.now, self.today, self.rules, self.days = now, today, rules, days
        self.working = is_working_day(today, days.workdays)
        self._reminders: dict[date, bool] = {}  # per meeting date, for a lead not yet reminded
        self._overdue: dict[date | None, int] = {}  # per follow-up date

    def section(self, lead: DigestLead) -> Section | None:
        # The cheap tests on the lead's own columns come before each rule that is a call.
        if not self.working or lead.opted_out_at is not None:
            return None
        today = self.today
        if lead.snoozed_until is not None and lead.snoozed_until > today:
            return None
        status = lead.status
        meeting_on = lead.meeting_on
        if (
            meeting_on is not None
            and not lead.meeting_reminded
            and status is not Status.LOST
            and self._reminder_due(meeting_on)
        ):
            return Section.MEETING  # customers' meetings too: a reminder weeds out no-shows
        if status is Status.WON:
            idle = days_ago(untouched_since(lead), now=self.now, tz=self.days.tz)
            return Section.LAPSED if idle > self.rules.lapse_days else None
        if status is not Status.OPEN or lead.declined:
            return None
        # Everything else waits until its follow-up is due: a rep working a lead on schedule isn't nagged.
        follow_up = lead.next_follow_up
        if follow_up is not None and follow_up > today:
            return None
        if is_at_limit(lead, rules=self.rules):
            return Section.AT_LIMIT  # at the cap nothing is scheduled: a decision is due every working day
        if follow_up is None:
            return None
        if is_stalled(
            lead.last_contact_at, reached=lead.reached, now=self.now, rules=self.rules, tz=self.days.tz
        ):
            return Section.STALLED
        return Section.FOLLOW_UP

    def _reminder_due(self, meeting_on: date) -> bool:
        due = self._reminders.get(meeting_on)
        if due is None:
            due = self._reminders[meeting_on] = meeting_reminder_due(
                meeting_on, reminded=False, today=self.today, workdays=self.days.workdays
            )
        return due

    def overdue(self, follow_up: date | None) -> int:
        days = self._overdue.get(follow_up)
        if days is None:
            days = self._overdue[follow_up] = overdue_days(follow_up, self.today, self.days.workdays)
        return days


@dataclass(frozen=True)
class Item:
    lead_id: int
    name: str
    section: Section | None  # None outside a digest (a review's or an orphan alert's list)
    overdue_days: int  # working days past the follow-up (0 when due today or not scheduled)
    idle_days: int  # calendar days the owner has left it alone: since the last touch or since they got it
    attempts: int
    meeting_on: date | None
    quiet_days: int | None = None  # calendar days since the last two-way contact, when there was one
    touched_days: int | None = None  # calendar days since the last touch; None: never touched
    flags: frozenset[Flag] = frozenset()  # past the sales cycle, untouched for weeks


@dataclass(frozen=True)
class Digest:
    owner_id: str
    today: date
    sections: tuple[tuple[Section, tuple[Item, ...], int], ...]  # (section, items shown, how many more)
    counts: Counts = field(default_factory=Counts)  # the same numbers /pipeline and Home show

    @property
    def shown(self) -> int:
        return sum(len(items) for _, items, _ in self.sections)

    @property
    def total(self) -> int:
        return sum(len(items) + more for _, items, more in self.sections)

    @property
    def is_empty(self) -> bool:
        return self.total == 0


def item_of(
    lead: DigestLead, *, now: datetime, today: date, rules: Rules, days: Days, section: Section | None = None
) -> Item:
    """A lead as a line: ages in calendar days where the rep is; nothing invented for a lead never touched."""
    touched = days_ago(lead.last_touch_at, now=now, tz=days.tz) if lead.last_touch_at else None
    idle = days_ago(untouched_since(lead), now=now, tz=days.tz)
    quiet = days_ago(lead.last_contact_at, now=now, tz=days.tz) if lead.last_contact_at else None
    found = flags(lead, now=now, today=today, rules=rules, tz=days.tz, workdays=days.workdays) & ITEM_FLAGS
    return Item(
        lead.id,
        lead.name,
        section,
        overdue_days(lead.next_follow_up, today, days.workdays),
        idle,
        lead.attempts,
        lead.meeting_on,
        quiet,
        touched,
        found,
    )


def digest_for(
    owner_id: str, leads: Iterable[DigestLead], *, now: datetime, today: date, rules: Rules, days: Days
) -> Digest:
    # Each section is ranked by (working days overdue, days idle, name) first, and only the dozen
    # shown become items: a rep's hundred leads cost a sort key each, not a full line each.
    grouped: dict[Section, list[tuple[int, int, str, DigestLead]]] = {
        section: [] for section in SECTION_ORDER
    }
    mine = leads if isinstance(leads, list) else list(leads)
    morning = _Morning(now=now, today=today, rules=rules, days=days)
    # Nothing is listed on a day off (`section_for`'s first test): the counts are all that is left.
    for lead in mine if morning.working else ():
        section = morning.section(lead)
        if section is None:
            continue
        idle = days_ago(untouched_since(lead), now=now, tz=days.tz)
        grouped[section].append((-morning.overdue(lead.next_follow_up), -idle, lead.name.casefold(), lead))
    room = DIGEST_CAP
    sections = []
    for section in SECTION_ORDER:
        ranked = sorted(grouped[section], key=lambda ranking: ranking[:3])
        if not ranked:
            continue
        shown = tuple(
            item_of(lead, now=now, today=today, rules=rules, days=days, section=section)
            for *_, lead in ranked[: max(0, min(SECTION_CAP, room))]
        )
        room -= len(shown)
        sections.append((section, shown, len(ranked) - len(shown)))
    tally = counts(mine, today=today, workdays=days.workdays, rules=rules)
    return Digest(owner_id, today, tuple(sections), tally)


# ---- when -----------------------------------------------------------------------------------------


def digest_due(local_now: datetime, *, at: time, workdays: frozenset[int]) -> bool:
    """Is it this rep's digest time on one of their working days? The window follows the time
    (a digest at 13:00 goes out from 13:00), and lasts long enough for a clock that was down."""
    return in_send_window(local_now, at=at, workdays=workdays)


def review_due(local_now: datetime, *, at: time, review_day: int, workdays: frozenset[int]) -> bool:
    """The weekly review, on the manager's own working morning: the review day, or the first of
    their working days after it when the review day is one of their days off."""
    today = local_now.date()
    week_start = today - timedelta(days=(today.weekday() - review_day) % 7)
    return today == next_working_day(week_start, workdays) and in_send_window(
        local_now, at=at, workdays=workdays
    )


# ---- the managers' weekly review ------------------------------------------------------------------------


@dataclass(frozen=True)
class RepLine:
    owner_id: str
    open: int
    overdue: int
    at_limit: int
    stale: int
    squatting: tuple[Item, ...]  # each one can be proposed for transfer
    stalled: int = 0  # gone quiet after a conversation


@dataclass(frozen=True)
class Review:
    today: date
    reps: tuple[RepLine, ...]  # the busiest first
    orphaned: tuple[tuple[str, tuple[Item, ...], int], ...]  # (departed owner, leads shown, more)

    @property
    def is_empty(self) -> bool:
        return not self.reps and not self.orphaned


def review_for(
    leads: Iterable[tuple[str, DigestLead]],
    *,
    departed: frozenset[str],
    now: datetime,
    today: date,
    rules: Rules,
    days_of: Mapping[str, Days],
    default_days: Days,
) -> Review:
    """Per active rep: open leads, overdue, at the limit, past the cycle, untouched for weeks; and
    leads left by people who left. Each rep's counts are read on their own calendar (`days_of`),
    exactly as their /pipeline counts them."""
    by_owner: dict[str, list[DigestLead]] = {}
    for owner, lead in leads:
        by_owner.setdefault(owner, []).append(lead)
    reps = []
    orphans: dict[str, list[Item]] = {}
    for owner, owned in by_owner.items():
        days = days_of.get(owner, default_days)
        own_today = local_date(now, days.tz)
        active = [lead for lead in owned if lead.status is Status.OPEN and lead.opted_out_at is None]
        if owner in departed:
            if active:
                orphans[owner] = [
                    item_of(lead, now=now, today=own_today, rules=rules, days=days) for lead in active
                ]
            continue
        tally = counts(owned, today=own_today, workdays=days.workdays, rules=rules)
        if not tally.open:
            continue
        # The two flags a rep's line counts, as `flags` finds them on an open lead nobody opted out
        # of; a full line only for the three sat on longest (a team's every lead is read here).
        idle = {lead.id: days_ago(untouched_since(lead), now=now, tz=days.tz) for lead in active}
        squatting = sorted(
            (lead for lead in active if idle[lead.id] > rules.squat_days), key=lambda x: -idle[x.id]
        )
        reps.append(
            RepLine(
                owner,
                tally.open,
                tally.overdue,
                tally.at_limit,
                sum(
                    is_past_sales_cycle(lead.created_at, now=now, rules=rules, tz=days.tz) for lead in active
                ),
                tuple(
                    item_of(lead, now=now, today=own_today, rules=rules, days=days) for lead in squatting[:3]
                ),
                sum(
                    is_stalled(lead.last_contact_at, reached=lead.reached, now=now, rules=rules, tz=days.tz)
                    for lead in active
                ),
            )
        )
    reps.sort(key=lambda r: (-(r.overdue + r.at_limit + len(r.squatting)), -r.open, r.owner_id))
    orphaned = tuple(
        (
            owner,
            tuple(sorted(items, key=lambda i: i.name.casefold())[:SECTION_CAP]),
            max(0, len(items) - SECTION_CAP),
        )
        for owner, items in sorted(orphans.items())
    )
    return Review(today, tuple(reps), orphaned)


def orphans_of(leads: Sequence[DigestLead], *, now: datetime, rules: Rules, days: Days) -> tuple[Item, ...]:
    """A departed owner's open leads, to reassign at once."""
    ordered = sorted(leads, key=lambda lead: lead.name.casefold())
    today = local_date(now, days.tz)
    return tuple(
        item_of(lead, now=now, today=today, rules=rules, days=days)
        for lead in ordered
        if lead.status is Status.OPEN
    )
