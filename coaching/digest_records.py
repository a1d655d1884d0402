"""Scheduled nudges: who is due a digest or a review, claiming each exactly once, and what each holds.

Built for a whole company at once: the number of SQL statements doesn't grow with the number of
reps or leads (one query for the reps, one for the leads, one claim per batch), so a thousand reps'
digests cost the same few round trips as ten.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from coaching.bulk import collector_paused
from coaching.calendar import MON_FRI, local_date, next_working_day
from coaching.digest_contents import (
    Days,
    Digest,
    Item,
    digest_due,
    digest_for,
    orphans_of,
    review_due,
)
from coaching.leads import Change, NotAllowed, may_change
from coaching.people import managers, own_workdays, workdays_of, zone
from coaching.rules import Rules, Status
from coaching.settings import TeamConfig, team_config
from coaching.snapshots import LeadSnapshot, NudgeLead, lead_from_row, lead_snapshot, nudge_lead_from_row
from store import outbox as outbox_rows
from store import queries

# A claim its run stopped renewing (the process died before queueing it) is taken over. A live
# run renews its claims before each recipient, however slow Slack is.
STALE_CLAIM = timedelta(minutes=15)


class Kind(StrEnum):
    DIGEST = "digest"
    REVIEW = "review"
    REMINDERS = "reminders"  # a manager's hand-off requests still waiting, shown again on their morning
    CHART = "review_chart"  # the review's picture: sent, failed and retried apart from its text


@dataclass(frozen=True)
class Recipient:
    team_id: str
    user_id: str
    tz: str
    local_date: date
    workdays: frozenset[int] = MON_FRI  # theirs: their own setting, or the team's

    @property
    def key(self) -> tuple[str, str]:
        return self.team_id, self.user_id

    @property
    def days(self) -> Days:
        return Days(zone(self.tz), self.workdays)


@dataclass(frozen=True)
class DigestJob:
    recipient: Recipient
    digest: Digest
    rules: Rules
    now: datetime


def _configs(session: Session, team_ids: Iterable[str], defaults: TeamConfig) -> dict[str, TeamConfig]:
    return {team: team_config(session, team_id=team, defaults=defaults) for team in set(team_ids)}


def due_digests(
    session: Session, *, now: datetime, defaults: TeamConfig, everyone: bool = False
) -> list[Recipient]:
    """Reps whose digest time it is (in their own time zone, on a working day), or every rep with
    leads when `everyone` (a manual run)."""
    owners = queries.digests.lead_owners(session)
    reps = [r for r in queries.people.active_reps(session) if (r.team_id, r.user_id) in owners]
    configs = _configs(session, (r.team_id for r in reps), defaults)
    due = []
    for rep in reps:
        config = configs[rep.team_id]
        local_now = now.astimezone(zone(rep.tz))
        workdays = own_workdays(rep.workdays) or config.digest_days
        if everyone or digest_due(local_now, at=config.digest_time, workdays=workdays):
            due.append(Recipient(rep.team_id, rep.user_id, rep.tz, local_now.date(), workdays))
    return due


def due_reviews(
    session: Session, *, now: datetime, defaults: TeamConfig, everyone: bool = False
) -> list[Recipient]:
    """Managers whose weekly pipeline review it is: the review day's morning (Monday by default) in
    their own time zone, or their first working day after it. A manager Baton has no profile for
    yet is left for a later tick: `managers_without_profile` says whom to look up first."""
    reps = {(r.team_id, r.user_id): r for r in queries.people.active_reps(session)}
    teams = {team for team, _ in reps} | set(queries.digests.teams_with_leads(session))
    configs = _configs(session, teams, defaults)
    due = []
    for team, config in configs.items():
        listed = queries.people.listed_managers(session, team_id=team)
        for manager in sorted(config.manager_ids | set(listed)):
            rep = reps.get((team, manager))
            if rep is None:
                continue  # never UTC by default: their morning is unknown until Slack says where they are
            local_now = now.astimezone(zone(rep.tz))
            workdays = own_workdays(rep.workdays) or config.digest_days
            if everyone or review_due(
                local_now, at=config.digest_time, review_day=config.review_day, workdays=workdays
            ):
                due.append(Recipient(team, manager, rep.tz, local_now.date(), workdays))
    return due


def managers_without_profile(session: Session, *, defaults: TeamConfig) -> list[tuple[str, str]]:
    """(team, manager) pairs Baton holds no profile for: look them up before deciding who is due."""
    known = {(r.team_id, r.user_id) for r in queries.people.reps_known(session)}
    teams = {team for team, _ in known} | set(queries.digests.teams_with_leads(session))
    missing = []
    for team, config in _configs(session, teams, defaults).items():
        for manager in sorted(
            config.manager_ids | set(queries.people.listed_managers(session, team_id=team))
        ):
            if (team, manager) not in known:
                missing.append((team, manager))
    return missing


def claim(
    session: Session,
    recipients: Sequence[Recipient],
    *,
    kind: Kind,
    now: datetime,
    owner: str,
    force: bool = False,
    share: int | None = None,
) -> list[Recipient]:
    """Take, under the run's `owner` token, the recipients nobody has taken today, plus claims
    abandoned by a run that died before queueing them.

    The unique (team, person, kind, day) key makes this safe across processes and restarts; with
    `force` (a manual re-run) a day's delivery is taken again whatever its state. Retrying a
    failed send is the outbox's job, not a new claim's: a new claim would be a second message.
    With `share`, at most that many new ones, in the order given (`share_of`).
    """
    if not recipients:
        return []
    rows = [
        {"team_id": r.team_id, "user_id": r.user_id, "kind": kind.value, "local_date": r.local_date}
        for r in recipients
    ]
    fresh = queries.digests.claim_deliveries(session, rows, now=now, owner=owner, share=share)
    again = queries.digests.reclaim_deliveries(
        session, rows, now=now, owner=owner, abandoned_before=now - STALE_CLAIM, force=force
    )
    taken = fresh | again
    return [r for r in recipients if (r.team_id, r.user_id) in taken]


def claim_for_today(
    session: Session, recipients: Sequence[Recipient], *, kind: Kind, now: datetime
) -> list[Recipient]:
    """Take and close at once the recipients nobody has taken today: for messages that go through
    the outbox one by one, where the claim only says "done for this person today"."""
    owner = uuid.uuid4().hex
    taken = claim(session, recipients, kind=kind, now=now, owner=owner)
    for r in taken:
        delivery_id = outbox_rows.queue_delivery(
            session,
            owner=owner,
            team_id=r.team_id,
            user_id=r.user_id,
            kind=kind.value,
            local_date=r.local_date,
            status="empty",
        )
        if delivery_id is not None:
            outbox_rows.settle_delivery(session, delivery_id, status="empty", now=now)
    return taken


def share_of(due: int, clocks: int) -> int | None:
    """How many of a morning's `due` digests one of `clocks` clock processes claims at a time:
    None (all of them) for a lone clock. Each clock claims its share, sends it, then claims again
    until nothing is left, so a clock that died leaves its share to the others, not undone."""
    return None if clocks <= 1 else max(1, -(-due // clocks))


def _leads_by_owner(
    session: Session, owners: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[NudgeLead]]:
    grouped: dict[tuple[str, str], list[NudgeLead]] = defaultdict(list)
    for row in queries.digests.owners_leads(session, sorted(set(owners))):
        grouped[row[0], row[1]].append(nudge_lead_from_row(row))  # (team, owner), by position: rows are many
    return grouped


def digests(
    session: Session, recipients: Sequence[Recipient], *, now: datetime, defaults: TeamConfig
) -> list[DigestJob]:
    """Each recipient's digest, from their own leads only: a clock that claimed a share of the
    team reads that share's leads."""
    configs = _configs(session, (r.team_id for r in recipients), defaults)
    with collector_paused():
        leads = _leads_by_owner(session, (r.key for r in recipients))
        jobs = []
        for recipient in recipients:
            rules = configs[recipient.team_id].rules
            digest = digest_for(
                recipient.user_id,
                leads.get(recipient.key, []),
                now=now,
                today=recipient.local_date,
                rules=rules,
                days=recipient.days,
            )
            jobs.append(DigestJob(recipient, digest, rules, now))
    return jobs


def digest_now(
    session: Session, *, team_id: str, user_id: str, now: datetime, tz: ZoneInfo, defaults: TeamConfig
) -> Digest:
    """One rep's digest as it stands now: the digest message refreshes itself after a button."""
    config = team_config(session, team_id=team_id, defaults=defaults)
    workdays = workdays_of(session, team_id=team_id, user_id=user_id, team_days=config.digest_days)
    leads = [
        lead_from_row(row)
        for row in queries.digests.nudge_leads(session, team_ids=[team_id], owner_id=user_id)
    ]
    return digest_for(
        user_id, leads, now=now, today=local_date(now, tz), rules=config.rules, days=Days(tz, workdays)
    )


def calendars(session: Session, team_id: str, *, team_days: frozenset[int]) -> dict[str, Days]:
    """Every known person's time zone and working days in a team, for views across reps."""
    return {
        rep.user_id: Days(zone(rep.tz), own_workdays(rep.workdays) or team_days)
        for rep in queries.people.team_reps(session, team_id=team_id)
    }


# ---- buttons in the digest ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Snoozed:
    lead: LeadSnapshot
    until: date


def snooze(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    is_manager: bool,
    lead_id: int,
    today: date,
    workdays: frozenset[int],
    days: int = 2,
) -> Snoozed | NotAllowed | None:
    """Leave a lead out of the digest for `days` days; its follow-up moves no earlier than that.

    The button may be forged, or on a Home tab drawn before the lead moved to someone else: who
    may snooze is decided by the lead as it is now."""
    lead = queries.leads.lead(session, team_id=team_id, lead_id=lead_id, for_update=True)
    if lead is None:
        return None
    if not may_change(lead, user_id=user_id, is_manager=is_manager):
        return NotAllowed(lead_snapshot(lead), Change.SNOOZE)
    until = today + timedelta(days=days)
    lead.snoozed_until = until
    until = next_working_day(until, workdays)  # the follow-up lands on a working day like any other
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
    leads = [
        lead_from_row(row)
        for row in queries.digests.nudge_leads(session, team_ids=[team_id], owner_id=departed)
    ]
    rep = queries.people.rep(session, team_id=team_id, user_id=departed)
    days = Days(zone(rep.tz if rep else None), config.digest_days)
    return Orphans(
        team_id,
        departed,
        orphans_of(leads, now=now, rules=config.rules, days=days),
        tuple(managers(session, team_id=team_id, configured=config.manager_ids)),
        config.manager_channel,
    )
