"""The weekly review's SQL: last week's activity and the attempt curve, grouped in the database.

One statement per kind of figure (touches, follow-ups, status changes, hand-offs, the attempt
curve), whatever the number of reps, leads or managers, each reading the fortnight once for every
manager's week (the 14 days before their review, in their time zone): rows are placed on their
day by comparing them with that week's midnights as instants, which stays exact across a
daylight-saving change and reads the same on SQLite and PostgreSQL.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    func,
    literal,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from store.models import Delivery, Lead, Rep, StatusChange, Touch, TransferRequest
from store.queries.digests import NUDGE_COLUMNS, among, delivery_keys
from store.types import UtcDateTime

DAYS = 14  # the week before, then last week


@dataclass(frozen=True)
class Window:
    """One manager's fortnight: `bounds` are the 15 midnights around its 14 days, as aware instants."""

    key: int
    team_id: str
    bounds: tuple[datetime, ...]


def _rows(session: Session, query: Executable) -> Sequence[Any]:
    """Through the session's connection: grouped counts need none of the ORM's row loading, which
    cost more than the grouping for a 10,000-rep team's fortnight."""
    return session.connection().execute(query).all()


def _span(at: Any, team_id: Any, windows: Sequence[Window]) -> ColumnElement[bool]:
    """Every window's fortnight at once: the team's rows from the first midnight to the last."""
    return and_(
        team_id.in_(sorted({w.team_id for w in windows})),
        at >= min(w.bounds[0] for w in windows),
        at < max(w.bounds[-1] for w in windows),
    )


def _when(at: Any, bound: datetime) -> ColumnElement[bool]:
    before: ColumnElement[bool] = at < literal(bound, UtcDateTime())
    return before


def _segment(at: Any, cuts: Sequence[datetime]) -> ColumnElement[Any]:
    """Which stretch between consecutive `cuts` an instant falls in (0: before the second cut)."""
    return case(*((_when(at, cut), i) for i, cut in enumerate(cuts[1:-1])), else_=len(cuts) - 2)


def _segments(windows: Sequence[Window], cuts: Sequence[datetime]) -> dict[int, dict[int, int]]:
    """For each window, the day (0-13) each stretch between `cuts` lies in, when it lies in one: every
    window's midnights are among the cuts, so a stretch never straddles two of its days."""
    days: dict[int, dict[int, int]] = {}
    for w in windows:
        days[w.key] = {}
        day = 0
        for i, start in enumerate(cuts[:-1]):
            while day < DAYS and w.bounds[day + 1] <= start:
                day += 1
            if w.bounds[0] <= start < w.bounds[DAYS]:
                days[w.key][i] = day
    return days


def touch_counts(
    session: Session, windows: Sequence[Window]
) -> list[tuple[int, str, str, int, date | None, date | None, int]]:
    """(window, rep, outcome, day, meeting day for meetings, the follow-up's day it did, touches).

    One pass over the fortnight's touches gives both the touches and the follow-ups they did
    (a touch with a follow-up's day does that follow-up), for every window at once: the touches
    are grouped by the stretch between consecutive midnights of all the windows they fall in
    (managers in six time zones cut the fortnight into about ninety stretches), and each stretch
    lies on one day of each window."""
    if not windows:
        return []
    cuts = sorted({bound for w in windows for bound in w.bounds})
    inner = (
        select(
            Touch.team_id,
            Touch.user_id,
            Touch.outcome,
            _segment(Touch.at, cuts).label("segment"),
            case((Touch.outcome == "meeting", Touch.meeting_on), else_=None).label("meeting_on"),
            Touch.due_on,
        )
        .where(_span(Touch.at, Touch.team_id, windows))
        .subquery()
    )
    query = select(*inner.c, func.count()).group_by(*inner.c)
    days = _segments(windows, cuts)
    of_team: dict[str, list[Window]] = {}
    for w in windows:
        of_team.setdefault(w.team_id, []).append(w)
    counted = []
    for team, user, outcome, segment, meeting_on, due_on, count in _rows(session, query):
        for w in of_team.get(team, ()):
            day = days[w.key].get(int(segment))
            if day is not None:
                counted.append((w.key, user, outcome, day, meeting_on, due_on, int(count)))
    return counted


def _per_window_weeks(at: Any, team_id: Any, windows: Sequence[Window]) -> list[ColumnElement[Any]]:
    """For each window, the rows in its week before and in its last week, as two sums."""
    half = DAYS // 2
    return [
        func.sum(case((and_(team_id == w.team_id, at >= w.bounds[lo], at < w.bounds[hi]), 1), else_=0))
        for w in windows
        for lo, hi in ((0, half), (half, DAYS))
    ]


def _weeks(rows: Sequence[Any], windows: Sequence[Window]) -> dict[int, list[tuple[str, str, int, int]]]:
    """Each window's (key, what, 0 or 7, count) rows, from rows of (key, what, *two sums per window)."""
    weeks: dict[int, list[tuple[str, str, int, int]]] = {w.key: [] for w in windows}
    half = DAYS // 2
    for row in rows:
        key, what = row[0], row[1]
        for i, w in enumerate(windows):
            before, last = row[2 + 2 * i], row[3 + 2 * i]
            if before:
                weeks[w.key].append((key, what, 0, int(before)))
            if last:
                weeks[w.key].append((key, what, half, int(last)))
    return weeks


def status_counts(session: Session, windows: Sequence[Window]) -> dict[int, list[tuple[str, str, int, int]]]:
    """Per window: (the lead's owner, the new status, the first day of its week, changes).

    One pass over the fortnight's changes for every window: each window's two weeks are two sums
    of a row per owner and status, so fifty managers in six time zones read the changes once."""
    if not windows:
        return {}
    at = StatusChange.at
    query = (
        select(
            StatusChange.owner_id, StatusChange.status, *_per_window_weeks(at, StatusChange.team_id, windows)
        )
        .where(_span(at, StatusChange.team_id, windows))
        .group_by(StatusChange.team_id, StatusChange.owner_id, StatusChange.status)
    )
    return _weeks(_rows(session, query), windows)


def handoff_counts(session: Session, windows: Sequence[Window]) -> dict[int, list[tuple[str, str, int, int]]]:
    """Per window: (rep, "in" or "out", the first day of its week, approved transfers), read once
    for every window as `status_counts` does."""
    if not windows:
        return {}
    at, team = TransferRequest.decided_at, TransferRequest.team_id
    sides = [
        select(
            team.label("team_id"),
            user.label("user_id"),
            literal(direction).label("direction"),
            at.label("at"),
        ).where(TransferRequest.status == "approved", _span(at, team, windows))
        for user, direction in ((TransferRequest.to_user, "in"), (TransferRequest.from_owner, "out"))
    ]
    moved = union_all(*sides).subquery()
    query = select(
        moved.c.user_id, moved.c.direction, *_per_window_weeks(moved.c.at, moved.c.team_id, windows)
    ).group_by(moved.c.team_id, moved.c.user_id, moved.c.direction)
    return _weeks(_rows(session, query), windows)


CURVE_ATTEMPTS = 12


def first_contact_attempts(
    session: Session, team_ids: Sequence[str], *, recent_since: datetime
) -> list[tuple[str, int, bool, int]]:
    """(team, the attempt at which a lead was first reached, reached since `recent_since`?, leads).

    The attempt is the tries logged before the lead's first two-way touch, plus the tries an import
    carried over, plus one; every attempt after the 12th is counted as 13. The lead row keeps the
    first contact and its tries (`refresh_progress`), so this reads one index entry per reached lead
    and never the touch log.
    """
    if not team_ids:
        return []
    attempt = Lead.first_contact_tries + Lead.attempt_baseline + 1
    per_lead = (
        select(
            Lead.team_id,
            case((attempt > CURVE_ATTEMPTS, CURVE_ATTEMPTS + 1), else_=attempt).label("attempt"),
            case((Lead.first_contact_at >= recent_since, 1), else_=0).label("recent"),
        )
        .where(Lead.team_id.in_(team_ids), Lead.first_contact_at.is_not(None))
        .subquery()
    )
    query = select(*per_lead.c, func.count()).group_by(*per_lead.c)
    return [(r[0], int(r[1]), bool(r[2]), int(r[3])) for r in _rows(session, query)]


# ---- what is waiting: each rep's open leads counted in the database, on the rep's own calendar ----


class Person(NamedTuple):
    """Someone Baton holds a profile for, as the review reads them (their calendar, and whether they left)."""

    team_id: str
    user_id: str
    tz: str
    workdays: str | None  # their own working days as written; None: the team's
    deactivated: bool


def people(session: Session, team_ids: Sequence[str]) -> dict[str, list[Person]]:
    """Everyone Baton holds a profile for in these teams, as plain rows: one statement for every team."""
    found: dict[str, list[Person]] = {team: [] for team in team_ids}
    query = (
        select(Rep.team_id, Rep.user_id, Rep.tz, Rep.workdays, Rep.deactivated)
        .where(Rep.team_id.in_(team_ids))
        .order_by(Rep.team_id, Rep.user_id)
    )
    for row in _rows(session, query):
        found[row[0]].append(Person(row[0], row[1], row[2], row[3], bool(row[4])))
    return found


@dataclass(frozen=True)
class Cutoffs:
    """What "today", "past the cycle", "gone quiet" and "sat on" mean for the people of one team in
    one time zone, as instants the lead's columns are compared with (one row per team and zone that
    occurs, never per rep). `tz` is a rep's stored zone; None stands for the owners Baton holds no
    profile for, who are read on the review's own calendar."""

    team_id: str
    tz: str | None
    today: date
    cycle_before: datetime  # created before this: open longer than the sales cycle
    stall_before: datetime  # last two-way contact before this: gone quiet
    squat_before: datetime  # left alone since before this: sat on
    at_limit: int  # attempts without a conversation that reach the limit (or the cap)


def _yes(flag: ColumnElement[bool]) -> ColumnElement[int]:
    return case((flag, 1), else_=0)


def _untouched_since() -> ColumnElement[Any]:
    """`rules.untouched_since` in SQL: the last touch (or the lead's creation), or when the owner
    got it, whichever is later."""
    since = func.coalesce(Lead.last_touch_at, Lead.created_at)
    return case(
        (and_(Lead.counting_since.is_not(None), Lead.counting_since > since), Lead.counting_since),
        else_=since,
    )


def _open(team_ids: Sequence[str]) -> ColumnElement[bool]:
    return and_(Lead.team_id.in_(team_ids), Lead.status == "open")


def waiting_counts(
    session: Session, cutoffs: Sequence[Cutoffs]
) -> list[tuple[str, str, int, list[tuple[int, int, int, int]]]]:
    """(team, owner, open leads, and for each of `cutoffs` in order: overdue, at the limit, past the
    cycle, gone quiet) per owner of open leads: `rules.counts`, `is_past_sales_cycle` and
    `is_stalled` as the database counts them. The caller picks the owner's own time zone's four.

    Every zone's counts come back as columns of one row per owner, so the leads are read with no
    join at all: a team's every open lead is read once by the database, the same plan with or
    without table statistics, and only a row per rep comes back."""
    if not cutoffs:
        return []
    heard_of = Lead.opted_out_at.is_(None)
    columns = []
    for c in cutoffs:
        columns += [
            func.sum(_yes(Lead.next_follow_up < literal(c.today, Date()))),
            func.sum(
                _yes(
                    and_(
                        heard_of,
                        Lead.declined.is_(False),
                        Lead.reached.is_(False),
                        Lead.attempts >= literal(c.at_limit, Integer()),
                    )
                )
            ),
            func.sum(_yes(and_(heard_of, Lead.created_at < literal(c.cycle_before, UtcDateTime())))),
            func.sum(
                _yes(
                    and_(
                        heard_of,
                        Lead.reached.is_(True),
                        Lead.last_contact_at < literal(c.stall_before, UtcDateTime()),
                    )
                )
            ),
        ]
    teams = sorted({c.team_id for c in cutoffs})
    query = (
        select(Lead.team_id, Lead.owner_id, func.count(), *columns)
        .where(_open(teams))
        .group_by(Lead.team_id, Lead.owner_id)
    )
    counted = []
    for row in _rows(session, query):
        sums = [int(n or 0) for n in row[3:]]
        per_zone = [(sums[i], sums[i + 1], sums[i + 2], sums[i + 3]) for i in range(0, len(sums), 4)]
        counted.append((row[0], row[1], int(row[2]), per_zone))
    return counted


def sat_on_longest(
    session: Session, team_ids: Sequence[str], *, before: datetime, per_owner: int
) -> Sequence[Any]:
    """Each owner's `per_owner` open leads left alone longest and since before `before` (nobody
    opted out), as `nudge_leads` rows, the longest first (then by id). With `before` the latest
    squatting cutoff of any zone, the caller drops those not yet sat on where their owner is: the
    leads are ranked oldest first, so what it keeps is still each owner's longest."""
    if not team_ids:
        return []
    since = _untouched_since()
    # ranked on the few columns the ranking needs; only the chosen leads are read whole
    ranked = (
        select(
            Lead.id,
            func.row_number()
            .over(partition_by=(Lead.team_id, Lead.owner_id), order_by=(since, Lead.id))
            .label("rank"),
        )
        .where(_open(team_ids), Lead.opted_out_at.is_(None), since < literal(before, UtcDateTime()))
        .subquery()
    )
    query = (
        select(*NUDGE_COLUMNS)
        .join(ranked, ranked.c.id == Lead.id)
        .where(ranked.c.rank <= per_owner)
        .order_by(Lead.team_id, Lead.owner_id, ranked.c.rank)
    )
    return _rows(session, query)


def departed_leads(session: Session, team_ids: Sequence[str]) -> Sequence[Any]:
    """The open leads (nobody opted out) of people who left these teams, as `nudge_leads` rows."""
    if not team_ids:
        return []
    departed = select(Rep.team_id, Rep.user_id).where(Rep.team_id.in_(team_ids), Rep.deactivated.is_(True))
    query = (
        select(*NUDGE_COLUMNS)
        .where(
            tuple_(Lead.team_id, Lead.owner_id).in_(departed),  # their leads found by the owner index
            Lead.status == "open",
            Lead.opted_out_at.is_(None),
        )
        .order_by(Lead.id)
    )
    return _rows(session, query)


# ---- the review's picture: a delivery of its own kind, retried here (the outbox carries messages) ----


def retry_failed(
    session: Session,
    rows: Sequence[Mapping[str, object]],
    *,
    now: datetime,
    owner: str,
    failed_before: datetime,
    max_attempts: int,
) -> set[tuple[str, str]]:
    """Take back deliveries of this kind that failed before `failed_before`, for another try."""
    if not rows:
        return set()
    statement = (
        update(Delivery)
        .where(
            Delivery.kind == rows[0]["kind"],
            among(delivery_keys(session, rows)),  # not an IN list: the same statement for any team
            Delivery.status == "failed",
            Delivery.attempts < max_attempts,
            Delivery.finished_at < failed_before,
        )
        .values(status="claimed", attempts=Delivery.attempts + 1, claimed_at=now, owner=owner)
        .returning(Delivery.team_id, Delivery.user_id)
        .execution_options(synchronize_session=False)
    )
    return {(row.team_id, row.user_id) for row in session.execute(statement)}


def settle(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    kind: str,
    local_date: date,
    owner: str,
    status: str,
    now: datetime,
    channel: str | None = None,
    ts: str | None = None,
    error: str | None = None,
) -> None:
    """Record how this run's claim ended (sent or failed), unless another run has taken it since."""
    session.execute(
        update(Delivery)
        .where(
            Delivery.team_id == team_id,
            Delivery.user_id == user_id,
            Delivery.kind == kind,
            Delivery.local_date == local_date,
            Delivery.owner == owner,
        )
        .values(status=status, finished_at=now, channel=channel, ts=ts, error=error)
        .execution_options(synchronize_session=False)
    )
