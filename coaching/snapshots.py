"""Plain, frozen pictures of stored things, handed from the use cases to the Slack layer.

Never ORM rows: a snapshot can't lazy-load, can't be changed by accident after the commit, and
can be built in a test without a database.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from coaching.rules import Outcome, Status
from store.models import Contact, Lead, Touch, TransferRequest


@dataclass(frozen=True)
class ContactSnapshot:
    id: int
    name: str
    role: str | None
    is_decision_maker: bool
    added_at: datetime
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class LeadSnapshot:
    id: int
    name: str
    owner_id: str
    status: Status
    created_at: datetime
    closed_at: datetime | None
    lost_reason: str | None
    opted_out_at: datetime | None
    attempts: int
    reached: bool
    ever_reached: bool
    last_touch_at: datetime | None
    last_contact_at: datetime | None
    next_follow_up: date | None
    meeting_on: date | None
    snoozed_until: date | None = None
    meeting_reminded: bool = False
    declined: bool = False
    counting_since: datetime | None = None  # the current round began: handed over, reopened, new contact

    @property
    def is_open(self) -> bool:
        return self.status is Status.OPEN


@dataclass(frozen=True)
class TouchSnapshot:
    id: int
    user_id: str
    outcome: Outcome
    at: datetime
    on: date  # the local day it happened, in the viewer's time zone
    meeting_on: date | None
    note: str


@dataclass(frozen=True)
class HandoffLine:
    """One hand-off in a lead's history."""

    from_owner: str
    to_user: str
    requested_by: str
    status: str  # pending, approved, rejected, moot
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    reason: str


def handoff_line(transfer: TransferRequest) -> HandoffLine:
    return HandoffLine(
        from_owner=transfer.from_owner,
        to_user=transfer.to_user,
        requested_by=transfer.requested_by,
        status=transfer.status,
        decided_by=transfer.decided_by,
        decided_at=transfer.decided_at,
        created_at=transfer.created_at,
        reason=transfer.reason,
    )


def lead_snapshot(lead: Lead) -> LeadSnapshot:
    return LeadSnapshot(
        id=lead.id,
        name=lead.name,
        owner_id=lead.owner_id,
        status=Status(lead.status),
        created_at=lead.created_at,
        closed_at=lead.closed_at,
        lost_reason=lead.lost_reason,
        opted_out_at=lead.opted_out_at,
        attempts=lead.attempts,
        reached=lead.reached,
        ever_reached=lead.ever_reached,
        last_touch_at=lead.last_touch_at,
        last_contact_at=lead.last_contact_at,
        next_follow_up=lead.next_follow_up,
        meeting_on=lead.meeting_on,
        snoozed_until=lead.snoozed_until,
        meeting_reminded=lead.meeting_reminded,
        declined=lead.declined,
        counting_since=lead.counting_since,
    )


def lead_from_row(row: Sequence[Any]) -> LeadSnapshot:
    """A snapshot from a row of `queries.nudge_leads`: the team, then the snapshot's fields in order.

    Positional on purpose: a morning's digests build a hundred thousand of these.
    """
    return LeadSnapshot(row[1], row[2], row[3], Status(row[4]), *row[5:])


class NudgeLead(NamedTuple):
    """What a digest, a review's "what is waiting" and an orphan alert read of a lead
    (`digest_contents.DigestLead`), and no more.

    A plain named tuple, not a frozen dataclass: a morning's digests read every open lead of the
    company, and building a `LeadSnapshot` (nineteen fields, each set through the frozen
    dataclass's `__setattr__`) cost more than all the rules a lead then goes through.
    """

    id: int
    name: str
    status: Status
    created_at: datetime
    opted_out_at: datetime | None
    attempts: int
    reached: bool
    last_touch_at: datetime | None
    last_contact_at: datetime | None
    next_follow_up: date | None
    meeting_on: date | None
    snoozed_until: date | None
    meeting_reminded: bool
    declined: bool
    counting_since: datetime | None


_STATUS = {status.value: status for status in Status}  # a dict lookup: `Status(value)` costs five times more


def nudge_lead_from_row(row: Sequence[Any]) -> NudgeLead:
    """A `NudgeLead` from a row of `queries.digests.owners_leads` (or `nudge_leads(…, brief=True)`):
    the team and the owner, then the tuple's fields in order."""
    return NudgeLead(row[2], row[3], _STATUS[row[4]], *row[5:])


def contact_snapshot(contact: Contact) -> ContactSnapshot:
    return ContactSnapshot(
        id=contact.id,
        name=contact.name,
        role=contact.role,
        is_decision_maker=contact.is_decision_maker,
        added_at=contact.added_at,
        email=contact.email,
        phone=contact.phone,
    )


def touch_snapshot(touch: Touch, tz: ZoneInfo) -> TouchSnapshot:
    return TouchSnapshot(
        id=touch.id,
        user_id=touch.user_id,
        outcome=Outcome(touch.outcome),
        at=touch.at,
        on=touch.at.astimezone(tz).date(),
        meeting_on=touch.meeting_on,
        note=touch.note,
    )
