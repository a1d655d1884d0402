"""Scheduled nudges: who is due a digest or a review, claiming each exactly once, and what each holds.

Built for a whole company at once: the number of SQL statements doesn't grow with the number of
reps or leads (one query for the reps, one for the leads, one claim per batch), so a thousand reps'
digests cost the same few round trips as ten.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from coaching.nudges import Digest, Item, Review, digest_due, digest_for, orphans_of, review_due, review_for
from coaching.people import managers, zone
from coaching.rules import Rules, Status
from coaching.settings import TeamConfig, team_config
from coaching.snapshots import LeadSnapshot, lead_from_row, lead_snapshot
from store import queries

RETRY_AFTER = timedelta(minutes=5)  # a failed delivery is tried again on a later tick
STALE_CLAIM = timedelta(minutes=15)  # a claim nobody finished (the process died) is taken over
MAX_ATTEMPTS = 4


class Kind(StrEnum):
    DIGEST = "digest"
    REVIEW = "review"


@dataclass(frozen=True)
class Recipient:
    team_id: str
    user_id: str
    tz: str
    local_date: date

    @property
    def key(self) -> tuple[str, str]:
        return self.team_id, self.user_id


@dataclass(frozen=True)
class DigestJob:
    recipient: Recipient
    digest: Digest
    rules: Rules
    now: datetime


@dataclass(frozen=True)
class ReviewJob:
    recipient: Recipient
    review: Review
    now: datetime


def _configs(session: Session, team_ids: Iterable[str], defaults: TeamConfig) -> dict[str, TeamConfig]:
    return {team: team_config(session, team_id=team, defaults=defaults) for team in set(team_ids)}


def due_digests(
    session: Session, *, now: datetime, defaults: TeamConfig, everyone: bool = False
) -> list[Recipient]:
    """Reps whose digest time it is (in their own time zone, on a working day), or every rep with
    leads when `everyone` (a manual run)."""
    owners = queries.lead_owners(session)
    reps = [r for r in queries.active_reps(session) if (r.team_id, r.user_id) in owners]
    configs = _configs(session, (r.team_id for r in reps), defaults)
    due = []
    for rep in reps:
        config = configs[rep.team_id]
        local_now = now.astimezone(zone(rep.tz))
        if everyone or digest_due(local_now, at=config.digest_time, workdays=config.digest_days):
            due.append(Recipient(rep.team_id, rep.user_id, rep.tz, local_now.date()))
    return due


def due_reviews(
    session: Session, *, now: datetime, defaults: TeamConfig, everyone: bool = False
) -> list[Recipient]:
    """Managers whose weekly pipeline review it is (Monday morning by default, their time)."""
    reps = {(r.team_id, r.user_id): r for r in queries.active_reps(session)}
    teams = {team for team, _ in reps} | set(queries.teams_with_leads(session))
    configs = _configs(session, teams, defaults)
    due = []
    for team, config in configs.items():
        listed = queries.listed_managers(session, team)
        for manager in sorted(config.manager_ids | set(listed)):
            rep = reps.get((team, manager))
            tz = rep.tz if rep else "UTC"
            local_now = now.astimezone(zone(tz))
            if everyone or review_due(local_now, at=config.digest_time, review_day=config.review_day):
                due.append(Recipient(team, manager, tz, local_now.date()))
    return due


def claim(
    session: Session, recipients: Sequence[Recipient], *, kind: Kind, now: datetime, force: bool = False
) -> list[Recipient]:
    """Take the recipients nobody has taken today, plus failed or abandoned ones worth another try.

    The unique (team, person, kind, day) key makes this safe across processes and restarts; with
    `force` (a manual re-run) a day's delivery is taken again whatever its state.
    """
    if not recipients:
        return []
    rows = [
        {"team_id": r.team_id, "user_id": r.user_id, "kind": kind.value, "local_date": r.local_date}
        for r in recipients
    ]
    fresh = queries.claim_deliveries(session, rows, now=now)
    again = queries.reclaim_deliveries(
        session,
        rows,
        now=now,
        failed_before=now - RETRY_AFTER,
        abandoned_before=now - STALE_CLAIM,
        max_attempts=MAX_ATTEMPTS,
        force=force,
    )
    taken = fresh | again
    return [r for r in recipients if (r.team_id, r.user_id) in taken]


def finish(
    session: Session,
    recipient: Recipient,
    *,
    kind: Kind,
    status: str,
    now: datetime,
    channel: str | None = None,
    ts: str | None = None,
    error: str | None = None,
) -> None:
    queries.finish_delivery(
        session,
        team_id=recipient.team_id,
        user_id=recipient.user_id,
        kind=kind.value,
        local_date=recipient.local_date,
        status=status,
        now=now,
        channel=channel,
        ts=ts,
        error=error,
    )


def _leads_by_owner(session: Session, team_ids: Iterable[str]) -> dict[tuple[str, str], list[LeadSnapshot]]:
    grouped: dict[tuple[str, str], list[LeadSnapshot]] = defaultdict(list)
    for row in queries.nudge_leads(session, sorted(set(team_ids))):
        grouped[(row.team_id, row.owner_id)].append(lead_from_row(row))
    return grouped


def digests(
    session: Session, recipients: Sequence[Recipient], *, now: datetime, defaults: TeamConfig
) -> list[DigestJob]:
    configs = _configs(session, (r.team_id for r in recipients), defaults)
    leads = _leads_by_owner(session, (r.team_id for r in recipients))
    jobs = []
    for recipient in recipients:
        rules = configs[recipient.team_id].rules
        digest = digest_for(
            recipient.user_id, leads.get(recipient.key, []), now=now, today=recipient.local_date, rules=rules
        )
        jobs.append(DigestJob(recipient, digest, rules, now))
    return jobs


def digest_now(
    session: Session, *, team_id: str, user_id: str, now: datetime, tz: ZoneInfo, defaults: TeamConfig
) -> Digest:
    """One rep's digest as it stands now: the digest message refreshes itself after a button."""
    config = team_config(session, team_id=team_id, defaults=defaults)
    leads = [lead_from_row(row) for row in queries.nudge_leads(session, [team_id], owner_id=user_id)]
    return digest_for(user_id, leads, now=now, today=now.astimezone(tz).date(), rules=config.rules)


def reviews(
    session: Session, recipients: Sequence[Recipient], *, now: datetime, defaults: TeamConfig
) -> list[ReviewJob]:
    configs = _configs(session, (r.team_id for r in recipients), defaults)
    teams = sorted({r.team_id for r in recipients})
    by_team: dict[str, list[tuple[str, LeadSnapshot]]] = defaultdict(list)
    for row in queries.nudge_leads(session, teams):
        by_team[row.team_id].append((row.owner_id, lead_from_row(row)))
    departed = queries.departed_reps(session, teams)
    jobs = []
    for recipient in recipients:
        review = review_for(
            by_team[recipient.team_id],
            departed=frozenset(user for team, user in departed if team == recipient.team_id),
            now=now,
            today=recipient.local_date,
            rules=configs[recipient.team_id].rules,
        )
        jobs.append(ReviewJob(recipient, review, now))
    return jobs


# ---- buttons in the digest ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Snoozed:
    lead: LeadSnapshot
    until: date


def snooze(
    session: Session, *, team_id: str, user_id: str, lead_id: int, today: date, days: int = 2
) -> Snoozed | None:
    """Leave a lead out of the digest for `days` days; its follow-up moves no earlier than that."""
    lead = queries.lead(session, team_id, lead_id)
    if lead is None:
        return None
    until = today + timedelta(days=days)
    lead.snoozed_until = until
    if lead.status == Status.OPEN and lead.next_follow_up is not None and lead.next_follow_up < until:
        lead.next_follow_up = until
    return Snoozed(lead_snapshot(lead), until)


@dataclass(frozen=True)
class Orphans:
    team_id: str
    departed: str
    items: tuple[Item, ...]  # their open leads
    managers: tuple[str, ...]
    manager_channel: str | None


def orphans(session: Session, *, team_id: str, departed: str, now: datetime, defaults: TeamConfig) -> Orphans:
    """The open leads of someone whose Slack account was deactivated, and who should hear of it."""
    config = team_config(session, team_id=team_id, defaults=defaults)
    leads = [lead_from_row(row) for row in queries.nudge_leads(session, [team_id], owner_id=departed)]
    return Orphans(
        team_id,
        departed,
        orphans_of(leads, now=now),
        tuple(managers(session, team_id=team_id, configured=config.manager_ids)),
        config.manager_channel,
    )
