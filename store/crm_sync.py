"""Queries on the CRM sync's tables: links, owners, the team's sync row and the push queue. Never commits."""

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Contact, CrmConnection, CrmLink, CrmOwner, CrmPush, CrmSync, Lead, Touch
from store.workspaces import stopped_teams

UNSENT = ("pending", "unknown")
OPEN_PUSH = ("pending", "sending", "unknown")


def sync_row(session: Session, *, team_id: str, crm: str) -> CrmSync | None:
    return session.get(CrmSync, (team_id, crm), populate_existing=True)


def connection(session: Session, *, team_id: str, crm: str) -> CrmConnection | None:
    return session.scalars(
        select(CrmConnection).where(CrmConnection.team_id == team_id, CrmConnection.crm == crm)
    ).one_or_none()


def connections(session: Session, *, crm: str) -> list[CrmConnection]:
    """Every team that connected its own CRM account, in a stable order."""
    return list(
        session.scalars(select(CrmConnection).where(CrmConnection.crm == crm).order_by(CrmConnection.team_id))
    )


def connect(session: Session, *, team_id: str, crm: str, token: str, now: datetime) -> bool:
    """Store (or replace) the team's sealed token; True when it is new."""
    found = connection(session, team_id=team_id, crm=crm)
    if found is None:
        session.add(CrmConnection(team_id=team_id, crm=crm, token=token, connected_at=now))
        return True
    found.token, found.connected_at = token, now
    return False


def disconnect(session: Session, *, team_id: str, crm: str) -> bool:
    found = connection(session, team_id=team_id, crm=crm)
    if found is not None:
        session.delete(found)
    return found is not None


# Built once, with a bound parameter: every /logcall asks, and building a statement costs more than running it.
# Read by every /logcall: on the table's columns, not the ORM's (a plain statement costs less).
_SYNCS = cast(Table, CrmSync.__table__).c
_CONNECTED = select(_SYNCS.crm).where(_SYNCS.team_id == bindparam("team_id"))


def connected(session: Session, *, team_id: str) -> list[str]:
    """The CRMs this team syncs with (none: nothing is owed to any CRM)."""
    return list(session.scalars(_CONNECTED, {"team_id": team_id}))


def claim_run(
    session: Session, *, team_id: str, crm: str, owner: str, now: datetime, until: datetime
) -> bool:
    """One pull at a time per team: take the run unless another live process holds it."""
    statement = (
        update(CrmSync)
        .where(
            CrmSync.team_id == team_id,
            CrmSync.crm == crm,
            or_(CrmSync.run_owner.is_(None), CrmSync.run_lease_until < now, CrmSync.run_owner == owner),
        )
        .values(run_owner=owner, run_lease_until=until)
        .returning(CrmSync.team_id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def release_run(session: Session, *, team_id: str, crm: str, owner: str, **values: object) -> None:
    session.execute(
        update(CrmSync)
        .where(CrmSync.team_id == team_id, CrmSync.crm == crm, CrmSync.run_owner == owner)
        .values(run_owner=None, run_lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )


# ---- links and owners ------------------------------------------------------------------------------


def links(
    session: Session, *, team_id: str, crm: str, object_type: str, crm_ids: Sequence[str]
) -> dict[str, CrmLink]:
    if not crm_ids:
        return {}
    rows = session.scalars(
        select(CrmLink).where(
            CrmLink.team_id == team_id,
            CrmLink.crm == crm,
            CrmLink.object_type == object_type,
            CrmLink.crm_id.in_(list(crm_ids)),  # one page of a CRM list: at most a few hundred ids
        )
    )
    return {row.crm_id: row for row in rows}


def links_of_lead(session: Session, *, team_id: str, crm: str, lead_id: int) -> list[CrmLink]:
    return list(
        session.scalars(
            select(CrmLink)
            .where(CrmLink.team_id == team_id, CrmLink.crm == crm, CrmLink.lead_id == lead_id)
            .order_by(CrmLink.id)
        )
    )


def leads_by_keys(session: Session, *, team_id: str, keys: Sequence[str]) -> dict[str, Lead]:
    """Leads by name key, for one page of CRM records (at most a few hundred keys)."""
    if not keys:
        return {}
    rows = session.scalars(select(Lead).where(Lead.team_id == team_id, Lead.name_key.in_(list(keys))))
    return {lead.name_key: lead for lead in rows}


def leads_with_deal(session: Session, *, team_id: str, crm: str, lead_ids: Sequence[int]) -> set[int]:
    """Which of these leads a live CRM deal already is."""
    if not lead_ids:
        return set()
    return set(
        session.scalars(
            select(CrmLink.lead_id).where(
                CrmLink.team_id == team_id,
                CrmLink.crm == crm,
                CrmLink.object_type == "deal",
                CrmLink.archived.is_(False),
                CrmLink.lead_id.in_(list(lead_ids)),
            )
        )
    )


def linked_contact_ids(session: Session, *, team_id: str, crm: str, crm_ids: Sequence[str]) -> set[str]:
    """Which of these CRM contacts are on a lead already (a deal's contact, or a prospect)."""
    if not crm_ids:
        return set()
    return set(
        session.scalars(
            select(CrmLink.crm_id).where(
                CrmLink.team_id == team_id,
                CrmLink.crm == crm,
                CrmLink.object_type == "contact",
                CrmLink.lead_id.is_not(None),
                CrmLink.crm_id.in_(list(crm_ids)),
            )
        )
    )


def deal_links(session: Session, *, team_id: str, crm: str) -> dict[str, int]:
    """Every linked deal → its lead, for the first pull's history (one row per lead: the team's size)."""
    rows = session.execute(
        select(CrmLink.crm_id, CrmLink.lead_id).where(
            CrmLink.team_id == team_id,
            CrmLink.crm == crm,
            CrmLink.object_type == "deal",
            CrmLink.lead_id.is_not(None),
        )
    )
    return {crm_id: lead_id for crm_id, lead_id in rows if lead_id is not None}


def owners(session: Session, *, team_id: str, crm: str) -> list[CrmOwner]:
    return list(session.scalars(select(CrmOwner).where(CrmOwner.team_id == team_id, CrmOwner.crm == crm)))


def crm_owner_of(session: Session, *, team_id: str, crm: str, user_id: str) -> str | None:
    return session.scalars(
        select(CrmOwner.owner_id)
        .where(CrmOwner.team_id == team_id, CrmOwner.crm == crm, CrmOwner.user_id == user_id)
        .order_by(CrmOwner.owner_id)
        .limit(1)
    ).first()


def contacts_by_id(session: Session, ids: Sequence[int]) -> dict[int, Contact]:
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(list(ids))))}


# ---- the push queue ----------------------------------------------------------------------------------


def add_push(session: Session, row: CrmPush) -> None:
    session.add(row)


def unsent_changes(session: Session, *, lead_id: int, kind: str) -> bool:
    """Baton changed this lead's stage or owner and the CRM hasn't got it yet: Baton's change stands."""
    return (
        session.scalars(
            select(CrmPush.id)
            .where(CrmPush.lead_id == lead_id, CrmPush.kind == kind, CrmPush.status.in_(OPEN_PUSH))
            .limit(1)
        ).first()
        is not None
    )


def due_pushes(session: Session, *, team_id: str, crm: str, now: datetime, limit: int) -> list[CrmPush]:
    return list(
        session.scalars(
            select(CrmPush)
            .where(
                CrmPush.team_id == team_id,
                CrmPush.crm == crm,
                CrmPush.team_id.not_in(stopped_teams()),  # kept, not sent: a reinstall picks them up
                or_(
                    and_(CrmPush.status.in_(UNSENT), CrmPush.next_attempt_at <= now),
                    and_(CrmPush.status == "sending", CrmPush.lease_until < now),
                ),
            )
            .order_by(CrmPush.id)
            .limit(limit)
        )
    )


def teams_owed(session: Session, *, crm: str, now: datetime) -> list[str]:
    """Teams with a push due now (one row per team at most: the statement never grows with the queue)."""
    return list(
        session.scalars(
            select(CrmPush.team_id)
            .where(
                CrmPush.crm == crm,
                or_(
                    and_(CrmPush.status.in_(UNSENT), CrmPush.next_attempt_at <= now),
                    and_(CrmPush.status == "sending", CrmPush.lease_until < now),
                ),
            )
            .distinct()
        )
    )


def take_push(session: Session, row: CrmPush, *, owner: str, now: datetime, lease_until: datetime) -> bool:
    """Take `row` as it was read, if nobody changed it since: `attempts` is its version."""
    statement = (
        update(CrmPush)
        .where(
            CrmPush.id == row.id,
            CrmPush.attempts == row.attempts,
            CrmPush.status == row.status,
            or_(
                and_(CrmPush.status.in_(UNSENT), CrmPush.next_attempt_at <= now),
                and_(CrmPush.status == "sending", CrmPush.lease_until < now),
            ),
        )
        .values(status="sending", owner=owner, lease_until=lease_until, attempts=CrmPush.attempts + 1)
        .returning(CrmPush.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def finish_push(session: Session, push_id: int, *, owner: str, **values: object) -> bool:
    """Record an outcome, unless another sender took the row over (then its outcome counts)."""
    statement = (
        update(CrmPush)
        .where(CrmPush.id == push_id, CrmPush.owner == owner, CrmPush.status == "sending")
        .values(**values)
        .returning(CrmPush.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def deal_pushes(session: Session, *, crm: str, lead_ids: Sequence[int]) -> dict[int, CrmPush]:
    """The newest deal-creating push of each of these leads (at most one batch's worth of ids)."""
    if not lead_ids:
        return {}
    found = session.scalars(
        select(CrmPush)
        .where(CrmPush.crm == crm, CrmPush.kind == "deal", CrmPush.lead_id.in_(lead_ids))
        .order_by(CrmPush.id)
    )
    return {row.lead_id: row for row in found}


def link_record(
    session: Session, *, team_id: str, crm: str, object_type: str, lead_id: int, crm_id: str, **values: object
) -> None:
    """Record that `crm_id` is this lead's deal (or contact). A pull may have seen the new record
    first and adopted the lead by its name: then its link is the one kept, pointed at the lead."""
    link = links(session, team_id=team_id, crm=crm, object_type=object_type, crm_ids=[crm_id]).get(crm_id)
    if link is None:
        try:
            with session.begin_nested():
                session.add(
                    CrmLink(
                        team_id=team_id,
                        crm=crm,
                        object_type=object_type,
                        crm_id=crm_id,
                        lead_id=lead_id,
                        archived=False,
                        **values,
                    )
                )
            return
        except IntegrityError:  # a pull in another process linked it this very moment
            link = links(session, team_id=team_id, crm=crm, object_type=object_type, crm_ids=[crm_id])[crm_id]
    link.lead_id = lead_id
    for name, value in values.items():
        setattr(link, name, value)


def touches_by_id(session: Session, ids: Sequence[int]) -> dict[int, Touch]:
    if not ids:
        return {}
    return {t.id: t for t in session.scalars(select(Touch).where(Touch.id.in_(list(ids))))}


def leads_by_id(session: Session, ids: Sequence[int], *, for_update: bool = False) -> dict[int, Lead]:
    """At most one page of a CRM list (a few hundred leads): `for_update` locks them on PostgreSQL,
    so a pull and a rep's touch on the same lead happen one after the other."""
    if not ids:
        return {}
    query = select(Lead).where(Lead.id.in_(list(ids))).order_by(Lead.id)
    if for_update:
        query = query.with_for_update()
    return {lead.id: lead for lead in session.scalars(query)}


def leads_with_touches(session: Session, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(Touch.lead_id).where(Touch.lead_id.in_(list(ids))).distinct()))


def pushes(session: Session, *, team_id: str) -> list[CrmPush]:
    return list(session.scalars(select(CrmPush).where(CrmPush.team_id == team_id).order_by(CrmPush.id)))
