"""A signed customer handed to operations: the record, the card's facts, and the claim."""

from sqlalchemy import update
from sqlalchemy.orm import Session

from coaching.caller import Caller
from coaching.handoff_posts import OPS
from coaching.handoff_results import OpsAlreadyClaimed, OpsClaimed, OpsHandedOff, OpsHandoffSnapshot, Unknown
from coaching.leads import Change, NotAllowed, change_status
from coaching.parsing import clean
from coaching.rules import Status
from coaching.snapshots import contact_snapshot, lead_snapshot
from store import queries
from store.models import Lead, OpsHandoff


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
