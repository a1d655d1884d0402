"""Hand-off results: what a transfer, an operations hand-off or a new contact comes back as."""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from coaching.calendar import local_date
from coaching.finding import DraftRefused, WhichLead
from coaching.leads import BadName, ContactSaved, NotAllowed
from coaching.people import zone
from coaching.rules import GroundRule, Rules, Status, ground_rule
from coaching.snapshots import ContactSnapshot, LeadSnapshot, lead_snapshot
from coaching.tips import Tip
from store import queries
from store.models import TransferRequest


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
    # The lead as the managers weighed it: as it is while the request waits, as it was at the
    # decision once decided (a move resets the attempts; the card keeps what was decided on).
    facts: LeadSnapshot
    to_user_today: date  # the proposed owner's own date, for "your first try is due tomorrow"

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
    session: Session,
    transfer: TransferRequest,
    *,
    now: datetime,
    rules: Rules,
    decided_on: LeadSnapshot | None = None,
) -> TransferSnapshot:
    """The request and its lead now; `decided_on` is the lead as the decision found it, before any move."""
    lead = queries.leads.lead(session, team_id=transfer.team_id, lead_id=transfer.lead_id)
    assert lead is not None  # the foreign key cascades deletes
    picture = lead_snapshot(lead)
    facts = decided_on or picture
    owner = queries.people.rep(session, team_id=transfer.team_id, user_id=transfer.from_owner)
    receiver = queries.people.rep(session, team_id=transfer.team_id, user_id=transfer.to_user)
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
            facts,
            owner=transfer.from_owner,
            requested_by=transfer.requested_by,
            to_user=transfer.to_user,
            now=transfer.decided_at or now,
            rules=rules,
            tz=zone(owner.tz if owner else None),  # the owner's days decide how long it sat untouched
        ),
        rules=rules,
        now=now,
        facts=facts,
        to_user_today=local_date(now, zone(receiver.tz if receiver else None)),
    )


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
