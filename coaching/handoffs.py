"""Hand-offs: a lead to another owner (a manager decides), a customer to operations, the rep to a new contact.

Longer than most modules: the three hand-offs share the /handoff command, its results and the
posts remembered to update them; the operations hand-off could move out once it grows further.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coaching import finding
from coaching.calendar import in_send_window, local_date, working_days_between
from coaching.caller import Caller
from coaching.digest_records import Kind, Recipient, claim_for_today
from coaching.finding import DraftRefused, WhichLead
from coaching.leads import (
    BadName,
    Change,
    ContactSaved,
    NotAllowed,
    change_status,
    locked,
    may_change,
    refresh_progress,
    save_contact,
)
from coaching.parsing import ContactWords, clean, read_contact, read_mention, words
from coaching.people import managers, own_workdays, zone
from coaching.rules import CLOSED, GroundRule, Rules, Status, ground_rule
from coaching.settings import TeamConfig, team_config
from coaching.snapshots import ContactSnapshot, LeadSnapshot, contact_snapshot, lead_snapshot
from coaching.tips import Situation, Tip, tip
from store import queries
from store.models import Lead, OpsHandoff, PostedMessage, TransferRequest

COMMAND = "handoff"
RESURFACE_AFTER_WORKING_DAYS = 2
OPS_WORDS = ("ops", "operations", "operation")
SELF_WORDS = ("@me", "me", "@myself", "myself")
TRANSFER = "transfer"  # PostedMessage subjects
OPS = "ops"


class TransferStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    MOOT = "moot"  # the lead was won, lost or moved before anyone decided


class MovedOn(StrEnum):
    """What made a waiting request moot."""

    WON = "won"
    LOST = "lost"
    MOVED = "moved"  # to another owner (the lead's owner now)
    CLOSED = "closed"  # a manager's own hand-off replaced it, or it changed back meanwhile


@dataclass(frozen=True)
class TransferSnapshot:
    id: int
    lead: LeadSnapshot
    from_owner: str
    to_user: str
    requested_by: str
    reason: str
    status: TransferStatus
    decided_by: str | None
    decided_at: datetime | None
    note: str | None
    created_at: datetime
    rule: GroundRule
    rules: Rules
    now: datetime  # when this picture was taken, for "asked 3 days ago"

    @property
    def moved_on(self) -> "MovedOn":
        """Why a request is moot: what happened to its lead before anyone decided."""
        if self.lead.status is Status.WON:
            return MovedOn.WON
        if self.lead.status is Status.LOST:
            return MovedOn.LOST
        return MovedOn.MOVED if self.lead.owner_id != self.from_owner else MovedOn.CLOSED

    @property
    def people(self) -> tuple[str, ...]:
        """Who hears about the decision: the requester, the old owner and the proposed owner, once each."""
        return tuple(dict.fromkeys((self.requested_by, self.from_owner, self.to_user)))


def transfer_snapshot(
    session: Session, transfer: TransferRequest, *, now: datetime, rules: Rules
) -> TransferSnapshot:
    lead = queries.leads.lead(session, team_id=transfer.team_id, lead_id=transfer.lead_id)
    assert lead is not None  # the foreign key cascades deletes
    picture = lead_snapshot(lead)
    owner = queries.people.rep(session, team_id=transfer.team_id, user_id=transfer.from_owner)
    return TransferSnapshot(
        id=transfer.id,
        lead=picture,
        from_owner=transfer.from_owner,
        to_user=transfer.to_user,
        requested_by=transfer.requested_by,
        reason=transfer.reason,
        status=TransferStatus(transfer.status),
        decided_by=transfer.decided_by,
        decided_at=transfer.decided_at,
        note=transfer.decision_note,
        created_at=transfer.created_at,
        rule=ground_rule(
            picture,
            owner=transfer.from_owner,
            requested_by=transfer.requested_by,
            to_user=transfer.to_user,
            now=now,
            rules=rules,
            tz=zone(owner.tz if owner else None),  # the owner's days decide how long it sat untouched
        ),
        rules=rules,
        now=now,
    )


# ---- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferAsked:
    """A request waiting for a manager; the handler posts it to them."""

    transfer: TransferSnapshot
    managers: tuple[str, ...]
    manager_channel: str | None


@dataclass(frozen=True)
class Decided:
    transfer: TransferSnapshot  # approved, rejected or moot


@dataclass(frozen=True)
class AlreadyDecided:
    transfer: TransferSnapshot


@dataclass(frozen=True)
class NotAManager:
    transfer: TransferSnapshot


@dataclass(frozen=True)
class Unknown:
    """No such request or hand-off in this workspace (a stale button, another team's, a forged id)."""


class Refusal(StrEnum):
    SAME_OWNER = "same_owner"
    PENDING = "pending"
    NO_MANAGERS = "no_managers"
    CLOSED = "closed"
    NOT_A_COLLEAGUE = "not_a_colleague"  # a bot, a deactivated account, or someone Slack doesn't know
    NO_OPS_CHANNEL = "no_ops_channel"  # nowhere to hand a customer to operations: said before the form


@dataclass(frozen=True)
class HandoffRefused:
    refusal: Refusal
    lead: LeadSnapshot
    person: str | None = None
    pending: TransferSnapshot | None = None


@dataclass(frozen=True)
class HandoffHelp:
    problem: str | None = None


@dataclass(frozen=True)
class OpsForm:
    """`/handoff LEAD ops` without notes: the handler opens the hand-off form for this lead."""

    lead: LeadSnapshot


@dataclass(frozen=True)
class OpsHandoffSnapshot:
    id: int
    lead: LeadSnapshot
    rep_id: str
    sold: str
    timeline: str
    notes: str
    contacts: tuple[ContactSnapshot, ...]
    created_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None


@dataclass(frozen=True)
class OpsHandedOff:
    handoff: OpsHandoffSnapshot
    ops_channel: str | None
    newly_won: bool


@dataclass(frozen=True)
class OpsClaimed:
    handoff: OpsHandoffSnapshot


@dataclass(frozen=True)
class OpsAlreadyClaimed:
    handoff: OpsHandoffSnapshot


@dataclass(frozen=True)
class HandedToContact:
    saved: ContactSaved
    lead: LeadSnapshot
    cleared_opt_out: bool  # the lead had an opt-out, which was the previous person's
    tip: Tip


HandoffResult = (
    TransferAsked
    | Decided
    | HandoffRefused
    | HandoffHelp
    | OpsForm
    | OpsHandedOff
    | HandedToContact
    | WhichLead
    | DraftRefused
    | NotAllowed
    | BadName
)


# What only /handoff answers: a parked /handoff finished by a click is answered by its handler.
HANDED_OFF = (TransferAsked, Decided, HandoffRefused, HandoffHelp, OpsForm, OpsHandedOff, HandedToContact)


# ---- /handoff ---------------------------------------------------------------------------------------


def handoff_command(session: Session, caller: Caller, text: str) -> HandoffResult:
    cleaned = clean(text).text
    if not words(cleaned) or cleaned.casefold() == "help":
        return HandoffHelp()
    found = finding.find_or_ask(
        session,
        team_id=caller.team_id,
        user_id=caller.user_id,
        command=COMMAND,
        text=cleaned,
        today=caller.today,
        now=caller.now,
    )
    if isinstance(found, WhichLead):
        return found
    return handoff(session, caller, lead=found.lead, rest=found.match.rest)


def handoff(session: Session, caller: Caller, *, lead: Lead, rest: str) -> HandoffResult:
    """What follows the lead's name decides the kind: `@person`, `ops`, or `contact`."""
    target = read_mention(rest)
    if target is not None:
        to_user, reason = target
        return request_transfer(session, caller, lead=lead, to_user=to_user, reason=reason)
    ws = words(rest)
    first = ws[0].text.casefold() if ws else ""
    after = rest[ws[0].end :].strip() if ws else ""
    if first in SELF_WORDS:
        # `@me` names the rep typing (Slack links only real names, so it arrives as typed).
        return request_transfer(session, caller, lead=lead, to_user=caller.user_id, reason=after)
    if first in OPS_WORDS:
        if caller.config.ops_channel is None:
            return HandoffRefused(Refusal.NO_OPS_CHANNEL, lead_snapshot(lead))
        if not after:
            return OpsForm(lead_snapshot(lead))
        return hand_to_ops(session, caller, lead=lead, sold="", timeline="", notes=after)
    if first == "contact":
        return hand_to_contact(session, caller, lead=lead, words_read=read_contact(after))
    return HandoffHelp(f"Who should *{lead.name}* go to? Mention them: `/handoff {lead.name} @jane why`.")


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
        _settle(session, pending, status=TransferStatus.MOOT, by=caller.user_id, now=caller.now, note=None)
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
        _settle(
            session, transfer, status=TransferStatus.APPROVED, by=caller.user_id, now=caller.now, note=None
        )
        _move(session, lead, transfer.to_user, caller)
        return Decided(transfer_snapshot(session, transfer, now=caller.now, rules=caller.rules))
    return TransferAsked(
        transfer_snapshot(session, transfer, now=caller.now, rules=caller.rules),
        managers=team_managers,
        manager_channel=caller.config.manager_channel,
    )


DecideResult = Decided | AlreadyDecided | NotAManager | Unknown


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
    if not _settle(
        session, transfer, status=outcome, by=caller.user_id, now=caller.now, note=written or None
    ):
        session.refresh(transfer)
        return AlreadyDecided(transfer_snapshot(session, transfer, now=caller.now, rules=caller.rules))
    if outcome is TransferStatus.APPROVED:
        _move(session, lead, transfer.to_user, caller)
    return Decided(transfer_snapshot(session, transfer, now=caller.now, rules=caller.rules))


def _settle(
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


def _move(session: Session, lead: Lead, to_user: str, caller: Caller) -> None:
    """A hand-off is a fresh start: the new owner's attempts count from zero (the history stays),
    and their first move is due on their next working day."""
    lead.owner_id = to_user
    lead.counting_since = caller.now
    lead.attempt_baseline = 0
    refresh_progress(
        session,
        lead,
        tz=caller.tz,
        rules=caller.rules,
        today=caller.today,
        team_days=caller.config.digest_days,
    )


# ---- requests still waiting --------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """A request to show the managers again, or one closed because its lead moved on meanwhile."""

    team_id: str
    transfer: TransferSnapshot
    managers: tuple[str, ...]
    manager_channel: str | None


def sweep_waiting(
    session: Session, *, now: datetime, defaults: TeamConfig
) -> tuple[list[Waiting], list[Waiting]]:
    """Requests to re-surface and requests now moot.

    A request waiting for a decision is shown to each manager again on their own working
    morning (their digest time, in their time zone, on their working days) once it has waited 2
    of their working days, and every 2 working days after that; once a day at most. A team with
    a managers' channel is reminded there on its first manager's morning. A manager Baton has no
    profile for yet is left for a later tick (the clock looks them up: never a guessed UTC morning).

    Returns (resurface, mooted); the caller posts and updates the messages after the commit.
    """
    resurface: list[Waiting] = []
    mooted: list[Waiting] = []
    due: dict[tuple[str, str], list[TransferRequest]] = {}  # (team, manager or channel) -> requests
    recipients: dict[tuple[str, str], Recipient] = {}
    contexts: dict[str, tuple[TeamConfig, tuple[str, ...]]] = {}
    for transfer in queries.handoffs.pending_transfers(session):
        if transfer.team_id not in contexts:
            config = team_config(session, team_id=transfer.team_id, defaults=defaults)
            team_managers = tuple(managers(session, team_id=transfer.team_id, configured=config.manager_ids))
            contexts[transfer.team_id] = (config, team_managers)
        config, team_managers = contexts[transfer.team_id]
        lead = queries.leads.lead(
            session, team_id=transfer.team_id, lead_id=transfer.lead_id, for_update=True
        )
        assert lead is not None
        if Status(lead.status) in CLOSED or lead.owner_id != transfer.from_owner:
            if _settle(session, transfer, status=TransferStatus.MOOT, by="baton", now=now, note=None):
                snapshot = transfer_snapshot(session, transfer, now=now, rules=config.rules)
                mooted.append(Waiting(transfer.team_id, snapshot, team_managers, config.manager_channel))
            continue
        audience = team_managers[:1] if config.manager_channel else team_managers
        for manager in audience:
            rep = queries.people.rep(session, team_id=transfer.team_id, user_id=manager)
            if rep is None:
                continue
            tz = zone(rep.tz)
            workdays = own_workdays(rep.workdays) or config.digest_days
            local_now = now.astimezone(tz)
            if not in_send_window(local_now, at=config.digest_time, workdays=workdays):
                continue
            waited = working_days_between(local_date(transfer.created_at, tz), local_now.date(), workdays)
            if waited >= RESURFACE_AFTER_WORKING_DAYS and waited % RESURFACE_AFTER_WORKING_DAYS == 0:
                key = (transfer.team_id, config.manager_channel or manager)
                due.setdefault(key, []).append(transfer)
                recipients[key] = Recipient(transfer.team_id, key[1], rep.tz, local_now.date(), workdays)
    # Once a day per manager (or channel), whatever the number of ticks in their morning.
    taken = claim_for_today(session, list(recipients.values()), kind=Kind.REMINDERS, now=now)
    told: dict[int, list[str]] = {}
    requests: dict[int, TransferRequest] = {}
    for recipient in taken:
        for transfer in due[recipient.key]:
            told.setdefault(transfer.id, []).append(recipient.user_id)
            requests[transfer.id] = transfer
    for transfer_id, people in told.items():
        transfer = requests[transfer_id]
        config, _ = contexts[transfer.team_id]
        transfer.resurfaced_at = now
        snapshot = transfer_snapshot(session, transfer, now=now, rules=config.rules)
        if config.manager_channel:
            resurface.append(
                Waiting(transfer.team_id, snapshot, contexts[transfer.team_id][1], config.manager_channel)
            )
        else:
            resurface.append(Waiting(transfer.team_id, snapshot, tuple(people), None))
    return resurface, mooted


# ---- where requests and cards were posted, to change them later ------------------------------------


def remember_posts(
    session: Session,
    *,
    team_id: str,
    subject: str,
    subject_id: int,
    posted: list[tuple[str, str]],
    now: datetime,
) -> None:
    for channel, ts in posted:
        message = PostedMessage(
            team_id=team_id, subject=subject, subject_id=subject_id, channel=channel, ts=ts, posted_at=now
        )
        session.add(message)


def posts(session: Session, *, team_id: str, subject: str, subject_id: int) -> list[tuple[str, str]]:
    return [
        (p.channel, p.ts)
        for p in queries.handoffs.posted_messages(
            session, team_id=team_id, subject=subject, subject_id=subject_id
        )
    ]


# ---- a signed customer to operations ----------------------------------------------------------------


def hand_to_ops_by_id(
    session: Session, caller: Caller, *, lead_id: int, sold: str, timeline: str, notes: str
) -> OpsHandedOff | NotAllowed | Unknown:
    """The hand-off form's submission: the lead is read again, it may have changed since."""
    lead = queries.leads.lead(session, team_id=caller.team_id, lead_id=lead_id)
    if lead is None:
        return Unknown()
    return hand_to_ops(session, caller, lead=lead, sold=sold, timeline=timeline, notes=notes)


def hand_to_ops(
    session: Session, caller: Caller, *, lead: Lead, sold: str, timeline: str, notes: str
) -> OpsHandedOff | NotAllowed:
    """Mark the lead won (a customer now) and record the hand-off; the rep stays the sales contact."""
    was = Status(lead.status)
    if was is not Status.WON:
        changed = change_status(
            session,
            lead=lead,
            user_id=caller.user_id,
            is_manager=caller.is_manager,
            change=Change.WON,
            reason="",
            now=caller.now,
            tz=caller.tz,
            rules=caller.rules,
            team_days=caller.config.digest_days,
        )
        if isinstance(changed, NotAllowed):
            return changed
    unposted = queries.handoffs.unposted_ops_handoff(
        session, team_id=caller.team_id, lead_id=lead.id, subject=OPS
    )
    if unposted is not None:
        # A hand-off whose card never reached operations (Slack refused, or it failed on the way):
        # this one replaces it, so a retry leaves one record, not an orphan beside a second.
        handoff = unposted
        handoff.rep_id = caller.user_id
        handoff.sold, handoff.timeline = clean(sold).text, clean(timeline).text
        handoff.notes = clean(notes).text
    else:
        handoff = OpsHandoff(
            team_id=caller.team_id,
            lead_id=lead.id,
            rep_id=caller.user_id,
            sold=clean(sold).text,
            timeline=clean(timeline).text,
            notes=clean(notes).text,
            created_at=caller.now,
        )
        session.add(handoff)
    session.flush()
    return OpsHandedOff(
        ops_snapshot(session, handoff), caller.config.ops_channel, newly_won=was is not Status.WON
    )


def claim_ops(
    session: Session, caller: Caller, *, handoff_id: int
) -> OpsClaimed | OpsAlreadyClaimed | Unknown:
    """Someone in operations takes the customer; the first click wins."""
    handoff = queries.handoffs.ops_handoff(session, team_id=caller.team_id, handoff_id=handoff_id)
    if handoff is None:
        return Unknown()
    claimed = session.execute(
        update(OpsHandoff)
        .where(OpsHandoff.id == handoff_id, OpsHandoff.claimed_by.is_(None))
        .values(claimed_by=caller.user_id, claimed_at=caller.now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(handoff)
    if claimed != 1:
        return OpsAlreadyClaimed(ops_snapshot(session, handoff))
    return OpsClaimed(ops_snapshot(session, handoff))


def ops_snapshot(session: Session, handoff: OpsHandoff) -> OpsHandoffSnapshot:
    lead = queries.leads.lead(session, team_id=handoff.team_id, lead_id=handoff.lead_id)
    assert lead is not None
    return OpsHandoffSnapshot(
        id=handoff.id,
        lead=lead_snapshot(lead),
        rep_id=handoff.rep_id,
        sold=handoff.sold,
        timeline=handoff.timeline,
        notes=handoff.notes,
        contacts=tuple(
            contact_snapshot(c)
            for c in queries.leads.contacts(session, team_id=handoff.team_id, lead_id=handoff.lead_id)
        ),
        created_at=handoff.created_at,
        claimed_by=handoff.claimed_by,
        claimed_at=handoff.claimed_at,
    )


# ---- the client handed the rep to someone new -----------------------------------------------------------


def hand_to_contact(
    session: Session, caller: Caller, *, lead: Lead, words_read: ContactWords
) -> HandoffResult:
    lead = locked(session, lead)
    if not may_change(lead, user_id=caller.user_id, is_manager=caller.is_manager):
        return NotAllowed(lead_snapshot(lead), Change.NEW_CONTACT)
    saved = save_contact(
        session,
        lead=lead,
        user_id=caller.user_id,
        person=words_read.person,
        role=words_read.role,
        decision_maker=words_read.decision_maker,
        now=caller.now,
    )
    if isinstance(saved, BadName):
        return saved
    # A new person: a fresh round of attempts, due now. An opt-out was the previous person's.
    cleared = lead.opted_out_at is not None
    lead.opted_out_at = None
    lead.counting_since = caller.now
    lead.attempt_baseline = 0
    refresh_progress(
        session,
        lead,
        tz=caller.tz,
        rules=caller.rules,
        today=caller.today,
        team_days=caller.config.digest_days,
    )
    return HandedToContact(
        ContactSaved(lead_snapshot(lead), saved.contact, saved.updated, words_read),
        lead_snapshot(lead),
        cleared_opt_out=cleared,
        tip=tip(Situation.HANDED_TO_NEW_CONTACT, seed=lead.id),
    )
