"""A rep's pipeline grouped by what needs doing: /pipeline, and the same groups for App Home."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from coaching.calendar import local_date
from coaching.people import workdays_of
from coaching.rules import Counts, Due, Flag, Rules, Status, counts, due, flags, overdue_days
from coaching.snapshots import LeadSnapshot, lead_snapshot
from store import queries


@dataclass(frozen=True)
class Item:
    lead: LeadSnapshot
    flags: frozenset[Flag]
    overdue_days: int = 0  # working days past the follow-up, on the owner's working days


@dataclass(frozen=True)
class Pipeline:
    owner_id: str
    today: date
    overdue: tuple[Item, ...]  # most overdue first
    due_today: tuple[Item, ...]
    upcoming: tuple[Item, ...]  # soonest first
    # Open, but Baton has nothing scheduled: the attempt cap, "not interested", or an opt-out.
    # Each needs a decision from the rep (back-burner, close, hand on).
    undecided: tuple[Item, ...]
    backburner: tuple[Item, ...]
    rules: Rules
    counts: Counts  # the one definition: the digest's headline and the managers' views agree

    @property
    def open_count(self) -> int:
        return self.counts.open

    @property
    def is_empty(self) -> bool:
        return self.open_count == 0 and not self.backburner


def pipeline(
    session: Session,
    *,
    team_id: str,
    owner_id: str,
    now: datetime,
    tz: ZoneInfo,
    rules: Rules,
    team_days: frozenset[int],
) -> Pipeline:
    """The owner's leads on the owner's calendar (their working days), whoever is looking."""
    today = local_date(now, tz)
    workdays = workdays_of(session, team_id=team_id, user_id=owner_id, team_days=team_days)
    rows = queries.leads.owned_leads(
        session, team_id=team_id, owner_id=owner_id, statuses=[Status.OPEN.value, Status.BACKBURNER.value]
    )
    groups: dict[Due, list[Item]] = {d: [] for d in Due}
    backburner: list[Item] = []
    for row in rows:
        lead = lead_snapshot(row)
        item = Item(
            lead,
            flags(lead, now=now, today=today, rules=rules, tz=tz, workdays=workdays),
            overdue_days(lead.next_follow_up, today, workdays) if lead.is_open else 0,
        )
        if lead.status is Status.BACKBURNER:
            backburner.append(item)
        else:
            groups[due(lead.next_follow_up, today, workdays)].append(item)
    by_name = sorted(backburner, key=lambda item: item.lead.name.casefold())
    return Pipeline(
        owner_id=owner_id,
        today=today,
        overdue=tuple(groups[Due.OVERDUE]),
        due_today=tuple(groups[Due.TODAY]),
        upcoming=tuple(groups[Due.UPCOMING]),
        undecided=tuple(sorted(groups[Due.UNSCHEDULED], key=lambda item: item.lead.name.casefold())),
        backburner=tuple(by_name),
        rules=rules,
        counts=counts(
            (
                item.lead
                for item in (
                    *groups[Due.OVERDUE],
                    *groups[Due.TODAY],
                    *groups[Due.UPCOMING],
                    *groups[Due.UNSCHEDULED],
                )
            ),
            today=today,
            workdays=workdays,
            rules=rules,
        ),
    )
