"""Transfers: a lead to another owner, asked of the managers or moved by one, and the decision."""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coaching import crm_push
from coaching.calendar import local_date, next_working_day
from coaching.caller import Caller
from coaching.handoff_results import (
    AlreadyDecided,
    Decided,
    HandoffRefused,
    HandoffResult,
    NotAManager,
    Refusal,
    TransferAsked,
    TransferStatus,
    Unknown,
    transfer_snapshot,
)
from coaching.leads import locked, refresh_progress
from coaching.parsing import clean
from coaching.people import managers, own_workdays, zone
from coaching.rules import CLOSED, Status
from coaching.snapshots import lead_snapshot
from store import queries
from store.models import Lead, TransferRequest


def request_transfer(
    session: Session, caller: Caller, *, lead: Lead, to_user: str, reason: str
) -> HandoffResult:
    """Ask the managers to move `lead` to `to_user`; a manager asking moves it at once.

    The lead is locked first, so of two requests at once the second sees the first's; the
    database's own rule (one pending request per lead) catches any path that doesn't lock.
    """
    lead = locked(session, lead)
    picture = lead_snapshot(lead)
    if Status(lead.status) in CLOSED:
        return HandoffRefused(Refusal.CLOSED, picture)
    if to_user == lead.owner_id:
        return HandoffRefused(Refusal.SAME_OWNER, picture, person=to_user)
    colleague = queries.people.rep(session, team_id=caller.team_id, user_id=to_user)
    if colleague is None or colleague.is_bot or colleague.deactivated:
        return HandoffRefused(Refusal.NOT_A_COLLEAGUE, picture, person=to_user)
    pending = queries.handoffs.pending_transfer(session, team_id=caller.team_id, lead_id=lead.id)
    if pending is not None and not caller.is_manager:
        waiting = transfer_snapshot(session, pending, now=caller.now, rules=caller.rules)
        return HandoffRefused(Refusal.PENDING, picture, pending=waiting)
    team_managers = tuple(managers(session, team_id=caller.team_id, configured=caller.config.manager_ids))
    if not caller.is_manager and not team_managers and caller.config.manager_channel is None:
        return HandoffRefused(Refusal.NO_MANAGERS, picture)
    if caller.is_manager and pending is not None:
        # A manager's own hand-off needs no approval; a request still waiting on this lead is moot.
        settle(session, pending, status=TransferStatus.MOOT, by=caller.user_id, now=caller.now, note=None)
    transfer = TransferRequest(
        team_id=caller.team_id,
        lead_id=lead.id,
        from_owner=lead.owner_id,
        to_user=to_user,
        requested_by=caller.user_id,
        reason=reason,
        status=TransferStatus.PENDING.value,
        created_at=caller.now,
    )
    try:
        with session.begin_nested():
            session.add(transfer)
            session.flush()
    except IntegrityError:
        # Another request for this lead got there first: show the rep the one that is waiting.
        first = queries.handoffs.pending_transfer(session, team_id=caller.team_id, lead_id=lead.id)
        shown = transfer_snapshot(session, first, now=caller.now, rules=caller.rules) if first else None
        return HandoffRefused(Refusal.PENDING, picture, pending=shown)
    if caller.is_manager:
        settle(
            session, transfer, status=TransferStatus.APPROVED, by=caller.user_id, now=caller.now, note=None
        )
        move(session, lead, transfer.to_user, caller)
        return Decided(
            transfer_snapshot(session, transfer, now=caller.now, rules=caller.rules, decided_on=picture)
        )
    return TransferAsked(
        transfer_snapshot(session, transfer, now=caller.now, rules=caller.rules),
        managers=team_managers,
        manager_channel=caller.config.manager_channel,
    )


DecideResult = Decided | AlreadyDecided | NotAManager | Unknown


def may_decide(session: Session, caller: Caller, *, transfer_id: int) -> NotAManager | Unknown | None:
    """Whether the caller may decide this request (None: yes), asked before a form opens for it, so a
    rep pressing "Reject with a reason…" is told at the click, not after writing the reason."""
    transfer = queries.handoffs.transfer(session, team_id=caller.team_id, transfer_id=transfer_id)
    if transfer is None:
        return Unknown()
    if not caller.is_manager:
        return NotAManager(transfer_snapshot(session, transfer, now=caller.now, rules=caller.rules))
    return None


def decide(
    session: Session, caller: Caller, *, transfer_id: int, approve: bool, note: str | None
) -> DecideResult:
    """A manager's Approve or Reject. Exactly one decision wins, however many clicks race."""
    transfer = queries.handoffs.transfer(session, team_id=caller.team_id, transfer_id=transfer_id)
    if transfer is None:
        return Unknown()
    if not caller.is_manager:
        return NotAManager(transfer_snapshot(session, transfer, now=caller.now, rules=caller.rules))
    if transfer.status != TransferStatus.PENDING:
        return AlreadyDecided(transfer_snapshot(session, transfer, now=caller.now, rules=caller.rules))
    # Lock the lead before the request (the same order everywhere), and check it again now:
    # it may have been won, lost or moved since the request was made.
    lead = queries.leads.lead(session, team_id=caller.team_id, lead_id=transfer.lead_id, for_update=True)
    assert lead is not None
    moot = Status(lead.status) in CLOSED or lead.owner_id != transfer.from_owner
    outcome = TransferStatus.MOOT if moot else TransferStatus.APPROVED if approve else TransferStatus.REJECTED
    written = clean(note).text if note else None
    if not settle(session, transfer, status=outcome, by=caller.user_id, now=caller.now, note=written or None):
        session.refresh(transfer)
        return AlreadyDecided(transfer_snapshot(session, transfer, now=caller.now, rules=caller.rules))
    decided_on = lead_snapshot(lead)
    if outcome is TransferStatus.APPROVED:
        move(session, lead, transfer.to_user, caller)
    return Decided(
        transfer_snapshot(session, transfer, now=caller.now, rules=caller.rules, decided_on=decided_on)
    )


def settle(
    session: Session,
    transfer: TransferRequest,
    *,
    status: TransferStatus,
    by: str,
    now: datetime,
    note: str | None,
) -> bool:
    """Record the decision if nobody has yet; False when another click got there first."""
    changed = session.execute(
        update(TransferRequest)
        .where(TransferRequest.id == transfer.id, TransferRequest.status == TransferStatus.PENDING.value)
        .values(status=status.value, decided_by=by, decided_at=now, decision_note=note)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if changed == 1:
        session.refresh(transfer)
    return bool(changed == 1)


def move(session: Session, lead: Lead, to_user: str, caller: Caller) -> None:
    """A hand-off is a fresh start: the new owner's attempts count from zero (the history stays),
    and their first try is due on their own next working day, in their own time zone.

    Not the decider's day: a lead approved on a Tuesday evening in Chicago reaches London on
    Wednesday, and a first try due "today" in Chicago would greet its new owner as overdue. Not
    today either: a lead handed over late in someone's day should not be overdue by their morning.
    """
    owner = queries.people.rep(session, team_id=caller.team_id, user_id=to_user)
    tz = zone(owner.tz) if owner else caller.tz
    workdays = own_workdays(owner.workdays if owner else None) or caller.config.digest_days
    first_try = next_working_day(local_date(caller.now, tz) + timedelta(days=1), workdays)
    lead.owner_id = to_user
    crm_push.owe_owner(session, lead, now=caller.now)  # the CRM deal's owner follows
    lead.counting_since = caller.now
    lead.attempt_baseline = 0
    lead.snoozed_until = None  # the previous owner's snooze: the new owner starts from their own day
    refresh_progress(
        session,
        lead,
        tz=tz,
        rules=caller.rules,
        today=first_try,
        team_days=caller.config.digest_days,
    )
