"""What Baton's Home tab shows someone: their pipeline at a glance and, for managers, the team."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from coaching.caller import Caller
from coaching.digests import digest_now
from coaching.handoffs import TransferSnapshot, transfer_snapshot
from coaching.nudges import Digest, Item, item_of
from coaching.pipeline import Pipeline, pipeline
from coaching.snapshots import LeadSnapshot, lead_snapshot
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


def home(session: Session, caller: Caller) -> HomeView:
    now, rules = caller.now, caller.rules
    today = digest_now(
        session, team_id=caller.team_id, user_id=caller.user_id, now=now, tz=caller.tz, defaults=caller.config
    )
    view = pipeline(
        session, team_id=caller.team_id, owner_id=caller.user_id, now=now, tz=caller.tz, rules=rules
    )
    wins = tuple(
        lead_snapshot(lead)
        for lead in queries.recent_wins(
            session, caller.team_id, caller.user_id, since=now - WINS_SINCE, limit=SHOWN
        )
    )
    team = None
    if caller.is_manager:
        counts = queries.team_counts(
            session,
            caller.team_id,
            today=caller.today,
            cycle_start=now - timedelta(days=rules.sales_cycle_days),
            attempts_limit=rules.attempts_limit,
        )
        waiting = queries.pending_transfers_for_team(session, caller.team_id, limit=SHOWN)
        orphans = queries.orphaned_leads(session, caller.team_id, limit=10)
        team = Team(
            reps=tuple(
                sorted((RepCount(*row) for row in counts), key=lambda r: (-(r.overdue + r.at_limit), -r.open))
            ),
            waiting=tuple(transfer_snapshot(session, t, now=now, rules=rules) for t in waiting),
            orphaned=tuple((lead.owner_id, item_of(lead_snapshot(lead), now=now)) for lead in orphans),
        )
    return HomeView(caller.user_id, today, view, wins, team)
