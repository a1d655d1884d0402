"""What CRM records mean to Baton, and what Baton's touches and changes are in a CRM: pure rules.

The port (`CrmPort`) is what a CRM adapter implements (HubSpot's is bot/hubspot.py; Salesforce or
Pipedrive would be another), and these functions are the mapping every adapter shares: a lead is an
open deal, named after its company; a prospect is a contact with a lead status and no open deal; a
stage is won or lost by the pipeline's metadata, never by its label; a touch is an engagement.
Standard library only: no Slack, no SQL, no clock.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol

from coaching.rules import Outcome, Status

# ---- what a CRM hands Baton ----------------------------------------------------------------------


@dataclass(frozen=True)
class CrmOwner:
    id: str
    email: str
    name: str


@dataclass(frozen=True)
class CrmStage:
    id: str
    pipeline: str
    label: str
    order: int
    closed: bool
    probability: float | None  # 1.0 on a won stage, 0.0 on a lost one (HubSpot's metadata)


@dataclass(frozen=True)
class CrmPerson:
    id: str
    first: str
    last: str
    email: str
    phone: str
    title: str
    lead_status: str  # HubSpot's hs_lead_status: NEW, ATTEMPTED_TO_CONTACT, CONNECTED, …; "" when unset
    owner: str | None
    opted_out: bool  # unsubscribed from all e-mail (hs_email_optout)
    modified_at: datetime | None
    company: str | None = None  # the primary company's id
    archived: bool = False

    @property
    def name(self) -> str:
        return (
            " ".join(part for part in (self.first, self.last) if part) or self.email or f"Contact {self.id}"
        )


@dataclass(frozen=True)
class CrmDeal:
    id: str
    name: str
    stage: str
    pipeline: str
    owner: str | None
    created_at: datetime | None
    modified_at: datetime | None
    closed_lost_reason: str = ""
    company: str | None = None  # the primary company's id
    contacts: tuple[str, ...] = ()
    archived: bool = False


@dataclass(frozen=True)
class CrmCompany:
    id: str
    name: str


class EngagementKind(StrEnum):
    CALL = "calls"
    EMAIL = "emails"
    MEETING = "meetings"
    NOTE = "notes"


@dataclass(frozen=True)
class CrmEngagement:
    """An activity in the CRM: the first pull's history, or logged there since (a touch for Baton)."""

    id: str
    kind: EngagementKind
    at: datetime
    disposition: str = ""  # calls: the outcome id
    incoming: bool = False  # emails: the client wrote to the rep
    deals: tuple[str, ...] = ()
    ours: bool = False  # Baton pushed it (it carries a touch id): already in Baton's own log
    owner: str | None = None  # the CRM owner who logged it
    created_at: datetime | None = None  # when it was logged in the CRM (`at` is when it happened)
    contacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActivityTouch:
    """An activity logged straight into the CRM, as the touch it is in Baton's log."""

    outcome: Outcome
    at: datetime
    meeting_on: date | None


# ---- what Baton sends a CRM ----------------------------------------------------------------------


@dataclass(frozen=True)
class EngagementOut:
    """One touch as a new engagement: created once, found again by `touch_id` if the answer is lost."""

    touch_id: int
    kind: EngagementKind
    properties: dict[str, str]
    deal: str | None  # None: a prospect, a contact in the CRM with no deal (logged on the contact)
    contacts: tuple[str, ...]
    company: str | None


@dataclass(frozen=True)
class DealOut:
    """A lead added in Slack, as a new deal: created once, found again by `lead_id` if the answer is lost."""

    push_id: int
    lead_id: int
    properties: dict[str, str]


@dataclass(frozen=True)
class ContactOut:
    """A contact added or changed in Slack, as a HubSpot contact: upserted (by e-mail, or by
    `contact_id` when it has none), so sending it twice changes nothing more; then put on the
    lead's deal and on its company (HubSpot's own matching by e-mail domain misses a contact with
    no e-mail, or one on a personal address), each association made again harmlessly."""

    push_id: int
    contact_id: int
    properties: dict[str, str]
    email: str | None
    deal: str | None
    company: str | None = None  # the lead's company in the CRM, when a pull brought one


@dataclass(frozen=True)
class DealChange:
    """A deal's stage or owner, as Baton changed it."""

    push_id: int
    deal: str
    properties: dict[str, str]


@dataclass(frozen=True)
class PushResult:
    """What became of one push: the CRM's id for it, or why not, and whether to try again."""

    push_id: int
    crm_id: str | None = None
    error: str | None = None
    retry: bool = False  # a passing failure (429, 5xx): the same call later may work
    unknown: bool = False  # the answer was lost: it may have landed, look before creating again
    retry_after: float | None = None


class CrmPort(Protocol):
    """What the sync needs from a CRM. Adapters page, batch and pace as their CRM requires."""

    def owners(self) -> list[CrmOwner]: ...

    def stages(self) -> list[CrmStage]: ...

    def deals(self, *, since: datetime | None) -> Iterator[list[CrmDeal]]: ...

    def people(self, *, since: datetime | None) -> Iterator[list[CrmPerson]]: ...

    def archived(self, object_type: str) -> Iterator[list[str]]: ...

    def people_by_id(self, ids: Sequence[str]) -> list[CrmPerson]: ...

    def companies(self, ids: Sequence[str]) -> list[CrmCompany]: ...

    def history(self, *, since: datetime | None = None) -> Iterator[list[CrmEngagement]]: ...

    def prepare(self) -> None: ...

    def create_engagements(
        self, items: Sequence[EngagementOut], *, push_ids: dict[int, int]
    ) -> list[PushResult]: ...

    def find_engagements(
        self, items: Sequence[EngagementOut], *, push_ids: dict[int, int]
    ) -> list[PushResult]: ...

    def change_deals(self, changes: Sequence[DealChange]) -> list[PushResult]: ...

    def create_deals(self, deals: Sequence[DealOut]) -> list[PushResult]: ...

    def find_deals(self, deals: Sequence[DealOut]) -> list[PushResult]: ...

    def upsert_contacts(self, contacts: Sequence[ContactOut]) -> list[PushResult]: ...


# ---- reading a CRM ------------------------------------------------------------------------------


def status_of_stage(stage: CrmStage | None) -> Status:
    """Won and lost by the stage's metadata: an account may call its won stage anything."""
    if stage is None or not stage.closed:
        return Status.OPEN
    return Status.WON if (stage.probability or 0.0) >= 1.0 else Status.LOST


def lead_name(deal: CrmDeal, company: CrmCompany | None) -> str:
    """A Baton lead is named after the company it sells to; a deal without one by its own name."""
    name = " ".join((company.name if company else "").split())
    return name or " ".join(deal.name.split()) or f"Deal {deal.id}"


def second_name(name: str, deal: CrmDeal) -> str:
    """Two open deals at one company are two leads: the second is told apart by its deal's name."""
    own = " ".join(deal.name.split()) or deal.id
    return name if own.casefold() == name.casefold() else f"{name} ({own})"


# HubSpot's default lead statuses (hs_lead_status) as Baton reads them.
REACHED_LEAD_STATUSES = frozenset({"CONNECTED", "IN_PROGRESS", "OPEN_DEAL"})
LEAD_STATUS_TO_STATUS = {"UNQUALIFIED": Status.LOST, "BAD_TIMING": Status.BACKBURNER}


def prospect_status(person: CrmPerson) -> Status:
    return LEAD_STATUS_TO_STATUS.get(person.lead_status.upper(), Status.OPEN)


def prospect_reached(person: CrmPerson) -> bool:
    return person.lead_status.upper() in REACHED_LEAD_STATUSES


def stage_for(status: Status, stages: Sequence[CrmStage], pipeline: str) -> CrmStage | None:
    """The deal stage Baton's status moves a deal to, in the deal's own pipeline.

    Won and lost: the closed stage with probability 1 / 0. Back-burner: closed lost too (HubSpot's
    pipelines have no "parked"; the reason says it was parked, and Baton keeps it as back-burner).
    Reopened: the pipeline's first open stage.
    """
    own = sorted((s for s in stages if s.pipeline == pipeline), key=lambda s: s.order)
    if status is Status.OPEN:
        return next((s for s in own if not s.closed), None)
    if status is Status.WON:
        return next((s for s in own if s.closed and (s.probability or 0.0) >= 1.0), None)
    return next((s for s in own if s.closed and (s.probability or 0.0) < 1.0), None)


@dataclass(frozen=True)
class History:
    """What a lead's CRM history says, for a team coached from its past on day one."""

    attempts: int  # tries since the last two-way contact
    last_touch_at: datetime | None
    last_contact_at: datetime | None


# HubSpot's default call outcomes (hs_call_disposition): the ids every account starts with.
CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"
LEFT_VOICEMAIL = "b2cf5968-551e-4856-9783-52b3da59a7d0"
LEFT_LIVE_MESSAGE = "a4c4c377-d246-4b32-a13b-75a56a4cd0ff"
NO_ANSWER = "73a0d17f-1163-4015-bdd5-ec830791da20"
BUSY = "9d9162e7-6cf3-4944-bf63-4dff82258764"
WRONG_NUMBER = "17b47fee-58de-441e-a44c-c6300d46f273"


def is_two_way(engagement: CrmEngagement) -> bool | None:
    """True: the client talked with the rep; False: a try; None: not a touch (a note)."""
    if engagement.kind is EngagementKind.NOTE:
        return None
    if engagement.kind is EngagementKind.MEETING:
        return True
    if engagement.kind is EngagementKind.EMAIL:
        return engagement.incoming
    return engagement.disposition == CONNECTED


def history_of(engagements: Iterable[CrmEngagement]) -> History:
    """Attempts since the last conversation, the last touch and the last conversation.
    Engagements Baton pushed itself are left out: they are touches in Baton's own log."""
    touches = sorted(
        ((e.at, two_way) for e in engagements if not e.ours and (two_way := is_two_way(e)) is not None),
        key=lambda pair: pair[0],
    )
    last_contact = max((at for at, two_way in touches if two_way), default=None)
    attempts = sum(
        1 for at, two_way in touches if not two_way and (last_contact is None or at > last_contact)
    )
    return History(
        attempts=attempts,
        last_touch_at=touches[-1][0] if touches else None,
        last_contact_at=last_contact,
    )


def activity_touch(engagement: CrmEngagement, *, now: datetime) -> ActivityTouch | None:
    """What a call, e-mail or meeting logged in the CRM is as a touch; None for a note (not a
    touch) or Baton's own engagement (already in its log). A meeting set for a later day was
    booked when it was logged: a touch of that moment, with the meeting on its day."""
    if engagement.ours or engagement.kind is EngagementKind.NOTE:
        return None
    if engagement.kind is EngagementKind.MEETING:
        if engagement.at > now:
            return ActivityTouch(
                Outcome.MEETING, min(engagement.created_at or now, now), engagement.at.date()
            )
        return ActivityTouch(Outcome.MEETING, engagement.at, engagement.at.date())
    at = min(engagement.at, now)
    if engagement.kind is EngagementKind.EMAIL:
        return ActivityTouch(Outcome.REPLIED if engagement.incoming else Outcome.EMAIL, at, None)
    outcome = {
        CONNECTED: Outcome.CONNECTED,
        LEFT_VOICEMAIL: Outcome.VOICEMAIL,
        LEFT_LIVE_MESSAGE: Outcome.VOICEMAIL,
        NO_ANSWER: Outcome.NO_ANSWER,
        BUSY: Outcome.NO_ANSWER,
    }.get(engagement.disposition, Outcome.CALL)  # wrong number, an account's own outcome, none: a try
    return ActivityTouch(outcome, at, None)


# ---- writing to a CRM ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TouchFacts:
    touch_id: int
    outcome: Outcome
    at: datetime
    note: str
    meeting_on: date | None
    lead_name: str
    crm_owner: str | None


CALL_DISPOSITION = {
    Outcome.CONNECTED: CONNECTED,
    Outcome.NOT_INTERESTED: CONNECTED,
    Outcome.OPT_OUT: CONNECTED,
    Outcome.VOICEMAIL: LEFT_VOICEMAIL,
    Outcome.NO_ANSWER: NO_ANSWER,
}
OUTCOME_WORDS = {
    Outcome.NOT_INTERESTED: "Not interested",
    Outcome.OPT_OUT: "Asked not to be contacted",
}
TOUCH_ID_PROPERTY = "baton_touch_id"  # a unique property on each engagement type: our marker
LEAD_ID_PROPERTY = "baton_lead_id"  # the same on deals: a deal Baton created for a lead added in Slack
CONTACT_ID_PROPERTY = "baton_contact_id"  # and on contacts: what a contact with no e-mail is upserted by


def contact_properties(
    *, name: str, role: str | None, email: str | None, phone: str | None
) -> dict[str, str]:
    """A contact's HubSpot properties: the name split at its first space (HubSpot has first and
    last names), and only what the rep gave, so an upsert never blanks what HubSpot knows."""
    first, _, last = name.partition(" ")
    props = {"firstname": first, "lastname": last}
    for prop, value in (("jobtitle", role), ("email", email), ("phone", phone)):
        if value:
            props[prop] = value
    return props


def deal_properties(*, lead_id: int, name: str, stage: CrmStage, crm_owner: str | None) -> dict[str, str]:
    """A lead added in Slack as a deal: its name, the stage its status means in the default
    pipeline, the rep's CRM owner when they have one (HubSpot takes a deal with none), our marker."""
    props = {
        "dealname": name,
        "pipeline": stage.pipeline,
        "dealstage": stage.id,
        LEAD_ID_PROPERTY: str(lead_id),
    }
    if crm_owner:
        props["hubspot_owner_id"] = crm_owner
    return props


def engagement_kind(outcome: Outcome) -> EngagementKind:
    if outcome in (Outcome.EMAIL, Outcome.REPLIED):
        return EngagementKind.EMAIL
    if outcome is Outcome.MEETING:
        return EngagementKind.MEETING
    if outcome in CALL_DISPOSITION:
        return EngagementKind.CALL
    return EngagementKind.NOTE  # a call logged without an outcome: what happened isn't known


def _ms(at: datetime) -> str:
    return str(int(at.astimezone(UTC).timestamp() * 1000))


def engagement_properties(touch: TouchFacts) -> dict[str, str]:
    """The engagement's properties: its kind's own fields, timed at the touch, with the rep's note."""
    kind = engagement_kind(touch.outcome)
    words = OUTCOME_WORDS.get(touch.outcome)
    note = f"{words}. {touch.note}".strip() if words else touch.note
    props = {"hs_timestamp": _ms(touch.at), TOUCH_ID_PROPERTY: str(touch.touch_id)}
    if touch.crm_owner:
        props["hubspot_owner_id"] = touch.crm_owner
    if kind is EngagementKind.CALL:
        props |= {
            "hs_call_title": f"Call with {touch.lead_name}",
            "hs_call_body": note,
            "hs_call_disposition": CALL_DISPOSITION[touch.outcome],
            "hs_call_status": "COMPLETED",
            "hs_call_direction": "OUTBOUND",
        }
    elif kind is EngagementKind.EMAIL:
        incoming = touch.outcome is Outcome.REPLIED
        props |= {
            "hs_email_subject": f"{'Reply from' if incoming else 'E-mail to'} {touch.lead_name}",
            "hs_email_text": note,
            "hs_email_direction": "INCOMING_EMAIL" if incoming else "EMAIL",
            "hs_email_status": "SENT",
        }
    elif kind is EngagementKind.MEETING:
        start = (
            datetime.combine(touch.meeting_on, time(12), tzinfo=UTC)
            if touch.meeting_on is not None
            else touch.at
        )
        booked = touch.meeting_on is not None and start > touch.at
        props |= {
            "hs_meeting_title": f"Meeting with {touch.lead_name}",
            "hs_meeting_body": note,
            "hs_meeting_start_time": _ms(start),
            "hs_meeting_end_time": _ms(start + timedelta(hours=1)),
            "hs_meeting_outcome": "SCHEDULED" if booked else "COMPLETED",
        }
    else:
        props["hs_note_body"] = f"Call logged in Slack (outcome not given). {note}".strip()
    return props


@dataclass(frozen=True)
class PullCounts:
    """What one pull did, for the report."""

    leads_added: int = 0
    leads_updated: int = 0
    leads_unchanged: int = 0
    prospects_added: int = 0
    contacts_added: int = 0
    closed: int = 0  # deals won or lost in the CRM
    archived: int = 0
    owner_changes: int = 0
    kept_by_baton: int = 0  # changed in both: Baton's unsent change stands
    histories: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # why → how many
