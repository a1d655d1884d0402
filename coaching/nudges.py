"""What a rep's morning digest and a manager's weekly review hold. Pure: plain data and a `now`.

The digest lists only what needs action today, each lead once, in the section whose advice fits it
best: a meeting tomorrow needs a reminder sent; a lead at the attempt limit needs a decision, not
another try; a stalled deal needs something of value, not a chase.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol

from coaching.rules import Rules, Stage, Status, is_past_sales_cycle, is_stalled, stage


class Section(StrEnum):
    MEETING = "meeting"  # a meeting tomorrow: send the client a reminder today
    AT_LIMIT = "at_limit"  # the attempt limit without a conversation: back-burner or hand on
    STALLED = "stalled"  # contact made, then silence: a value-adding touch
    FOLLOW_UP = "follow_up"  # overdue or due today
    STALE = "stale"  # open longer than the sales cycle
    LAPSED = "lapsed"  # a customer untouched for the lapse window
    SQUATTING = "squatting"  # untouched for weeks with nothing else listing it


SECTION_ORDER = tuple(Section)
SECTION_CAP = 5  # items shown per section; the rest are counted ("and 4 more")
DIGEST_CAP = 12  # items shown in all; each takes two blocks of Slack's fifty


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


def section_for(lead: DigestLead, *, now: datetime, today: date, rules: Rules) -> Section | None:
    """The one section a lead belongs in today, or None when it needs nothing today."""
    if lead.opted_out_at is not None:
        return None
    if lead.snoozed_until is not None and lead.snoozed_until > today:
        return None
    idle = now - (lead.last_touch_at or lead.created_at)
    if lead.status is Status.WON:
        return Section.LAPSED if idle > timedelta(days=rules.lapse_days) else None
    if lead.status is not Status.OPEN:
        return None
    if lead.meeting_on == today + timedelta(days=1):
        return Section.MEETING
    # Everything else waits until its follow-up is due: a rep working a lead on schedule isn't nagged.
    if lead.next_follow_up is not None and lead.next_follow_up > today:
        return None
    if stage(lead.attempts, reached=lead.reached, rules=rules) in (Stage.INSIST, Stage.CAP):
        return Section.AT_LIMIT
    if is_stalled(lead.last_contact_at, reached=lead.reached, now=now, rules=rules):
        return Section.STALLED
    if lead.next_follow_up is not None:
        return Section.FOLLOW_UP
    if is_past_sales_cycle(lead.created_at, now=now, rules=rules):
        return Section.STALE
    if idle > timedelta(days=rules.squat_days):
        return Section.SQUATTING
    return None


@dataclass(frozen=True)
class Item:
    lead_id: int
    name: str
    section: Section
    overdue_days: int  # days past the follow-up (0 when due today or not scheduled)
    idle_days: int  # days since the last touch (or since it was added)
    attempts: int
    meeting_on: date | None
    quiet_days: int | None = None  # days since the last two-way contact, when there was one


@dataclass(frozen=True)
class Digest:
    owner_id: str
    today: date
    sections: tuple[tuple[Section, tuple[Item, ...], int], ...]  # (section, items shown, how many more)

    @property
    def shown(self) -> int:
        return sum(len(items) for _, items, _ in self.sections)

    @property
    def total(self) -> int:
        return sum(len(items) + more for _, items, more in self.sections)

    @property
    def is_empty(self) -> bool:
        return self.total == 0


def _quiet(lead: DigestLead, now: datetime) -> int | None:
    return (now - lead.last_contact_at).days if lead.last_contact_at else None


def digest_for(
    owner_id: str, leads: Iterable[DigestLead], *, now: datetime, today: date, rules: Rules
) -> Digest:
    grouped: dict[Section, list[Item]] = {section: [] for section in SECTION_ORDER}
    for lead in leads:
        section = section_for(lead, now=now, today=today, rules=rules)
        if section is None:
            continue
        overdue = (
            (today - lead.next_follow_up).days if lead.next_follow_up and lead.next_follow_up < today else 0
        )
        idle = (now - (lead.last_touch_at or lead.created_at)).days
        grouped[section].append(
            Item(
                lead.id, lead.name, section, overdue, idle, lead.attempts, lead.meeting_on, _quiet(lead, now)
            )
        )
    room = DIGEST_CAP
    sections = []
    for section in SECTION_ORDER:
        items = sorted(grouped[section], key=lambda i: (-i.overdue_days, -i.idle_days, i.name.casefold()))
        if not items:
            continue
        shown = items[: max(0, min(SECTION_CAP, room))]
        room -= len(shown)
        sections.append((section, tuple(shown), len(items) - len(shown)))
    return Digest(owner_id, today, tuple(sections))


# ---- when -----------------------------------------------------------------------------------------

LATEST = time(12, 0)  # a digest missed while the clock was down still goes out in the morning, not after


def digest_due(local_now: datetime, *, at: time, workdays: frozenset[int]) -> bool:
    """Is it this rep's digest time on a working day (and still morning)?"""
    return local_now.weekday() in workdays and at <= local_now.time() < max(at, LATEST)


def review_due(local_now: datetime, *, at: time, review_day: int) -> bool:
    return local_now.weekday() == review_day and at <= local_now.time() < max(at, LATEST)


# ---- the managers' weekly review ------------------------------------------------------------------------


@dataclass(frozen=True)
class RepLine:
    owner_id: str
    open: int
    overdue: int
    at_limit: int
    stale: int
    squatting: tuple[Item, ...]  # each one can be proposed for transfer


@dataclass(frozen=True)
class Review:
    today: date
    reps: tuple[RepLine, ...]  # the busiest first
    orphaned: tuple[tuple[str, tuple[Item, ...], int], ...]  # (departed owner, leads shown, more)

    @property
    def is_empty(self) -> bool:
        return not self.reps and not self.orphaned


@dataclass
class _Tally:
    open: int = 0
    overdue: int = 0
    at_limit: int = 0
    stale: int = 0
    squatting: list[Item] = field(default_factory=list)


def review_for(
    leads: Iterable[tuple[str, DigestLead]],
    *,
    departed: frozenset[str],
    now: datetime,
    today: date,
    rules: Rules,
) -> Review:
    """Per active rep: open leads, overdue, at the limit, stale, squatting; and leads left by people who left."""
    tallies: dict[str, _Tally] = {}
    orphans: dict[str, list[Item]] = {}
    for owner, lead in leads:
        if lead.status is not Status.OPEN or lead.opted_out_at is not None:
            continue
        idle = (now - (lead.last_touch_at or lead.created_at)).days
        item = Item(lead.id, lead.name, Section.SQUATTING, 0, idle, lead.attempts, lead.meeting_on)
        if owner in departed:
            orphans.setdefault(owner, []).append(item)
            continue
        tally = tallies.setdefault(owner, _Tally())
        tally.open += 1
        tally.overdue += lead.next_follow_up is not None and lead.next_follow_up < today
        tally.at_limit += stage(lead.attempts, reached=lead.reached, rules=rules) in (Stage.INSIST, Stage.CAP)
        tally.stale += is_past_sales_cycle(lead.created_at, now=now, rules=rules)
        if idle > rules.squat_days:
            tally.squatting.append(item)
    reps = [
        RepLine(
            owner,
            t.open,
            t.overdue,
            t.at_limit,
            t.stale,
            tuple(sorted(t.squatting, key=lambda i: -i.idle_days)[:3]),
        )
        for owner, t in tallies.items()
    ]
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


def item_of(lead: DigestLead, *, now: datetime, section: Section = Section.SQUATTING) -> Item:
    idle = (now - (lead.last_touch_at or lead.created_at)).days
    return Item(lead.id, lead.name, section, 0, idle, lead.attempts, lead.meeting_on, _quiet(lead, now))


def orphans_of(leads: Sequence[DigestLead], *, now: datetime) -> tuple[Item, ...]:
    """A departed owner's open leads, to reassign at once."""
    ordered = sorted(leads, key=lambda lead: lead.name.casefold())
    return tuple(item_of(lead, now=now) for lead in ordered if lead.status is Status.OPEN)
