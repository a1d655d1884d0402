"""Writing the pipeline and the touch log out as CSV rows, in the columns the importer reads (an export imports back)."""

from collections.abc import Iterator

from sqlalchemy.orm import Session

from store import queries


def pipeline_rows(session: Session, *, team_id: str) -> Iterator[tuple[object, ...]]:
    """One row per lead, in the same columns the importer reads (an export imports back unchanged)."""
    for lead, contact in queries.leads_with_main_contact(session, team_id):
        yield (
            lead.name,
            lead.owner_id,
            lead.status,
            lead.created_at,
            lead.last_touch_at,
            lead.attempts,
            contact.name if contact else None,
            contact.role if contact else None,
            ("yes" if contact.is_decision_maker else "no") if contact else None,
            lead.next_follow_up,
            lead.meeting_on,
        )


def touch_rows(session: Session, *, team_id: str) -> Iterator[tuple[object, ...]]:
    for name, touch in queries.touch_log(session, team_id):
        yield (name, touch.at, touch.outcome, touch.user_id, touch.note)
