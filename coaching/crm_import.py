"""Importing a CRM export into a team's pipeline. All or nothing, and safe to repeat."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from coaching.calendar import next_working_day
from coaching.crm_file import Problem, Row
from coaching.parsing import name_key
from coaching.people import own_workdays
from coaching.privacy import leave_out_erased
from coaching.rules import CLOSED, Rules, Status
from coaching.settings import WORKDAYS
from store import queries
from store.models import Contact, Lead


class Action(StrEnum):
    ADD = "add"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    CONTACT = "contact"  # a later row for a lead already in the file: a person added to it or changed


@dataclass(frozen=True, slots=True)  # one per row of the file
class Planned:
    line: int
    action: Action
    lead: str
    owner: str  # the Slack user id the lead has after the import (Baton's own when it keeps it)
    status: Status  # likewise
    person: str | None
    changes: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # what the file says differently, kept as Baton has it (Baton is newer)
    first: bool = True  # the row that decides its lead; later rows only add or change contacts
    contact: str | None = None  # "added" or "updated": what this row does to its person
    why_kept: str = ""  # why Baton's own values stand: "newer" or "undated"


@dataclass(frozen=True)
class ImportPlan:
    rows: tuple[Planned, ...]
    problems: tuple[Problem, ...]
    erased: int = 0  # rows that named someone erased on request: left out, or their person taken off

    def count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action is action)

    def leads(self, action: Action) -> int:
        """Leads, not rows: a lead counts once, as its deciding row says."""
        return sum(1 for row in self.rows if row.first and row.action is action)

    def contacts(self, done: str) -> int:
        return sum(1 for row in self.rows if row.contact == done)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _LeadPlan:
    """Everything the file says about one lead, from all its rows."""

    key: str
    rows: list[Row]
    lead: Lead | None
    owner: str
    changes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    why_kept: str = ""
    fresher: bool = True  # the file is as new as what Baton knows: it may replace, not only fill in
    notes: str | None = None
    opted_out_at: datetime | None = None
    lost_reason: str | None = None
    contact_at: datetime | None = None  # the last conversation the file knows of, if any
    people: dict[int, str] = field(default_factory=dict)  # row line -> "added" | "updated"

    @property
    def first(self) -> Row:
        return self.rows[0]


def import_rows(
    session: Session,
    *,
    team_id: str,
    rows: Sequence[Row],
    owners: dict[str, str],
    user_id: str,
    now: datetime,
    unknown: dict[str, str] | None = None,
    rules: Rules,
    write: bool,
    progress: Callable[[int, int], None] | None = None,
    team_days: frozenset[int] = WORKDAYS,
) -> ImportPlan:
    """Plan every row; write only when `write` and nothing is wrong (the caller's transaction makes it atomic).

    `owners` maps each owner as written in the file (an e-mail, a Slack id, a name; "" for none)
    to a Slack user id; an owner missing from it is a problem for that row, explained by
    `unknown` when known.
    """
    rows, erased = leave_out_erased(session, team_id=team_id, rows=rows)
    problems = _owner_problems(rows, owners, unknown or {})
    existing = queries.crm.leads_by_keys(session, team_id=team_id, keys=sorted({row.key for row in rows}))
    ids = [lead.id for lead in existing.values()]
    moved = queries.crm.leads_with_own_record(session, team_id=team_id, lead_ids=ids) if ids else set()
    people = _People(
        session,
        user_id,
        now,
        queries.crm.contacts_of_leads(session, team_id=team_id, lead_ids=ids) if ids else [],
    )
    total = 2 * len(rows) if write else len(rows)  # planning a row, then writing it
    tick = progress or (lambda done, total: None)
    by_key: dict[str, _LeadPlan] = {}
    for row in rows:
        plan = by_key.get(row.key)
        if plan is None:
            lead = existing.get(row.key)
            by_key[row.key] = _LeadPlan(row.key, [row], lead, owners.get(row.owner, row.owner))
        else:
            plan.rows.append(row)
    planned: list[Planned] = []
    done = 0
    for plan in by_key.values():
        _plan_lead(plan, now, moved)
        for row in plan.rows:
            change = people.plan(plan.lead, row, fresher=plan.fresher)
            if change:
                plan.people[row.line] = change
        for row in plan.rows:
            done += 1
            tick(done, total)
            planned.append(_planned(plan, row))
    result = ImportPlan(tuple(sorted(planned, key=lambda p: p.line)), tuple(problems), erased)
    if write and result.ok:
        _write(session, team_id, by_key, people, user_id, now, rules, tick, len(rows), team_days)
    tick(total, total)
    return result


def _planned(plan: _LeadPlan, row: Row) -> Planned:
    lead, first = plan.lead, row is plan.first
    contact = plan.people.get(row.line)
    person_change = _person_change(row, contact)
    if first:
        action = (
            Action.ADD if lead is None else Action.UPDATE if plan.changes or plan.people else Action.UNCHANGED
        )
        if lead is None:  # what a new lead starts as, beyond its status
            talking = plan.contact_at is not None and row.status is Status.OPEN
            changes = ("in conversation",) * talking + ("opted out",) * bool(plan.opted_out_at)
        else:
            changes = (*plan.changes, *person_change)
    else:
        action = Action.CONTACT if contact else Action.UNCHANGED
        changes = person_change if lead is not None else ()
    owner = lead.owner_id if lead is not None and "owner" in plan.kept else plan.owner
    status = Status(lead.status) if lead is not None and "status" in plan.kept else plan.first.status
    return Planned(
        row.line,
        action,
        row.lead,
        owner,
        status,
        row.person,
        tuple(changes),
        tuple(plan.kept) if first else (),
        first,
        contact,
        plan.why_kept if first else "",
    )


def _person_change(row: Row, contact: str | None) -> tuple[str, ...]:
    if contact == "added":
        return (f"adds {row.person}",)
    if contact == "updated":
        return (f"updates {row.person}",)
    return ()


def _plan_lead(plan: _LeadPlan, now: datetime, moved: set[int]) -> None:
    """What the file says about the lead as a whole, and (for a lead Baton has) what it changes."""
    row = plan.first
    notes = list(dict.fromkeys(r.notes for r in plan.rows if r.notes))
    plan.notes = "\n\n".join(notes) or None
    opted = [r for r in plan.rows if r.opted_out]
    if opted:
        plan.opted_out_at = min((r.opted_out_at for r in opted if r.opted_out_at), default=now)
    if row.status is Status.LOST:
        plan.lost_reason = next((r.lost_reason for r in plan.rows if r.lost_reason), None)
    lead = plan.lead
    if row.reached:
        # The file's own date for the conversation. A stage that says they talked, without a date,
        # is taken as of the import (the stall clock starts now rather than in the past), once:
        # running the same undated file again must not move a conversation Baton already knows.
        dated = row.last_contacted or row.last_activity
        plan.contact_at = dated or (now if lead is None or lead.last_contact_at is None else None)
    if lead is None:
        return
    latest = _latest(row)
    if latest is None:
        # An undated row can't be told stale; it stands unless Baton has a record of its own
        # (touches logged, a hand-off, a reopen) that it might undo.
        fresher = lead.id not in moved and lead.counting_since is None
        why = "undated"
    else:
        fresher = lead.last_touch_at is None or latest >= lead.last_touch_at
        why = "newer"
    differs = []
    if lead.owner_id != plan.owner:
        differs.append("owner")
    if lead.status != row.status.value:
        differs.append("status")
    if not row.reached and row.attempts > lead.attempts:  # counts only move up: a connect resets them
        differs.append("attempts")
    plan.fresher = fresher
    if fresher:
        plan.changes.extend(differs)
    else:
        plan.kept.extend(differs)
        plan.why_kept = why if differs else ""
    touched = _touched(plan)
    if touched and (lead.last_touch_at is None or touched > lead.last_touch_at):
        plan.changes.append("last activity")
    # A conversation after everything Baton logged, and newer than the one it knows: reached as of then.
    contact_at = plan.contact_at
    if (
        contact_at
        and (lead.last_touch_at is None or contact_at >= lead.last_touch_at)
        and (lead.last_contact_at is None or contact_at > lead.last_contact_at)
    ):
        plan.changes.append("last contact")
    if plan.notes and plan.notes != lead.notes and (lead.notes is None or fresher):
        plan.changes.append("notes")
    if plan.opted_out_at and lead.opted_out_at is None:
        plan.changes.append("opted out")  # always: an opt-out is respected from any file
    status_after = row.status.value if "status" in plan.changes else lead.status
    new_reason = plan.lost_reason and plan.lost_reason != lead.lost_reason
    if new_reason and status_after == Status.LOST and (lead.lost_reason is None or fresher):
        plan.changes.append("lost reason")


def _latest(row: Row) -> datetime | None:
    dates = [d for d in (row.last_activity, row.last_contacted) if d is not None]
    return max(dates) if dates else None


def _touched(plan: "_LeadPlan") -> datetime | None:
    """The lead's last touch: a conversation is one, even when the file dates nothing else."""
    dates = [d for d in (_latest(plan.first), plan.contact_at) if d is not None]
    return max(dates) if dates else None


def _write(
    session: Session,
    team_id: str,
    by_key: dict[str, "_LeadPlan"],
    people: "_People",
    user_id: str,
    now: datetime,
    rules: Rules,
    tick: Callable[[int, int], None],
    count: int,
    team_days: frozenset[int],
) -> None:
    # Leads first, flushed a thousand at a time (multi-row INSERTs), then contacts: 10,000 rows are
    # a few dozen statements, not 20,000 round trips.
    own = {
        user: days
        for user, text in queries.people.own_workdays_of_team(session, team_id=team_id).items()
        if (days := own_workdays(text))
    }

    def calendars(owner: str) -> frozenset[int]:
        """The owner's working days: their own (`/coach me workdays`) or the team's."""
        return own.get(owner, team_days)

    for done, plan in enumerate(by_key.values(), start=1):
        if plan.lead is None:
            plan.lead = _new_lead(team_id, plan, user_id, now, rules, calendars)
            session.add(plan.lead)
        else:
            _update(plan.lead, plan, now, rules, calendars)
        if done % 1000 == 0:
            session.flush()
            tick(count + done, 2 * count)
    session.flush()
    for plan in by_key.values():
        assert plan.lead is not None
        for row in plan.rows:
            if row.line in plan.people:
                people.write(plan.lead, row, fresher=plan.fresher)
    session.flush()


def _owner_problems(rows: Sequence[Row], owners: dict[str, str], why: dict[str, str]) -> list[Problem]:
    """One problem per unknown owner, not per row: a file of 3,000 rows for one typo'd e-mail reads as one line."""
    lines: dict[str, list[int]] = {}
    for row in rows:
        if row.owner not in owners:
            lines.setdefault(row.owner, []).append(row.line)
    problems = []
    for owner, where in lines.items():
        also = ""
        if len(where) > 1:
            shown = ", ".join(str(line) for line in where[1:11])
            also = (
                f" (also row{'s' if len(where) > 2 else ''} {shown}{' and more' if len(where) > 11 else ''})"
            )
        if not owner:
            problems.append(Problem(where[0], f"no owner{also}: name one, or run with --default-owner"))
            continue
        reason = why.get(owner, "not someone in this Slack workspace")
        problems.append(Problem(where[0], f"owner {owner!r}{also}: {reason}"))
    return problems


def _follow_up(plan: "_LeadPlan", now: datetime, rules: Rules, workdays: frozenset[int]) -> date:
    """The next follow-up of an open lead that hasn't opted out, from the file's dates: never in the
    past, never on the owner's day off. A lead nobody has tried yet is due for its first try now, as
    one added with `/lead add` is; its creation date says nothing about when to call."""
    row = plan.first
    if plan.contact_at is not None:
        # After a conversation Baton checks back well before silence would count as a stall.
        due = max(plan.contact_at + timedelta(days=rules.after_contact_days), now)
    elif (latest := _latest(row)) is not None:
        due = max(latest + timedelta(days=rules.follow_up_days), now)
    else:
        due = now
    return next_working_day(due.date(), workdays)


def _closed_at(row: Row, now: datetime) -> datetime | None:
    # A deal won last spring is not a "recent win" on anyone's Home tab: close it when it last moved.
    # A file that dates nothing doesn't say when it closed: no date, rather than "won today".
    if row.status not in CLOSED:
        return None
    return _latest(row) or row.created


def _new_lead(
    team_id: str,
    plan: "_LeadPlan",
    user_id: str,
    now: datetime,
    rules: Rules,
    workdays: Callable[[str], frozenset[int]],
) -> Lead:
    row = plan.first
    active = row.status is Status.OPEN and plan.opted_out_at is None
    follow_up = (row.next_follow_up or _follow_up(plan, now, rules, workdays(plan.owner))) if active else None
    # A conversation ends the round of tries, unless the file says the tries came after it: Baton's
    # export writes "Reached: yes" with the tries since that conversation.
    attempts = 0 if plan.contact_at and row.said_reached is not True else row.attempts
    earlier = row.last_contacted if plan.contact_at is None and row.said_reached is False else None
    return Lead(
        team_id=team_id,
        name=row.lead,
        name_key=row.key,
        owner_id=plan.owner,
        created_by=user_id,
        status=row.status.value,
        created_at=row.created or now,
        closed_at=_closed_at(row, now),
        # An earlier conversation (see _earlier_round) is before the round of tries now counting.
        counting_since=earlier + _AFTER if earlier else None,
        attempt_baseline=attempts,
        attempts=attempts,
        reached=plan.contact_at is not None,
        ever_reached=plan.contact_at is not None or earlier is not None or row.status is Status.WON,
        crm_contact_at=plan.contact_at or earlier,
        last_contact_at=plan.contact_at or earlier,
        last_touch_at=_touched(plan),
        next_follow_up=follow_up,
        meeting_on=row.meeting_on if plan.opted_out_at is None else None,
        snoozed_until=row.snoozed_until if active else None,
        opted_out_at=plan.opted_out_at,
        lost_reason=plan.lost_reason,
        notes=plan.notes,
    )


# "Reached: no" beside a Last Contacted date (what Baton's export writes for a lead handed to a new
# owner after a conversation): the conversation happened, and the new round of tries began after it.
# The lead keeps its last two-way contact and counts its tries from just after it, as the hand-off did.
_AFTER = timedelta(seconds=1)


def _update(
    lead: Lead, plan: "_LeadPlan", now: datetime, rules: Rules, workdays: Callable[[str], frozenset[int]]
) -> None:
    row, changes = plan.first, plan.changes
    if "owner" in changes:
        lead.owner_id = plan.owner
    if "status" in changes:
        lead.status = row.status.value
        lead.closed_at = _closed_at(row, now)
        if row.status is not Status.LOST:
            lead.lost_reason = None
    if "attempts" in changes:
        # The file's count is the whole count (an export writes it so); Baton's own tries are part of it.
        logged = lead.attempts - lead.attempt_baseline
        lead.attempt_baseline = row.attempts - logged
        lead.attempts = row.attempts
    if "last activity" in changes:
        lead.last_touch_at = _touched(plan)
    if "last contact" in changes:
        # Newer than every touch Baton logged (or it wouldn't be a change): the round of tries is over.
        lead.crm_contact_at = lead.last_contact_at = plan.contact_at
        lead.reached = lead.ever_reached = True
        lead.attempts = lead.attempt_baseline = 0
    if "notes" in changes:
        lead.notes = plan.notes
    if "opted out" in changes:
        lead.opted_out_at = plan.opted_out_at
    if "lost reason" in changes:
        lead.lost_reason = plan.lost_reason
    if {"status", "last contact", "opted out"} & set(changes):
        active = lead.status == Status.OPEN and lead.opted_out_at is None
        lead.next_follow_up = _follow_up(plan, now, rules, workdays(lead.owner_id)) if active else None


class _People:
    """Contacts per lead, loaded once, so a contact named on every run of the file is recorded once."""

    def __init__(self, session: Session, user_id: str, now: datetime, known: Sequence[Contact]) -> None:
        self.session, self.user_id, self.now = session, user_id, now
        self.by_lead: dict[int, dict[str, Contact]] = {}
        for contact in known:
            self.by_lead.setdefault(contact.lead_id, {}).setdefault(name_key(contact.name), contact)
        self.planned: dict[tuple[int | str, str], str] = {}  # people seen in this file, per lead

    def plan(self, lead: Lead | None, row: Row, *, fresher: bool) -> str | None:
        """ "added", "updated" or None: what this row does to its person (the same person twice: once)."""
        if not row.person:
            return None
        seen = (lead.id if lead is not None else row.key, name_key(row.person))
        if seen in self.planned:
            return None
        contact = self.by_lead.get(lead.id, {}).get(seen[1]) if lead is not None else None
        if contact is None:
            self.planned[seen] = "added"
            return "added"
        changed = any(
            new is not None and new != old and (old is None or fresher)
            for new, old in ((row.role, contact.role), (row.email, contact.email), (row.phone, contact.phone))
        ) or (row.decision_maker and not contact.is_decision_maker)
        if changed:
            self.planned[seen] = "updated"
            return "updated"
        return None

    def write(self, lead: Lead, row: Row, *, fresher: bool) -> None:
        """What `plan` said: a stale file fills in what Baton lacks and replaces nothing."""
        assert row.person
        known = self.by_lead.setdefault(lead.id, {})
        contact = known.get(name_key(row.person))
        if contact is not None:
            if fresher:
                contact.role = row.role or contact.role
                contact.email = row.email or contact.email
                contact.phone = row.phone or contact.phone
            else:
                contact.role = contact.role or row.role
                contact.email = contact.email or row.email
                contact.phone = contact.phone or row.phone
            contact.is_decision_maker = contact.is_decision_maker or row.decision_maker
            return
        contact = Contact(
            team_id=lead.team_id,
            lead_id=lead.id,
            name=row.person,
            role=row.role,
            email=row.email,
            phone=row.phone,
            is_decision_maker=row.decision_maker,
            added_by=self.user_id,
            added_at=self.now,
        )
        self.session.add(contact)
        known[name_key(row.person)] = contact
