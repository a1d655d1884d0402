"""Writing the pipeline and the touch log out as CSV rows, in the columns the importer reads (an export imports back)."""

from collections.abc import Iterator

from sqlalchemy.orm import Session

from store import queries
from store.models import Contact


def pipeline_rows(
    session: Session, *, team_id: str, names: dict[str, str] | None = None
) -> Iterator[tuple[object, ...]]:
    """One row per contact (a lead without one: one row), in the columns the importer reads, so an
    export imports back with everything: owners, statuses, opt-outs, lost reasons, every contact."""
    names = (
        {user: name for (_, user), name in queries.people.rep_names(session, team_ids=[team_id]).items()}
        if names is None
        else names
    )
    for lead, contacts in queries.crm.leads_with_contacts(session, team_id=team_id):
        people: list[Contact | None] = [*contacts] or [None]
        for contact in people:
            yield (
                lead.name,
                lead.owner_id,
                names.get(lead.owner_id, ""),
                lead.status,
                lead.lost_reason,
                lead.opted_out_at,
                lead.created_at,
                lead.last_touch_at,
                lead.last_contact_at,
                "yes" if lead.reached else "no",
                lead.attempts,
                contact.name if contact else None,
                contact.role if contact else None,
                ("yes" if contact.is_decision_maker else "no") if contact else None,
                contact.email if contact else None,
                contact.phone if contact else None,
                lead.next_follow_up,
                lead.meeting_on,
                lead.snoozed_until,
                lead.notes,
            )


def touch_rows(
    session: Session, *, team_id: str, names: dict[str, str] | None = None
) -> Iterator[tuple[object, ...]]:
    names = (
        {user: name for (_, user), name in queries.people.rep_names(session, team_ids=[team_id]).items()}
        if names is None
        else names
    )
    for name, touch in queries.crm.touch_log(session, team_id=team_id):
        yield (name, touch.at, touch.outcome, touch.user_id, names.get(touch.user_id, ""), touch.note)
