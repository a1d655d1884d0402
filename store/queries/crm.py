"""Queries for importing and exporting a CRM file: thousands of leads and contacts at a time.

Each takes the caller's session and never commits or closes it.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from store.models import (
    Contact,
    Lead,
    Touch,
    TransferRequest,
)


def _among(session: Session, column: Any, values: Sequence[Any]) -> Iterator[ColumnElement[bool]]:
    """`column IN values` for thousands of values: one `= ANY(array)` on PostgreSQL (a 500-item IN
    list costs it ten times more), batches of 500 on SQLite (its limit on bound parameters)."""
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return
    for start in range(0, len(values), 500):
        yield column.in_(values[start : start + 500])


def leads_by_keys(session: Session, *, team_id: str, keys: Sequence[str]) -> dict[str, Lead]:
    found: dict[str, Lead] = {}
    for among in _among(session, Lead.name_key, keys):
        found.update(
            {
                lead.name_key: lead
                for lead in session.scalars(select(Lead).where(Lead.team_id == team_id, among))
            }
        )
    return found


def contacts_of_leads(session: Session, *, team_id: str, lead_ids: Sequence[int]) -> list[Contact]:
    found: list[Contact] = []
    for among in _among(session, Contact.lead_id, lead_ids):
        query = select(Contact).where(Contact.team_id == team_id, among)
        found.extend(session.scalars(query.order_by(Contact.added_at, Contact.id)))
    return found


def leads_with_contacts(session: Session, *, team_id: str) -> Iterator[tuple[Lead, list[Contact]]]:
    """Each lead with all its contacts, the decision-makers first, then in the order they were added."""
    contacts: dict[int, list[Contact]] = {}
    for contact in session.scalars(
        select(Contact)
        .where(Contact.team_id == team_id)
        .order_by(Contact.is_decision_maker.desc(), Contact.added_at, Contact.id)
    ):
        contacts.setdefault(contact.lead_id, []).append(contact)
    for lead in session.scalars(
        select(Lead).where(Lead.team_id == team_id).order_by(Lead.name_key).execution_options(yield_per=1000)
    ):
        yield lead, contacts.get(lead.id, [])


def leads_with_own_record(session: Session, *, team_id: str, lead_ids: Sequence[int]) -> set[int]:
    """The leads Baton has a record of its own on: a touch logged or a hand-off asked for."""
    found: set[int] = set()
    for among in _among(session, Touch.lead_id, lead_ids):
        found.update(session.scalars(select(Touch.lead_id).where(Touch.team_id == team_id, among).distinct()))
    for among in _among(session, TransferRequest.lead_id, lead_ids):
        query = select(TransferRequest.lead_id).where(TransferRequest.team_id == team_id, among).distinct()
        found.update(session.scalars(query))
    return found


def people_in_pipeline(session: Session, *, team_id: str) -> set[str]:
    """Everyone an export names: the leads' owners and whoever logged a touch."""
    owners = select(Lead.owner_id).where(Lead.team_id == team_id).distinct()
    loggers = select(Touch.user_id).where(Touch.team_id == team_id).distinct()
    return set(session.scalars(owners)) | set(session.scalars(loggers))


def touch_log(session: Session, *, team_id: str) -> Iterator[tuple[str, Touch]]:
    query = (
        select(Lead.name, Touch)
        .join(Touch, Touch.lead_id == Lead.id)
        .where(Lead.team_id == team_id)
        .order_by(Lead.name_key, Touch.at, Touch.id)
        .execution_options(yield_per=2000)
    )
    for row in session.execute(query):
        yield row[0], row[1]
