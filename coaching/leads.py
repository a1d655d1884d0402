"""Lead use cases behind /lead: add, show, close as won or lost, back-burner, reopen, contacts, opt-out."""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coaching import crm_push
from coaching.calendar import local_date, next_working_day
from coaching.parsing import MAX_EMAIL, MAX_LEAD_NAME, MAX_PHONE, ContactWords, name_key
from coaching.people import workdays_of
from coaching.rules import (
    CLOSED,
    Outcome,
    Rules,
    Stage,
    Status,
    TouchFact,
    first_contact,
    is_past_sales_cycle,
    is_stalled,
    overdue_days,
    progress,
    stage,
)
from coaching.snapshots import (
    ContactSnapshot,
    HandoffLine,
    LeadSnapshot,
    TouchSnapshot,
    contact_snapshot,
    handoff_line,
    lead_snapshot,
    touch_snapshot,
)
from store import queries
from store.models import Contact, Lead, StatusChange

HISTORY_SHOWN = 10


@dataclass(frozen=True)
class LeadExists:
    lead: LeadSnapshot


@dataclass(frozen=True)
class BadName:
    reason: str


@dataclass(frozen=True)
class LeadAdded:
    lead: LeadSnapshot


def valid_lead_name(name: str) -> str | None:
    """Why `name` can't be a lead name, or None."""
    if not name.strip():
        return "A lead needs a name, e.g. `/lead add Acme Corp`."
    if len(name) > MAX_LEAD_NAME:
        return f"Lead names can be up to {MAX_LEAD_NAME} characters; that one has {len(name):,}."
    return None


def create_lead(
    session: Session, *, team_id: str, owner_id: str, name: str, now: datetime, tz: ZoneInfo
) -> Lead | LeadExists | BadName:
    name = " ".join(name.split())
    problem = valid_lead_name(name)
    if problem:
        return BadName(problem)
    key = name_key(name)
    existing = queries.leads.lead_by_key(session, team_id=team_id, key=key)
    if existing is not None:
        return LeadExists(lead_snapshot(existing))
    lead = Lead(
        team_id=team_id,
        name=name,
        name_key=key,
        owner_id=owner_id,
        created_by=owner_id,
        status=Status.OPEN.value,
        created_at=now,
        counting_since=None,
        attempt_baseline=0,
        attempts=0,
        reached=False,
        ever_reached=False,
        next_follow_up=local_date(now, tz),
    )
    try:
        # A savepoint, so a rep adding the same lead at the same moment costs only this insert.
        with session.begin_nested():
            session.add(lead)
    except IntegrityError:
        raced = queries.leads.lead_by_key(session, team_id=team_id, key=key)
        if raced is None:
            raise
        return LeadExists(lead_snapshot(raced))
    crm_push.owe_deal(session, lead, now=now)  # a team that syncs with a CRM has it there too
    return lead


def add_lead(
    session: Session, *, team_id: str, user_id: str, name: str, now: datetime, tz: ZoneInfo
) -> LeadAdded | LeadExists | BadName:
    created = create_lead(session, team_id=team_id, owner_id=user_id, name=name, now=now, tz=tz)
    if isinstance(created, Lead):
        return LeadAdded(lead_snapshot(created))
    return created


def refresh_progress(
    session: Session,
    lead: Lead,
    *,
    tz: ZoneInfo,
    rules: Rules,
    today: date,
    team_days: frozenset[int],
    owner_days: frozenset[int] | None = None,
    logging: TouchFact | None = None,
) -> int:
    """Recompute the lead's cached progress from its whole touch log (back-dated touches included);
    how many touches the log has.

    Follow-ups land on the owner's working days (their own, or the team's); an opt-out clears the
    follow-up and the meeting at once, so no screen reminds anyone of either. `owner_days`, when
    the caller already knows them, saves reading the owner's profile. `logging`: a touch being
    logged in this transaction and not yet written, counted as the newest in the log (written
    after, it is: its id is the highest).
    """
    workdays = owner_days or workdays_of(
        session, team_id=lead.team_id, user_id=lead.owner_id, team_days=team_days
    )
    facts = [
        TouchFact(at, Outcome(outcome), meeting)
        for at, outcome, meeting in queries.history.touch_facts(session, lead.id)
    ]
    if logging is not None:  # in the log's order (at, then id): after every touch at or before it
        facts.insert(bisect_right([fact.at for fact in facts], logging.at), logging)
    logged = len(facts)
    first = first_contact(facts)  # Baton's own log: a CRM's last conversation has no tries before it
    lead.first_contact_at = first.at if first else None
    lead.first_contact_tries = first.tries if first else None
    if lead.crm_contact_at is not None:
        # The last conversation the CRM knew of counts as two-way contact before Baton's own log.
        facts.append(TouchFact(lead.crm_contact_at, Outcome.CONNECTED))
    summary = progress(
        facts,
        counting_since=lead.counting_since,
        baseline_attempts=lead.attempt_baseline,
        tz=tz,
        rules=rules,
        today=today,
        workdays=workdays,
    )
    opted_out = lead.opted_out_at is not None
    lead.attempts = summary.attempts
    lead.reached = summary.reached
    lead.ever_reached = summary.ever_reached
    lead.last_touch_at = summary.last_touch_at
    lead.last_contact_at = summary.last_contact_at
    lead.meeting_on = None if opted_out else summary.meeting_on
    lead.meeting_reminded = summary.meeting_reminded
    lead.declined = summary.declined
    active = lead.status == Status.OPEN and not opted_out
    follow_up = summary.next_follow_up if active else None
    if follow_up is not None and lead.snoozed_until is not None and follow_up < lead.snoozed_until:
        # A snooze holds: the digest leaves the lead out until then, so nothing may count it due.
        follow_up = next_working_day(lead.snoozed_until, workdays)
    lead.next_follow_up = follow_up
    return logged


# ---- /lead show ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadDetail:
    lead: LeadSnapshot
    contacts: tuple[ContactSnapshot, ...]
    history: tuple[TouchSnapshot, ...]  # newest first
    touch_total: int
    handoffs: tuple[HandoffLine, ...]  # newest first
    stage: Stage
    stalled: bool
    past_cycle: bool
    rules: Rules
    today: date
    notes: str | None = None  # the lead's first note, from a CRM's Notes column
    overdue_days: int = 0  # working days, counted as everywhere else


def lead_detail(
    session: Session,
    *,
    team_id: str,
    lead: Lead,
    now: datetime,
    tz: ZoneInfo,
    rules: Rules,
    team_days: frozenset[int],
) -> LeadDetail:
    today = local_date(now, tz)
    # Overdue counts the owner's working days, as /pipeline and the digest count them.
    workdays = workdays_of(session, team_id=team_id, user_id=lead.owner_id, team_days=team_days)
    return LeadDetail(
        lead=lead_snapshot(lead),
        contacts=tuple(
            contact_snapshot(c) for c in queries.leads.contacts(session, team_id=team_id, lead_id=lead.id)
        ),
        history=tuple(
            touch_snapshot(t, tz)
            for t in queries.history.recent_touches(
                session, team_id=team_id, lead_id=lead.id, limit=HISTORY_SHOWN
            )
        ),
        touch_total=queries.history.touch_count(session, team_id=team_id, lead_id=lead.id),
        handoffs=tuple(
            handoff_line(t)
            for t in queries.handoffs.transfers_for_lead(session, team_id=team_id, lead_id=lead.id)
        ),
        stage=stage(lead.attempts, reached=lead.reached, rules=rules),
        stalled=lead.status == Status.OPEN
        and is_stalled(lead.last_contact_at, reached=lead.reached, now=now, rules=rules, tz=tz),
        past_cycle=lead.status == Status.OPEN
        and is_past_sales_cycle(lead.created_at, now=now, rules=rules, tz=tz),
        rules=rules,
        today=today,
        notes=lead.notes,
        overdue_days=overdue_days(lead.next_follow_up, today, workdays),
    )


# ---- won, lost, back-burner, reopen, opt-out -------------------------------------------------


class Change(StrEnum):
    WON = "won"
    LOST = "lost"
    BACKBURNER = "backburner"
    REOPEN = "reopen"
    OPT_OUT = "optout"
    # Not statuses, but changes only the owner or a manager may make (see may_change):
    NEW_CONTACT = "contact"  # the client handed the rep to someone new: attempts restart, opt-out cleared
    SNOOZE = "snooze"


@dataclass(frozen=True)
class StatusChanged:
    lead: LeadSnapshot
    change: Change
    before: Status
    by: str


@dataclass(frozen=True)
class NoChange:
    """Already so: a double click or a repeated command changes nothing."""

    lead: LeadSnapshot
    change: Change


@dataclass(frozen=True)
class NotAllowed:
    lead: LeadSnapshot
    change: Change


def locked(session: Session, lead: Lead) -> Lead:
    """The lead, its row locked until the transaction ends, as it is now.

    Every change to a lead's progress takes this lock first, so two at once are done one after the
    other: each recomputes the progress from a touch log that includes the other's touch (on
    PostgreSQL ten simultaneous no-answers used to count 7).
    """
    fresh = queries.leads.lead(session, team_id=lead.team_id, lead_id=lead.id, for_update=True)
    assert fresh is not None  # the row exists: the caller holds it
    return fresh


def may_change(lead: Lead, *, user_id: str, is_manager: bool) -> bool:
    """A lead's course (its status, snoozes, who is being chased, an opt-out lifted) is its owner's
    or a manager's to change. Checked against the lead as it is now, not as a button remembers it."""
    return user_id == lead.owner_id or is_manager


TARGET = {Change.WON: Status.WON, Change.LOST: Status.LOST, Change.BACKBURNER: Status.BACKBURNER}


def change_status(
    session: Session,
    *,
    lead: Lead,
    user_id: str,
    is_manager: bool,
    change: Change,
    reason: str,
    now: datetime,
    tz: ZoneInfo,
    rules: Rules,
    team_days: frozenset[int],
) -> StatusChanged | NoChange | NotAllowed:
    """Only the owner or a manager closes, parks or reopens a lead; anyone may record an opt-out."""
    lead = locked(session, lead)
    if change is not Change.OPT_OUT and not may_change(lead, user_id=user_id, is_manager=is_manager):
        return NotAllowed(lead_snapshot(lead), change)
    before = Status(lead.status)
    if change is Change.OPT_OUT:
        if lead.opted_out_at is not None:
            return NoChange(lead_snapshot(lead), change)
        lead.opted_out_at = now
        lead.next_follow_up = None
        lead.meeting_on = None  # no reminder, no "how did it go": nothing that chases them
    elif change is Change.REOPEN:
        if before is Status.OPEN:
            return NoChange(lead_snapshot(lead), change)
        lead.status = Status.OPEN.value
        lead.closed_at = None
        lead.lost_reason = None
        # A reopened lead starts a fresh round of attempts, due today.
        lead.counting_since = now
        lead.attempt_baseline = 0
        refresh_progress(session, lead, tz=tz, rules=rules, today=local_date(now, tz), team_days=team_days)
    else:
        target = TARGET[change]
        if before is target and (change is not Change.LOST or not reason or reason == lead.lost_reason):
            return NoChange(lead_snapshot(lead), change)
        lead.status = target.value
        lead.closed_at = now if target in CLOSED else None
        lead.lost_reason = reason or None if target is Status.LOST else None
        lead.next_follow_up = None
    if change is not Change.OPT_OUT:  # the weekly review counts what was won, lost and parked
        crm_push.owe_stage(session, lead, now=now)  # the CRM deal's stage follows, owed with the change
        session.add(
            StatusChange(
                team_id=lead.team_id,
                lead_id=lead.id,
                owner_id=lead.owner_id,
                by=user_id,
                status=lead.status,
                at=now,
            )
        )
    return StatusChanged(lead_snapshot(lead), change, before, user_id)


# ---- contacts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactSaved:
    lead: LeadSnapshot
    contact: ContactSnapshot
    updated: bool  # an existing person's role or decision-maker flag changed
    words: ContactWords | None = None  # how a typed line was split, to show the rep


@dataclass(frozen=True)
class ContactRemoved:
    lead: LeadSnapshot
    name: str  # as it was saved


def remove_contact(
    session: Session, *, lead: Lead, user_id: str, is_manager: bool, person: str
) -> ContactRemoved | BadName:
    """`/lead uncontact LEAD PERSON`: a contact saved wrong (a mis-split name, a duplicate) taken off the
    lead, by the lead's owner or a manager. The person is named as the card shows them (case and
    spacing aside); the touches logged with them stay in the history."""
    if lead.owner_id != user_id and not is_manager:
        return BadName("Only the lead's owner or a manager can remove one of its contacts. Nothing changed.")
    known = list(queries.leads.contacts(session, team_id=lead.team_id, lead_id=lead.id))
    wanted = name_key(person.split(",")[0])
    for contact in known:
        if name_key(contact.name) == wanted:
            session.delete(contact)
            session.flush()
            return ContactRemoved(lead_snapshot(lead), contact.name)
    names = ", ".join(f"“{c.name}”" for c in known) or "none yet"
    return BadName(f"{lead.name} has no contact called “{person}” (its contacts: {names}). Nothing changed.")


def save_contact(
    session: Session,
    *,
    lead: Lead,
    user_id: str,
    person: str,
    role: str | None,
    decision_maker: bool,
    now: datetime,
    email: str | None = None,
    phone: str | None = None,
) -> ContactSaved | BadName:
    person = " ".join(person.split())
    if not person:
        return BadName("Who is the contact? e.g. `/lead contact Acme Corp Jane Doe CFO dm`.")
    if len(person) > 200 or (role is not None and len(role) > 200):
        return BadName("Contact names and roles can be up to 200 characters.")
    if (email is not None and len(email) > MAX_EMAIL) or (phone is not None and len(phone) > MAX_PHONE):
        return BadName(f"An e-mail can be up to {MAX_EMAIL} characters and a phone number up to {MAX_PHONE}.")
    for existing in queries.leads.contacts(session, team_id=lead.team_id, lead_id=lead.id):
        if name_key(existing.name) == name_key(person):
            existing.role = role or existing.role
            existing.is_decision_maker = existing.is_decision_maker or decision_maker
            existing.email = email or existing.email
            existing.phone = phone or existing.phone
            crm_push.owe_contact(session, lead, existing, now=now)
            return ContactSaved(lead_snapshot(lead), contact_snapshot(existing), updated=True)
    contact = Contact(
        team_id=lead.team_id,
        lead_id=lead.id,
        name=person,
        role=role,
        is_decision_maker=decision_maker,
        email=email,
        phone=phone,
        added_by=user_id,
        added_at=now,
    )
    session.add(contact)
    session.flush()
    crm_push.owe_contact(session, lead, contact, now=now)  # the CRM has the lead's people too
    return ContactSaved(lead_snapshot(lead), contact_snapshot(contact), updated=False)


# ---- pickers -----------------------------------------------------------------------------------

PICKER_SIZE = 50


def lead_label(session: Session, *, team_id: str, lead_id: int) -> tuple[int, str] | None:
    lead = queries.leads.lead(session, team_id=team_id, lead_id=lead_id)
    return (lead.id, lead.name) if lead else None


def lead_and_owner(session: Session, *, team_id: str, lead_id: int) -> tuple[int, str, str] | None:
    """The lead's id, name and owner, for the Hand off form (which must not offer it to its owner)."""
    lead = queries.leads.lead(session, team_id=team_id, lead_id=lead_id)
    return (lead.id, lead.name, lead.owner_id) if lead else None


def picker_options(session: Session, *, team_id: str, user_id: str, query: str) -> list[tuple[int, str]]:
    """Leads for the modal's picker: the caller's most urgent open leads, or names matching the query."""
    key = name_key(query)
    if key:
        rows = queries.leads.search_leads(session, team_id=team_id, key=key, limit=PICKER_SIZE)
    else:
        rows = queries.leads.owned_leads(
            session, team_id=team_id, owner_id=user_id, statuses=[Status.OPEN.value], limit=PICKER_SIZE
        )
    return [(row.id, row.name) for row in rows]
