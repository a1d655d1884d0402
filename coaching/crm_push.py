"""What Baton owes the CRM: every touch, close and approved transfer, owed in the change's transaction.

The Slack outbox's discipline (coaching/outbox.py), for the CRM: a row is `pending` until a sender
takes it under a lease (`sending`); the sender records `sent` with the CRM's id, a passing failure
(`pending` again after a back-off), a lasting one (`failed`), or `unknown` when the CRM's answer was
lost. A touch whose push is `unknown`, or `sending` past its lease, is looked for in the CRM (by the
touch id it carries) before it is created again: one engagement per touch, whatever is lost.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from coaching.crm_mapping import (
    ContactOut,
    CrmStage,
    DealChange,
    DealOut,
    EngagementOut,
    PushResult,
    TouchFacts,
    contact_properties,
    deal_properties,
    engagement_kind,
    engagement_properties,
    stage_for,
)
from coaching.rules import Outcome, Status
from store import crm_sync as rows
from store.models import Contact, CrmLink, CrmPush, Lead, Touch

LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(minutes=30)
UNKNOWN_RECHECK = timedelta(seconds=5)  # look for a lost create soon: it is read back, not searched
MAX_ATTEMPTS = 20  # with the back-off capped at 30 minutes: most of a working day, then recorded
DEAL_WAIT = timedelta(seconds=10)  # a push waiting for its lead's deal, being created by another sender
TOUCH, STAGE, OWNER, DEAL, CONTACT = "touch", "stage", "owner", "deal", "contact"


def _owe(
    session: Session,
    *,
    lead: Lead,
    kind: str,
    now: datetime,
    touch_id: int | None = None,
    value: str | None = None,
) -> None:
    for crm in rows.connected(session, team_id=lead.team_id):
        rows.add_push(
            session,
            CrmPush(
                team_id=lead.team_id,
                crm=crm,
                kind=kind,
                lead_id=lead.id,
                touch_id=touch_id,
                value=value,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            ),
        )


def owe_touch(session: Session, lead: Lead, touch_id: int, *, now: datetime) -> None:
    """A touch logged in Slack: an engagement owed to every CRM the team syncs with (none: nothing)."""
    _owe(session, lead=lead, kind=TOUCH, now=now, touch_id=touch_id)


def owe_deal(session: Session, lead: Lead, *, now: datetime) -> None:
    """A lead added in Slack: a deal owed to every CRM the team syncs with, so the team's pipeline
    in the CRM has it too (and its touches have a deal to go on)."""
    _owe(session, lead=lead, kind=DEAL, now=now)


def owe_contact(session: Session, lead: Lead, contact: Contact, *, now: datetime) -> None:
    """A contact added or changed in Slack: the CRM gets it too, on the lead's deal and company."""
    _owe(session, lead=lead, kind=CONTACT, now=now, value=str(contact.id))


def owe_stage(session: Session, lead: Lead, *, now: datetime) -> None:
    """Won, lost, back-burnered or reopened in Slack: the deal's stage follows."""
    _owe(session, lead=lead, kind=STAGE, now=now, value=lead.status)


def owe_owner(session: Session, lead: Lead, *, now: datetime) -> None:
    """A transfer approved in Slack (or a lead reassigned): the deal's owner follows."""
    _owe(session, lead=lead, kind=OWNER, now=now, value=lead.owner_id)


# ---- sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    """One sender's share of the queue: what to create, what to look for first, what to change."""

    create: tuple[EngagementOut, ...]
    look_first: tuple[EngagementOut, ...]  # a previous attempt may have reached the CRM
    deal_changes: tuple[DealChange, ...]
    push_of_touch: dict[int, int]  # touch id → push id
    skipped: int
    new_deals: tuple[DealOut, ...] = ()
    deals_look_first: tuple[DealOut, ...] = ()  # a previous attempt may have created the deal
    contacts: tuple[ContactOut, ...] = ()
    waiting: int = 0  # pushes put back until their lead's deal exists

    @property
    def empty(self) -> bool:
        return not (
            self.create
            or self.look_first
            or self.deal_changes
            or self.new_deals
            or self.deals_look_first
            or self.contacts
        )


def take(
    session: Session,
    *,
    team_id: str,
    crm: str,
    owner: str,
    now: datetime,
    stages: list[CrmStage],
    limit: int = 100,
) -> Taken:
    """Take up to `limit` due pushes (one batch call's worth) and say what each is in CRM terms.
    A lead added in Slack becomes a deal first; its touches, stage and owner wait for it. A push
    the CRM can't take (its owner has no CRM owner, a prospect's stage) is recorded as failed with
    the reason, so the report shows it."""
    due = rows.due_pushes(session, team_id=team_id, crm=crm, now=now, limit=limit)
    taken = [
        row for row in due if rows.take_push(session, row, owner=owner, now=now, lease_until=now + LEASE)
    ]
    leads = rows.leads_by_id(session, sorted({row.lead_id for row in taken}))
    touches = rows.touches_by_id(session, sorted({row.touch_id for row in taken if row.touch_id}))
    people = rows.contacts_by_id(
        session, sorted({int(row.value or 0) for row in taken if row.kind == CONTACT})
    )
    contacts: list[ContactOut] = []
    deal_pushes = rows.deal_pushes(session, crm=crm, lead_ids=sorted(leads))
    creating = {row.lead_id for row in taken if row.kind == DEAL}
    create: list[EngagementOut] = []
    look_first: list[EngagementOut] = []
    changes: list[DealChange] = []
    new_deals: list[DealOut] = []
    deals_look_first: list[DealOut] = []
    push_of_touch: dict[int, int] = {}
    skipped = waiting = 0
    latest: dict[tuple[int, str], CrmPush] = {}

    def fail(row: CrmPush, why: str) -> None:
        nonlocal skipped
        skipped += 1
        rows.finish_push(session, row.id, owner=owner, status="failed", finished_at=now, error=why)

    for row in taken:
        if row.kind in (STAGE, OWNER):
            earlier = latest.get((row.lead_id, row.kind))
            if earlier is not None:  # the same deal changed twice before a send: the last change counts
                rows.finish_push(
                    session, earlier.id, owner=owner, status="sent", finished_at=now, error="superseded"
                )
            latest[(row.lead_id, row.kind)] = row
    for row in taken:
        lead = leads.get(row.lead_id)
        if lead is None:
            fail(row, "the lead was deleted")
            continue
        links = rows.links_of_lead(session, team_id=team_id, crm=crm, lead_id=row.lead_id)
        deal = next((link for link in links if link.object_type == "deal" and not link.archived), None)
        if row.kind == DEAL:
            if deal is not None:  # a pull adopted the lead for a deal of its name, or it was linked
                rows.finish_push(
                    session,
                    row.id,
                    owner=owner,
                    status="sent",
                    finished_at=now,
                    crm_id=deal.crm_id,
                    error=None,
                )
                continue
            out = _new_deal(session, row, lead=lead, team_id=team_id, crm=crm, stages=stages)
            if isinstance(out, str):
                fail(row, out)
            else:
                (deals_look_first if row.status in ("sending", "unknown") else new_deals).append(out)
            continue
        prospect = deal is None and any(link.object_type == "contact" and not link.archived for link in links)
        if deal is None and not (row.kind in (TOUCH, CONTACT) and prospect):
            if links:
                fail(row, "the lead is a contact in the CRM, not a deal")
                continue
            until = _deal_first(session, row, lead=lead, creating=creating, deal_pushes=deal_pushes, now=now)
            if isinstance(until, str):
                fail(row, until)
            else:
                waiting += 1
                # Back as it was (its attempts too): waiting for the deal is not a failed try.
                rows.finish_push(
                    session,
                    row.id,
                    owner=owner,
                    status="pending",
                    next_attempt_at=until,
                    attempts=row.attempts,
                )
            continue
        if row.kind == TOUCH:
            touch = touches.get(row.touch_id or 0)
            if touch is None:
                fail(row, "touch deleted")
                continue
            out_touch = _engagement(
                session, team_id=team_id, crm=crm, lead=lead, touch=touch, deal=deal, links=links
            )
            push_of_touch[touch.id] = row.id
            (look_first if row.status in ("sending", "unknown") else create).append(out_touch)
        elif row.kind == CONTACT:
            contact = people.get(int(row.value or 0))
            if contact is None:
                fail(row, "the contact was removed")
                continue
            contacts.append(
                ContactOut(
                    row.id,
                    contact.id,
                    contact_properties(
                        name=contact.name, role=contact.role, email=contact.email, phone=contact.phone
                    ),
                    contact.email,
                    deal=deal.crm_id if deal is not None else None,
                    company=_company_of(links),
                )
            )
        elif latest.get((row.lead_id, row.kind)) is row:
            assert deal is not None
            change = _deal_change(session, row, deal=deal, team_id=team_id, crm=crm, stages=stages)
            if isinstance(change, str):
                fail(row, change)
            else:
                changes.append(change)
    return Taken(
        tuple(create),
        tuple(look_first),
        tuple(changes),
        push_of_touch,
        skipped,
        tuple(new_deals),
        tuple(deals_look_first),
        tuple(contacts),
        waiting,
    )


def _deal_first(
    session: Session,
    row: CrmPush,
    *,
    lead: Lead,
    creating: set[int],
    deal_pushes: dict[int, CrmPush],
    now: datetime,
) -> datetime | str:
    """When a push on a lead that is no deal yet is due again, or why it never will be."""
    if lead.id in creating:
        return now  # its deal is created in this round: the push goes in the next
    owed = deal_pushes.get(lead.id)
    if owed is None:
        # A lead from before the CRM was connected (a CSV import, a rep's own), worked in Slack
        # now: it becomes a deal like a lead added today.
        owe_deal(session, lead, now=now)
        return now
    if owed.status == "failed":
        return f"the lead could not become a deal: {owed.error or 'the CRM refused it'}"
    if owed.status == "sent":
        return "the lead's deal is gone from the CRM"
    return now + DEAL_WAIT  # another sender is creating it, or it waits out a back-off


def _new_deal(
    session: Session, row: CrmPush, *, lead: Lead, team_id: str, crm: str, stages: list[CrmStage]
) -> DealOut | str:
    pipelines = [s.pipeline for s in sorted(stages, key=lambda s: s.order)]
    pipeline = "default" if "default" in pipelines else next(iter(pipelines), None)
    stage = stage_for(Status(lead.status), stages, pipeline) if pipeline else None
    if stage is None:
        return f"the CRM's pipeline has no stage for {lead.status}"
    owner = rows.crm_owner_of(session, team_id=team_id, crm=crm, user_id=lead.owner_id)
    return DealOut(
        row.id, lead.id, deal_properties(lead_id=lead.id, name=lead.name, stage=stage, crm_owner=owner)
    )


def _engagement(
    session: Session,
    *,
    team_id: str,
    crm: str,
    lead: Lead,
    touch: Touch,
    deal: CrmLink | None,
    links: list[CrmLink],
) -> EngagementOut:
    owner = rows.crm_owner_of(session, team_id=team_id, crm=crm, user_id=touch.user_id) or (
        deal.crm_owner if deal is not None else None
    )
    facts = TouchFacts(
        touch_id=touch.id,
        outcome=Outcome(touch.outcome),
        at=touch.at,
        note=touch.note,
        meeting_on=touch.meeting_on,
        lead_name=lead.name,
        crm_owner=owner,
    )
    return EngagementOut(
        touch_id=touch.id,
        kind=engagement_kind(facts.outcome),
        properties=engagement_properties(facts),
        deal=deal.crm_id if deal is not None else None,
        contacts=tuple(link.crm_id for link in links if link.object_type == "contact" and not link.archived),
        company=_company_of(links),
    )


def _company_of(links: list[CrmLink]) -> str | None:
    """The lead's company in the CRM: its deal's, as the last pull found it, whichever of the
    company's deals it is; a prospect's is its contact's. A lead added in Slack has none (its deal
    is made without one), nor has a deal with no company, whatever its contacts' companies."""
    deal = next((link for link in links if link.object_type == "deal" and not link.archived), None)
    if deal is not None:
        return deal.company
    return next(
        (
            link.company
            for link in links
            if link.object_type == "contact" and not link.archived and link.company
        ),
        None,
    )


def _deal_change(
    session: Session, row: CrmPush, *, deal: CrmLink, team_id: str, crm: str, stages: list[CrmStage]
) -> DealChange | str:
    if row.kind == STAGE:
        status = Status(row.value or Status.OPEN.value)
        pipeline = next((s.pipeline for s in stages if s.id == deal.stage), None) or "default"
        stage = stage_for(status, stages, pipeline)
        if stage is None:
            return f"the deal's pipeline has no stage for {status.value}"
        # Only the stage: every account has it, and a property an account lacks would be a 400.
        return DealChange(row.id, deal.crm_id, {"dealstage": stage.id})
    crm_owner = rows.crm_owner_of(session, team_id=team_id, crm=crm, user_id=row.value or "")
    if crm_owner is None:
        return f"<@{row.value}> has no CRM owner with their e-mail"
    return DealChange(row.id, deal.crm_id, {"hubspot_owner_id": crm_owner})


def settle(
    session: Session,
    results: list[PushResult],
    *,
    team_id: str,
    crm: str,
    owner: str,
    now: datetime,
    changes: tuple[DealChange, ...] = (),
    deals: tuple[DealOut, ...] = (),
    contacts: tuple[ContactOut, ...] = (),
) -> tuple[int, int]:
    """Record what became of each push: (sent, still owed). A deal change that landed becomes the
    deal's last-synced stage or owner, so the next pull doesn't take it for HubSpot's own change;
    a deal created links its lead, with the stage and owner it was created with."""
    by_push = {change.push_id: change for change in changes}
    made = {deal.push_id: deal for deal in deals}
    people = {contact.push_id: contact for contact in contacts}
    sent = owed = 0
    for result in results:
        row = session.get(CrmPush, result.push_id, populate_existing=True)
        if row is None:
            continue
        if result.error is None:
            if rows.finish_push(
                session, row.id, owner=owner, status="sent", finished_at=now, crm_id=result.crm_id, error=None
            ):
                sent += 1
                change = by_push.get(row.id)
                if change is not None:
                    _remember(session, team_id=team_id, crm=crm, change=change)
                made_record = _record_made(made.get(row.id), people.get(row.id))
                if made_record is not None and result.crm_id:
                    object_type, values = made_record
                    rows.link_record(
                        session,
                        team_id=team_id,
                        crm=crm,
                        object_type=object_type,
                        lead_id=row.lead_id,
                        crm_id=result.crm_id,
                        **values,
                    )
        elif result.unknown:
            owed += 1
            rows.finish_push(
                session,
                row.id,
                owner=owner,
                status="unknown",
                next_attempt_at=now + UNKNOWN_RECHECK,
                error=result.error[:200],
            )
        elif result.retry and row.attempts < MAX_ATTEMPTS:
            owed += 1
            wait = (
                timedelta(seconds=result.retry_after)
                if result.retry_after
                else FIRST_RETRY * 2 ** (row.attempts - 1)
            )
            rows.finish_push(
                session,
                row.id,
                owner=owner,
                status="pending",
                next_attempt_at=now + min(wait, LAST_RETRY),
                error=result.error[:200],
            )
        else:
            rows.finish_push(
                session, row.id, owner=owner, status="failed", finished_at=now, error=result.error[:200]
            )
    return sent, owed


def _record_made(deal: DealOut | None, person: ContactOut | None) -> tuple[str, dict[str, object]] | None:
    """What a push that created (or upserted) a CRM record links its lead to, with what is known of it."""
    if deal is not None:
        return "deal", {
            "stage": deal.properties["dealstage"],
            "crm_owner": deal.properties.get("hubspot_owner_id"),
        }
    if person is not None:
        return "contact", {"contact_id": person.contact_id}
    return None


def _remember(session: Session, *, team_id: str, crm: str, change: DealChange) -> None:
    link = rows.links(session, team_id=team_id, crm=crm, object_type="deal", crm_ids=[change.deal]).get(
        change.deal
    )
    if link is None:
        return
    if "dealstage" in change.properties:
        link.stage = change.properties["dealstage"]
    if "hubspot_owner_id" in change.properties:
        link.crm_owner = change.properties["hubspot_owner_id"]
