"""Importing a CRM export into a team's pipeline. All or nothing, and safe to repeat."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from coaching.crm_file import Problem, Row
from coaching.parsing import name_key
from coaching.rules import CLOSED, Rules, Status
from store import queries
from store.models import Contact, Lead


class Action(StrEnum):
    ADD = "add"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    CONTACT = "contact"  # another row for a company already in the file: one more contact on its lead


@dataclass(frozen=True)
class Planned:
    line: int
    action: Action
    lead: str
    owner: str
    status: Status
    person: str | None
    changes: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # what the file says differently, kept as Baton has it (Baton is newer)


@dataclass(frozen=True)
class ImportPlan:
    rows: tuple[Planned, ...]
    problems: tuple[Problem, ...]

    def count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action is action)

    @property
    def ok(self) -> bool:
        return not self.problems


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
) -> ImportPlan:
    """Plan every row; write only when `write` and nothing is wrong (the caller's transaction makes it atomic).

    `owners` maps each owner as written in the file (an e-mail, a Slack id) to a Slack user id;
    an owner missing from it is a problem for that row, explained by `unknown` when known.
    """
    problems = _owner_problems(rows, owners, unknown or {})
    existing = queries.leads_by_keys(session, team_id, sorted({row.key for row in rows}))
    planned: list[Planned] = []
    first: dict[str, Row] = {}  # the row that decides each lead; later rows only add contacts
    total = 2 * len(rows) if write else len(rows)  # planning a row, then writing it
    tick = progress or (lambda done, total: None)
    for done, row in enumerate(rows, start=1):
        tick(done, total)
        owner = owners.get(row.owner, row.owner)  # as written, when it is the problem
        action = Action.CONTACT
        changes: tuple[str, ...] = ()
        kept: tuple[str, ...] = ()
        if row.key not in first:
            first[row.key] = row
            lead = existing.get(row.key)
            if lead is None:
                action = Action.ADD
            else:
                changes, kept = _differences(lead, row, owner)
                action = Action.UPDATE if changes else Action.UNCHANGED
        planned.append(Planned(row.line, action, row.lead, owner, row.status, row.person, changes, kept))
    plan = ImportPlan(tuple(planned), tuple(problems))
    if write and plan.ok:
        _write(session, team_id, plan, rows, first, existing, owners, user_id, now, rules, tick)
    tick(total, total)
    return plan


def _write(
    session: Session,
    team_id: str,
    plan: ImportPlan,
    rows: Sequence[Row],
    first: dict[str, Row],
    existing: dict[str, Lead],
    owners: dict[str, str],
    user_id: str,
    now: datetime,
    rules: Rules,
    tick: Callable[[int, int], None],
) -> None:
    # Leads first, flushed a thousand at a time (multi-row INSERTs), then contacts: 10,000 rows are
    # a few dozen statements, not 20,000 round trips.
    by_key = dict(existing)
    changes = {row.line: row.changes for row in plan.rows}
    for done, (key, row) in enumerate(first.items(), start=1):
        lead = existing.get(key)
        if lead is None:
            by_key[key] = _new_lead(team_id, row, owners[row.owner], user_id, now, rules)
            session.add(by_key[key])
        else:
            _update(lead, row, owners[row.owner], now, rules, changes[row.line])
        if done % 1000 == 0:
            session.flush()
            tick(len(rows) + done, 2 * len(rows))
    session.flush()
    known = queries.contacts_of_leads(session, team_id, [lead.id for lead in existing.values()])
    people = _People(session, user_id, now, known)
    for row in rows:
        people.add(by_key[row.key], row)
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
        reason = why.get(owner, "not someone in this Slack workspace")
        problems.append(Problem(where[0], f"owner {owner!r}{also}: {reason}"))
    return problems


def _follow_up(row: Row, now: datetime, rules: Rules) -> datetime | None:
    if row.status is not Status.OPEN:
        return None
    base = row.last_activity or row.created or now
    return max(base + timedelta(days=rules.follow_up_days), now)


def _closed_at(row: Row, now: datetime) -> datetime | None:
    # A deal won last spring is not a "recent win" on anyone's Home tab: close it when it last moved.
    if row.status not in CLOSED:
        return None
    return row.last_activity or row.created or now


def _new_lead(team_id: str, row: Row, owner: str, user_id: str, now: datetime, rules: Rules) -> Lead:
    follow_up = _follow_up(row, now, rules)
    return Lead(
        team_id=team_id,
        name=row.lead,
        name_key=row.key,
        owner_id=owner,
        created_by=user_id,
        status=row.status.value,
        created_at=row.created or now,
        closed_at=_closed_at(row, now),
        counting_since=None,
        attempt_baseline=row.attempts,
        attempts=row.attempts,
        reached=False,
        ever_reached=row.status is Status.WON,
        last_touch_at=row.last_activity,
        next_follow_up=follow_up.date() if follow_up else None,
    )


def _differences(lead: Lead, row: Row, owner: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(what the row changes, what it would have changed but Baton knows better).

    A file older than the lead's last logged touch is stale for that lead: re-running last month's
    export must not undo a hand-off, a win or the calls reps have logged since. Without a last
    activity date the file is taken as current, as whoever runs it intends.
    """
    fresher = (
        row.last_activity is None or lead.last_touch_at is None or row.last_activity >= lead.last_touch_at
    )
    differs = []
    if lead.owner_id != owner:
        differs.append("owner")
    if lead.status != row.status.value:
        differs.append("status")
    if row.attempts > lead.attempts:  # counts only move up: a connect resets them in Baton
        differs.append("attempts")
    changes = differs if fresher else []
    if row.last_activity and (lead.last_touch_at is None or row.last_activity > lead.last_touch_at):
        changes.append("last activity")
    return tuple(changes), () if fresher else tuple(differs)


def _update(lead: Lead, row: Row, owner: str, now: datetime, rules: Rules, changes: tuple[str, ...]) -> None:
    if "owner" in changes:
        lead.owner_id = owner
    if "status" in changes:
        lead.status = row.status.value
        lead.closed_at = _closed_at(row, now)
        follow_up = _follow_up(row, now, rules)
        lead.next_follow_up = follow_up.date() if follow_up else None
    if "attempts" in changes:
        # The file's count is the whole count (an export writes it so); Baton's own tries are part of it.
        logged = lead.attempts - lead.attempt_baseline
        lead.attempt_baseline = row.attempts - logged
        lead.attempts = row.attempts
    if "last activity" in changes:
        lead.last_touch_at = row.last_activity


class _People:
    """Contacts per lead, loaded once, so a contact named on every run of the file is recorded once."""

    def __init__(self, session: Session, user_id: str, now: datetime, known: Sequence[Contact]) -> None:
        self.session, self.user_id, self.now = session, user_id, now
        self.by_lead: dict[int, dict[str, Contact]] = {}
        for contact in known:
            self.by_lead.setdefault(contact.lead_id, {}).setdefault(name_key(contact.name), contact)

    def add(self, lead: Lead, row: Row) -> None:
        if not row.person:
            return
        known = self.by_lead.setdefault(lead.id, {})
        contact = known.get(name_key(row.person))
        if contact is not None:
            contact.role = row.role or contact.role
            contact.is_decision_maker = contact.is_decision_maker or row.decision_maker
            return
        contact = Contact(
            team_id=lead.team_id,
            lead_id=lead.id,
            name=row.person,
            role=row.role,
            is_decision_maker=row.decision_maker,
            added_by=self.user_id,
            added_at=self.now,
        )
        self.session.add(contact)
        known[name_key(row.person)] = contact
