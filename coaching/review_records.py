"""The weekly review's database side: every manager's review from a fixed handful of statements.

Managers who share a team and a fortnight (the same local review day in the same time zone) share
one computed review, so fifty managers of one team cost what one does, plus a row each in the
`windows` the statements join on.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from coaching import digest_records
from coaching.caller import Caller
from coaching.digest_contents import Days, Review
from coaching.digest_records import Kind, Recipient, calendars
from coaching.people import zone
from coaching.review import (
    RECENT_DAYS,
    AttemptCurve,
    CurveRow,
    FollowUpRow,
    HandoffRow,
    StatusRow,
    TeamWeek,
    TouchRow,
    attempt_curve,
    day_bounds,
    limit_problem,
    team_week,
)
from coaching.rules import Rules
from coaching.settings import SettingsChanged, SettingsRefused, TeamConfig, change_settings, team_config
from store import review_queries
from store.review_queries import Window


@dataclass(frozen=True)
class WeeklyReview:
    """Everything one manager's Monday review holds."""

    team_id: str
    today: date  # the manager's local date the review is for
    tz: str
    rules: Rules
    week: TeamWeek
    curve: AttemptCurve
    waiting: Review  # open, overdue, at the limit, gone quiet, past the cycle, squatting, orphaned

    @property
    def key(self) -> tuple[str, date, str]:
        """Managers with the same key get the same review (and the same picture)."""
        return self.team_id, self.today, self.tz


@dataclass(frozen=True)
class ReviewJob:
    recipient: Recipient
    review: WeeklyReview


def weekly_reviews(
    session: Session, recipients: Sequence[Recipient], *, now: datetime, defaults: TeamConfig
) -> list[ReviewJob]:
    if not recipients:
        return []
    firsts: dict[Key, Recipient] = {}
    for recipient in recipients:
        firsts.setdefault(_key(recipient), recipient)
    keys = sorted(firsts)
    # What is waiting depends on the team and the moment, not on the manager: each rep's counts are
    # read on the rep's own calendar at `now`, and the manager's date only heads it. So every manager
    # of a team shares one computation (it reads every open lead), dated for each.
    by_team: dict[str, Recipient] = {}
    for key in keys:
        by_team.setdefault(key[0], firsts[key])
    waiting_of_team = {
        job.recipient.team_id: job.review
        for job in digest_records.reviews(session, list(by_team.values()), now=now, defaults=defaults)
    }
    waiting = {key: replace(waiting_of_team[key[0]], today=key[1]) for key in keys}
    configs = {team: team_config(session, team_id=team, defaults=defaults) for team in {k[0] for k in keys}}
    windows = [Window(i, team, day_bounds(today, zone(tz))) for i, (team, today, tz) in enumerate(keys)]
    touches: dict[int, list[TouchRow]] = defaultdict(list)
    follow_ups: dict[int, list[FollowUpRow]] = defaultdict(list)
    statuses: dict[int, list[StatusRow]] = defaultdict(list)
    handoffs: dict[int, list[HandoffRow]] = defaultdict(list)
    for w, user, outcome, day, meeting_on, due, count in review_queries.touch_counts(session, windows):
        touches[w].append((user, outcome, day, meeting_on, count))
        if due is not None:
            follow_ups[w].append((user, due, day, count))
    for w, user, status, day, count in review_queries.status_counts(session, windows):
        statuses[w].append((user, status, day, count))
    for w, user, direction, day, count in review_queries.handoff_counts(session, windows):
        handoffs[w].append((user, direction, day, count))
    curves: dict[str, list[CurveRow]] = defaultdict(list)
    for team, attempt, recent, count in review_queries.first_contact_attempts(
        session, sorted(configs), recent_since=now - timedelta(days=RECENT_DAYS)
    ):
        curves[team].append((attempt, recent, count))
    calendar_of = {team: calendars(session, team, team_days=c.digest_days) for team, c in configs.items()}
    built: dict[Key, WeeklyReview] = {}
    for index, key in enumerate(keys):
        team, today, tz = key
        config = configs[team]
        built[key] = WeeklyReview(
            team,
            today,
            tz,
            config.rules,
            team_week(
                today,
                touches=touches[index],
                follow_ups=follow_ups[index],
                statuses=statuses[index],
                handoffs=handoffs[index],
                workdays_of=_workdays(calendar_of[team], config.digest_days),
                people=[line.owner_id for line in waiting[key].reps],
            ),
            attempt_curve(curves[team], config.rules),
            waiting[key],
        )
    return [ReviewJob(recipient, built[_key(recipient)]) for recipient in recipients]


Key = tuple[str, date, str]  # team, the manager's local date, time zone


def _workdays(days: Mapping[str, Days], team_days: frozenset[int]) -> Callable[[str], frozenset[int]]:
    """Each rep's own working days (or the team's), for how late a follow-up was."""
    return lambda user: days[user].workdays if user in days else team_days


def _key(recipient: Recipient) -> Key:
    return recipient.team_id, recipient.local_date, recipient.tz


# ---- "Set the limit to N" -------------------------------------------------------------------------


@dataclass(frozen=True)
class LimitRefused:
    reason: str  # in words a manager (or a rep) can act on


def set_limit(
    session: Session, caller: Caller, *, limit: int, defaults: TeamConfig
) -> SettingsChanged | LimitRefused:
    """The review's button: the same change as `/coach set attempts_limit N`, for managers only, and
    only while attempts_suggest < N < attempts_cap still holds (the numbers may have changed since)."""
    if not caller.is_manager:
        return LimitRefused(
            "Only a manager can change the attempt limit, so nothing changed. "
            "`/coach settings` shows the team's numbers."
        )
    problem = limit_problem(caller.rules, limit)
    if problem is not None:
        return LimitRefused(problem)
    changed = change_settings(
        session,
        team_id=caller.team_id,
        user_id=caller.user_id,
        values={"attempts_limit": str(limit)},
        defaults=defaults,
        now=caller.now,
    )
    if isinstance(changed, SettingsRefused):
        return LimitRefused(" ".join(changed.problems.values()))
    return changed


# ---- the picture's delivery ---------------------------------------------------------------------------

PICTURE_RETRY_AFTER = timedelta(minutes=5)
PICTURE_ATTEMPTS = 4


def claim_pictures(
    session: Session, recipients: Sequence[Recipient], *, now: datetime, owner: str, force: bool = False
) -> list[Recipient]:
    """The pictures this run sends: nobody's yet, abandoned, or failed a while ago (up to 4 tries).

    The picture is a file, not a message, so it is not in the outbox: a failed upload is retried
    by claiming it again here, and the review's text (in the outbox) is never sent twice for it."""
    taken = {
        r.key
        for r in digest_records.claim(session, recipients, kind=Kind.CHART, now=now, owner=owner, force=force)
    }
    rows = [
        {"team_id": r.team_id, "user_id": r.user_id, "kind": Kind.CHART.value, "local_date": r.local_date}
        for r in recipients
        if r.key not in taken
    ]
    taken |= review_queries.retry_failed(
        session,
        rows,
        now=now,
        owner=owner,
        failed_before=now - PICTURE_RETRY_AFTER,
        max_attempts=PICTURE_ATTEMPTS,
    )
    return [r for r in recipients if r.key in taken]


def picture_done(
    session: Session,
    recipient: Recipient,
    *,
    owner: str,
    now: datetime,
    channel: str | None = None,
    file_id: str | None = None,
    error: str | None = None,
) -> None:
    review_queries.settle(
        session,
        team_id=recipient.team_id,
        user_id=recipient.user_id,
        kind=Kind.CHART.value,
        local_date=recipient.local_date,
        owner=owner,
        status="failed" if error else "sent",
        now=now,
        channel=channel,
        ts=file_id,
        error=error,
    )
