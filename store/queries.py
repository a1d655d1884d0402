"""Reusable queries. Each takes the caller's session and never commits or closes it."""

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import (
    Contact,
    Delivery,
    Draft,
    Lead,
    Manager,
    OpsHandoff,
    PostedMessage,
    Rep,
    SeenEvent,
    TeamSetting,
    Touch,
    TransferRequest,
)


def lead(session: Session, team_id: str, lead_id: int, *, for_update: bool = False) -> Lead | None:
    query = select(Lead).where(Lead.team_id == team_id, Lead.id == lead_id)
    if for_update:
        # FOR UPDATE on PostgreSQL (SQLite has no row locks: its writers hold the database's lock
        # from BEGIN IMMEDIATE). Re-read the row once locked: a copy loaded earlier in this
        # transaction may predate the change the lock waited for.
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one_or_none()


def lead_by_key(session: Session, team_id: str, key: str) -> Lead | None:
    return session.scalars(select(Lead).where(Lead.team_id == team_id, Lead.name_key == key)).one_or_none()


CandidateRow = tuple[int, str, str, str]  # id, name, status, owner


def lead_candidates(
    session: Session, team_id: str, keys: Sequence[str], *, limit: int = 5000
) -> list[CandidateRow]:
    """Leads whose name starts with, or has a word starting with, the first word typed.

    Plain rows, not ORM objects: a common first word ("the", "acme") can match thousands of leads.
    When it matches more than `limit`, the first two words narrow it instead.
    """
    if not keys:
        return []
    rows = _candidates(session, team_id, keys[0], limit + 1)
    if len(rows) > limit and len(keys) > 1:
        rows = _candidates(session, team_id, f"{keys[0]} {keys[1]}", limit)
    return rows[:limit]


def _candidates(session: Session, team_id: str, key: str, limit: int) -> list[CandidateRow]:
    query = (
        select(Lead.id, Lead.name, Lead.status, Lead.owner_id)
        .where(
            Lead.team_id == team_id,
            or_(
                func.substr(Lead.name_key, 1, len(key)) == key,
                Lead.name_key.contains(" " + key, autoescape=True),
            ),
        )
        .limit(limit)
    )
    return [(row.id, row.name, row.status, row.owner_id) for row in session.execute(query)]


def lead_names(session: Session, team_id: str) -> Sequence[str]:
    return session.scalars(select(Lead.name).where(Lead.team_id == team_id)).all()


def touches(session: Session, lead_id: int) -> Sequence[Touch]:
    return session.scalars(select(Touch).where(Touch.lead_id == lead_id).order_by(Touch.at, Touch.id)).all()


def touch_facts(session: Session, lead_id: int) -> list[tuple[datetime, str, date | None]]:
    """A lead's log as (at, outcome, meeting_on): the three columns progress is computed from."""
    query = (
        select(Touch.at, Touch.outcome, Touch.meeting_on)
        .where(Touch.lead_id == lead_id)
        .order_by(Touch.at, Touch.id)
    )
    return [(row.at, row.outcome, row.meeting_on) for row in session.execute(query)]


def recent_touches(session: Session, team_id: str, lead_id: int, *, limit: int) -> Sequence[Touch]:
    query = (
        select(Touch)
        .where(Touch.team_id == team_id, Touch.lead_id == lead_id)
        .order_by(Touch.at.desc(), Touch.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def last_tip(session: Session, team_id: str, lead_id: int) -> str | None:
    """The tip given with the lead's most recently logged touch (None before any, or for an import)."""
    query = (
        select(Touch.tip)
        .where(Touch.team_id == team_id, Touch.lead_id == lead_id)
        .order_by(Touch.logged_at.desc(), Touch.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def touch_count(session: Session, team_id: str, lead_id: int) -> int:
    query = select(func.count()).select_from(Touch).where(Touch.team_id == team_id, Touch.lead_id == lead_id)
    return session.scalar(query) or 0


def contacts(session: Session, team_id: str, lead_id: int) -> Sequence[Contact]:
    query = (
        select(Contact)
        .where(Contact.team_id == team_id, Contact.lead_id == lead_id)
        .order_by(Contact.added_at, Contact.id)
    )
    return session.scalars(query).all()


def owned_leads(
    session: Session, team_id: str, owner_id: str, statuses: Sequence[str], *, limit: int | None = None
) -> Sequence[Lead]:
    """A rep's leads, the earliest follow-up first (leads with none last, on every backend)."""
    query = select(Lead).where(Lead.team_id == team_id, Lead.owner_id == owner_id, Lead.status.in_(statuses))
    order = (Lead.next_follow_up.is_(None), Lead.next_follow_up, Lead.name_key)
    return session.scalars(query.order_by(*order).limit(limit)).all()


def search_leads(session: Session, team_id: str, key: str, *, limit: int) -> Sequence[Lead]:
    """For pickers: names starting with the text first, then names containing it."""
    starts = func.substr(Lead.name_key, 1, len(key)) == key
    query = (
        select(Lead)
        .where(Lead.team_id == team_id, Lead.name_key.contains(key, autoescape=True))
        .order_by(starts.desc(), Lead.name_key)
        .limit(limit)
    )
    return session.scalars(query).all()


def draft(session: Session, team_id: str, draft_id: int) -> Draft | None:
    return session.scalars(select(Draft).where(Draft.team_id == team_id, Draft.id == draft_id)).one_or_none()


def rep(session: Session, team_id: str, user_id: str) -> Rep | None:
    return session.scalars(select(Rep).where(Rep.team_id == team_id, Rep.user_id == user_id)).one_or_none()


def is_listed_manager(session: Session, team_id: str, user_id: str) -> bool:
    query = select(Manager.user_id).where(Manager.team_id == team_id, Manager.user_id == user_id)
    return session.scalar(query) is not None


def listed_managers(session: Session, team_id: str) -> list[str]:
    query = (
        select(Manager.user_id).where(Manager.team_id == team_id).order_by(Manager.added_at, Manager.user_id)
    )
    return list(session.scalars(query))


def team_settings(session: Session, team_id: str) -> dict[str, str]:
    rows = session.execute(select(TeamSetting.name, TeamSetting.value).where(TeamSetting.team_id == team_id))
    return {name: value for name, value in rows}


def upsert_rep(session: Session, **values: object) -> None:
    """Insert or refresh a rep in one statement: two requests from a new user may race."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Rep).values(**values)
    updates = {k: statement.excluded[k] for k in values if k not in ("team_id", "user_id")}
    session.execute(statement.on_conflict_do_update(index_elements=["team_id", "user_id"], set_=updates))


def transfer(session: Session, team_id: str, transfer_id: int) -> TransferRequest | None:
    query = select(TransferRequest).where(
        TransferRequest.team_id == team_id, TransferRequest.id == transfer_id
    )
    return session.scalars(query).one_or_none()


def pending_transfer(session: Session, team_id: str, lead_id: int) -> TransferRequest | None:
    query = select(TransferRequest).where(
        TransferRequest.team_id == team_id,
        TransferRequest.lead_id == lead_id,
        TransferRequest.status == "pending",
    )
    return session.scalars(query.order_by(TransferRequest.id)).first()


def pending_transfers(session: Session) -> Sequence[TransferRequest]:
    """Every team's waiting requests: the scheduler's sweep runs across teams."""
    query = select(TransferRequest).where(TransferRequest.status == "pending")
    return session.scalars(query.order_by(TransferRequest.team_id, TransferRequest.id)).all()


def transfers_for_lead(session: Session, team_id: str, lead_id: int) -> Sequence[TransferRequest]:
    query = select(TransferRequest).where(
        TransferRequest.team_id == team_id, TransferRequest.lead_id == lead_id
    )
    return session.scalars(query.order_by(TransferRequest.created_at.desc(), TransferRequest.id.desc())).all()


def posted_messages(session: Session, team_id: str, subject: str, subject_id: int) -> Sequence[PostedMessage]:
    query = select(PostedMessage).where(
        PostedMessage.team_id == team_id,
        PostedMessage.subject == subject,
        PostedMessage.subject_id == subject_id,
    )
    return session.scalars(query.order_by(PostedMessage.id)).all()


def unposted_ops_handoff(session: Session, team_id: str, lead_id: int, *, subject: str) -> OpsHandoff | None:
    """The lead's latest unclaimed hand-off to operations whose card was never posted, if any."""
    posted = select(PostedMessage.id).where(
        PostedMessage.team_id == team_id,
        PostedMessage.subject == subject,
        PostedMessage.subject_id == OpsHandoff.id,
    )
    query = (
        select(OpsHandoff)
        .where(
            OpsHandoff.team_id == team_id,
            OpsHandoff.lead_id == lead_id,
            OpsHandoff.claimed_by.is_(None),
            ~posted.exists(),
        )
        .order_by(OpsHandoff.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def ops_handoff(session: Session, team_id: str, handoff_id: int) -> OpsHandoff | None:
    query = select(OpsHandoff).where(OpsHandoff.team_id == team_id, OpsHandoff.id == handoff_id)
    return session.scalars(query).one_or_none()


# ---- scheduled nudges -----------------------------------------------------------------------------
# Each of these is one statement whatever the number of reps: the digest batch must not grow a
# query per rep or per lead.


def lead_owners(session: Session) -> set[tuple[str, str]]:
    query = select(Lead.team_id, Lead.owner_id).where(Lead.status.in_(("open", "won"))).distinct()
    return {(row.team_id, row.owner_id) for row in session.execute(query)}


def teams_with_leads(session: Session) -> list[str]:
    return list(session.scalars(select(Lead.team_id).distinct()))


def active_reps(session: Session) -> Sequence[Rep]:
    query = select(Rep).where(Rep.deactivated.is_(False), Rep.is_bot.is_(False))
    return session.scalars(query.order_by(Rep.team_id, Rep.user_id)).all()


def reps_known(session: Session) -> Sequence[Rep]:
    """Everyone Baton holds a profile for, active or not."""
    return session.scalars(select(Rep).order_by(Rep.team_id, Rep.user_id)).all()


def team_reps(session: Session, team_id: str) -> Sequence[Rep]:
    return session.scalars(select(Rep).where(Rep.team_id == team_id).order_by(Rep.user_id)).all()


def set_own_workdays(session: Session, *, team_id: str, user_id: str, workdays: str | None) -> bool:
    """A person's own working days (None: the team's); False when Baton holds no profile for them."""
    rep = session.scalars(select(Rep).where(Rep.team_id == team_id, Rep.user_id == user_id)).one_or_none()
    if rep is None:
        return False
    rep.workdays = workdays
    return True


def departed_reps(session: Session, team_ids: Sequence[str]) -> set[tuple[str, str]]:
    query = select(Rep.team_id, Rep.user_id).where(Rep.team_id.in_(team_ids), Rep.deactivated.is_(True))
    return {(row.team_id, row.user_id) for row in session.execute(query)}


# The team, then exactly `LeadSnapshot`'s fields in order: snapshots are built positionally from these rows.
NUDGE_COLUMNS = (
    Lead.team_id,
    Lead.id,
    Lead.name,
    Lead.owner_id,
    Lead.status,
    Lead.created_at,
    Lead.closed_at,
    Lead.lost_reason,
    Lead.opted_out_at,
    Lead.attempts,
    Lead.reached,
    Lead.ever_reached,
    Lead.last_touch_at,
    Lead.last_contact_at,
    Lead.next_follow_up,
    Lead.meeting_on,
    Lead.snoozed_until,
    Lead.meeting_reminded,
    Lead.declined,
)


def nudge_leads(session: Session, team_ids: Sequence[str], *, owner_id: str | None = None) -> Iterator[Any]:
    """Open leads and customers of these teams, as plain rows, streamed from one query."""
    query = select(*NUDGE_COLUMNS).where(Lead.team_id.in_(team_ids), Lead.status.in_(("open", "won")))
    if owner_id is not None:
        query = query.where(Lead.owner_id == owner_id)
    yield from session.execute(query.execution_options(yield_per=2000))


def claim_deliveries(
    session: Session, rows: Sequence[Mapping[str, object]], *, now: datetime, owner: str
) -> set[tuple[str, str]]:
    """Insert the rows nobody has claimed yet; the (team, person) pairs that were inserted."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Delivery)
        .values(status="claimed", attempts=1, claimed_at=now, owner=owner)
        .on_conflict_do_nothing(index_elements=["team_id", "user_id", "kind", "local_date"])
        .returning(Delivery.team_id, Delivery.user_id)
    )
    claimed = session.execute(statement, rows)
    return {(row.team_id, row.user_id) for row in claimed}


def reclaim_deliveries(
    session: Session,
    rows: Sequence[Mapping[str, object]],
    *,
    now: datetime,
    owner: str,
    abandoned_before: datetime,
    force: bool,
) -> set[tuple[str, str]]:
    """Take back claims whose run stopped renewing them (it died), or all of them when forced."""
    kind = rows[0]["kind"]
    keys = [(r["team_id"], r["user_id"], r["local_date"]) for r in rows]
    abandoned = (Delivery.status == "claimed") & (Delivery.claimed_at < abandoned_before)
    statement = (
        update(Delivery)
        .where(
            Delivery.kind == kind,
            tuple_(Delivery.team_id, Delivery.user_id, Delivery.local_date).in_(keys),
            Delivery.claimed_at < now if force else abandoned,
        )
        .values(status="claimed", attempts=Delivery.attempts + 1, claimed_at=now, owner=owner, error=None)
        .returning(Delivery.team_id, Delivery.user_id)
        .execution_options(synchronize_session=False)
    )
    return {(row.team_id, row.user_id) for row in session.execute(statement)}


def deliveries(session: Session, *, kind: str | None = None) -> Sequence[Delivery]:
    query = select(Delivery).order_by(Delivery.team_id, Delivery.user_id, Delivery.local_date)
    if kind is not None:
        query = query.where(Delivery.kind == kind)
    return session.scalars(query).all()


def mark_event_seen(session: Session, *, event_id: str, team_id: str, now: datetime) -> bool:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(SeenEvent)
        .values(event_id=event_id, team_id=team_id, seen_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(SeenEvent.event_id)
    )
    return session.execute(statement).first() is not None


def delete_events_before(session: Session, before: datetime) -> None:
    session.execute(delete(SeenEvent).where(SeenEvent.seen_at < before))


def delete_drafts_before(session: Session, before: datetime) -> None:
    session.execute(delete(Draft).where(Draft.created_at < before))


def known_teams(session: Session) -> list[str]:
    return list(session.scalars(select(Rep.team_id).distinct()))


def rep_names(session: Session, team_ids: Sequence[str]) -> dict[tuple[str, str], str]:
    query = select(Rep.team_id, Rep.user_id, Rep.name).where(Rep.team_id.in_(team_ids))
    return {(row.team_id, row.user_id): row.name for row in session.execute(query)}


# ---- App Home ---------------------------------------------------------------------------------------


def orphaned_leads(session: Session, team_id: str, *, limit: int) -> Sequence[Lead]:
    """Open leads whose owner's Slack account is deactivated."""
    departed = select(Rep.user_id).where(Rep.team_id == team_id, Rep.deactivated.is_(True))
    query = (
        select(Lead)
        .where(Lead.team_id == team_id, Lead.status == "open", Lead.owner_id.in_(departed))
        .order_by(Lead.owner_id, Lead.name_key)
        .limit(limit)
    )
    return session.scalars(query).all()


def pending_transfers_for_team(session: Session, team_id: str, *, limit: int) -> Sequence[TransferRequest]:
    query = select(TransferRequest).where(
        TransferRequest.team_id == team_id, TransferRequest.status == "pending"
    )
    return session.scalars(query.order_by(TransferRequest.created_at).limit(limit)).all()


def recent_wins(
    session: Session, team_id: str, owner_id: str, *, since: datetime, limit: int
) -> Sequence[Lead]:
    query = select(Lead).where(
        Lead.team_id == team_id, Lead.owner_id == owner_id, Lead.status == "won", Lead.closed_at >= since
    )
    return session.scalars(query.order_by(Lead.closed_at.desc()).limit(limit)).all()


def store_setting(
    session: Session, *, team_id: str, name: str, value: str, user_id: str, now: datetime
) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(TeamSetting).values(
        team_id=team_id, name=name, value=value, updated_by=user_id, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["team_id", "name"],
            set_={"value": statement.excluded.value, "updated_by": user_id, "updated_at": now},
        )
    )


def delete_setting(session: Session, *, team_id: str, name: str) -> None:
    session.execute(delete(TeamSetting).where(TeamSetting.team_id == team_id, TeamSetting.name == name))


def add_manager(session: Session, *, team_id: str, user_id: str, by: str, now: datetime) -> None:
    session.add(Manager(team_id=team_id, user_id=user_id, added_by=by, added_at=now))


def remove_manager(session: Session, *, team_id: str, user_id: str) -> None:
    session.execute(delete(Manager).where(Manager.team_id == team_id, Manager.user_id == user_id))


# ---- import and export --------------------------------------------------------------------------------


def rep_names_of(session: Session, team_id: str) -> list[tuple[str, str]]:
    query = select(Rep.user_id, Rep.name).where(Rep.team_id == team_id, Rep.deactivated.is_(False))
    return [(row.user_id, row.name) for row in session.execute(query)]


def _among(session: Session, column: Any, values: Sequence[Any]) -> Iterator[ColumnElement[bool]]:
    """`column IN values` for thousands of values: one `= ANY(array)` on PostgreSQL (a 500-item IN
    list costs it ten times more), batches of 500 on SQLite (its limit on bound parameters)."""
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return
    for start in range(0, len(values), 500):
        yield column.in_(values[start : start + 500])


def leads_by_keys(session: Session, team_id: str, keys: Sequence[str]) -> dict[str, Lead]:
    found: dict[str, Lead] = {}
    for among in _among(session, Lead.name_key, keys):
        found.update(
            {
                lead.name_key: lead
                for lead in session.scalars(select(Lead).where(Lead.team_id == team_id, among))
            }
        )
    return found


def contacts_of_leads(session: Session, team_id: str, lead_ids: Sequence[int]) -> list[Contact]:
    found: list[Contact] = []
    for among in _among(session, Contact.lead_id, lead_ids):
        query = select(Contact).where(Contact.team_id == team_id, among)
        found.extend(session.scalars(query.order_by(Contact.added_at, Contact.id)))
    return found


def leads_with_contacts(session: Session, team_id: str) -> Iterator[tuple[Lead, list[Contact]]]:
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


def leads_with_own_record(session: Session, team_id: str, lead_ids: Sequence[int]) -> set[int]:
    """The leads Baton has a record of its own on: a touch logged or a hand-off asked for."""
    found: set[int] = set()
    for among in _among(session, Touch.lead_id, lead_ids):
        found.update(session.scalars(select(Touch.lead_id).where(Touch.team_id == team_id, among).distinct()))
    for among in _among(session, TransferRequest.lead_id, lead_ids):
        query = select(TransferRequest.lead_id).where(TransferRequest.team_id == team_id, among).distinct()
        found.update(session.scalars(query))
    return found


def people_in_pipeline(session: Session, team_id: str) -> set[str]:
    """Everyone an export names: the leads' owners and whoever logged a touch."""
    owners = select(Lead.owner_id).where(Lead.team_id == team_id).distinct()
    loggers = select(Touch.user_id).where(Touch.team_id == team_id).distinct()
    return set(session.scalars(owners)) | set(session.scalars(loggers))


def own_workdays_of_team(session: Session, team_id: str) -> dict[str, str]:
    """The reps who keep working days of their own, as written: one query for a whole import."""
    query = select(Rep.user_id, Rep.workdays).where(Rep.team_id == team_id, Rep.workdays.is_not(None))
    return {row.user_id: row.workdays for row in session.execute(query)}


def rep_names_all(session: Session, team_id: str) -> dict[str, str]:
    """Every known person's name, those who have left included (an export names past owners too)."""
    query = select(Rep.user_id, Rep.name).where(Rep.team_id == team_id)
    return {row.user_id: row.name for row in session.execute(query)}


def touch_log(session: Session, team_id: str) -> Iterator[tuple[str, Touch]]:
    query = (
        select(Lead.name, Touch)
        .join(Touch, Touch.lead_id == Lead.id)
        .where(Lead.team_id == team_id)
        .order_by(Lead.name_key, Touch.at, Touch.id)
        .execution_options(yield_per=2000)
    )
    for row in session.execute(query):
        yield row[0], row[1]
