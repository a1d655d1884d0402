"""What Baton's Home tab shows someone: their pipeline at a glance and, for managers, the team."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from coaching.calendar import local_date
from coaching.caller import Caller
from coaching.digest_contents import Days, Digest, Item, item_of
from coaching.digest_records import calendars, digest_now
from coaching.handoff_results import TransferSnapshot, transfer_snapshot
from coaching.pipeline import Pipeline, pipeline
from coaching.rules import Status, counts, is_past_sales_cycle
from coaching.snapshots import LeadSnapshot, lead_from_row, lead_snapshot
from store import queries

WINS_SINCE = timedelta(days=90)
SHOWN = 5


@dataclass(frozen=True)
class RepCount:
    owner_id: str
    open: int
    overdue: int
    at_limit: int
    stale: int


@dataclass(frozen=True)
class Team:
    """A manager's view: counts per rep, hand-offs waiting for a decision, leads left by people who left."""

    reps: tuple[RepCount, ...]
    waiting: tuple[TransferSnapshot, ...]
    orphaned: tuple[tuple[str, Item], ...]  # (departed owner, lead)


@dataclass(frozen=True)
class HomeView:
    user_id: str
    today: Digest
    pipeline: Pipeline
    wins: tuple[LeadSnapshot, ...]
    team: Team | None  # managers only


def rep_counts(session: Session, caller: Caller, *, days_of: dict[str, Days]) -> tuple[RepCount, ...]:
    """Per rep with open leads: the same counts their own /pipeline shows, on their own calendar."""
    by_owner: dict[str, list[LeadSnapshot]] = defaultdict(list)
    for row in queries.digests.nudge_leads(session, team_ids=[caller.team_id]):
        by_owner[row.owner_id].append(lead_from_row(row))
    departed = {user for _, user in queries.people.departed_reps(session, team_ids=[caller.team_id])}
    reps = []
    mine = Days(caller.tz, caller.workdays)
    for owner, leads in by_owner.items():
        if owner in departed:
            continue  # listed under "left the team" instead
        days = days_of.get(owner, mine)
        today = local_date(caller.now, days.tz)
        tally = counts(leads, today=today, workdays=days.workdays, rules=caller.rules)
        if not tally.open:
            continue
        stale = sum(
            lead.status is Status.OPEN
            and lead.opted_out_at is None
            and is_past_sales_cycle(lead.created_at, now=caller.now, rules=caller.rules, tz=days.tz)
            for lead in leads
        )
        reps.append(RepCount(owner, tally.open, tally.overdue, tally.at_limit, stale))
    return tuple(sorted(reps, key=lambda r: (-(r.overdue + r.at_limit), -r.open, r.owner_id)))


def home(session: Session, caller: Caller) -> HomeView:
    now, rules = caller.now, caller.rules
    today = digest_now(
        session, team_id=caller.team_id, user_id=caller.user_id, now=now, tz=caller.tz, defaults=caller.config
    )
    view = pipeline(
        session,
        team_id=caller.team_id,
        owner_id=caller.user_id,
        now=now,
        tz=caller.tz,
        rules=rules,
        team_days=caller.config.digest_days,
    )
    wins = tuple(
        lead_snapshot(lead)
        for lead in queries.leads.recent_wins(
            session, team_id=caller.team_id, owner_id=caller.user_id, since=now - WINS_SINCE, limit=SHOWN
        )
    )
    team = None
    if caller.is_manager:
        waiting = queries.handoffs.pending_transfers(session, team_id=caller.team_id, limit=SHOWN)
        orphans = queries.team.orphaned_leads(session, team_id=caller.team_id, limit=10)
        days_of = calendars(session, caller.team_id, team_days=caller.config.digest_days)
        mine = Days(caller.tz, caller.workdays)
        team = Team(
            reps=rep_counts(session, caller, days_of=days_of),
            waiting=tuple(transfer_snapshot(session, t, now=now, rules=rules) for t in waiting),
            orphaned=tuple(
                (
                    lead.owner_id,
                    item_of(
                        lead_snapshot(lead),
                        now=now,
                        today=caller.today,
                        rules=rules,
                        days=days_of.get(lead.owner_id, mine),
                    ),
                )
                for lead in orphans
            ),
        )
    return HomeView(caller.user_id, today, view, wins, team)
