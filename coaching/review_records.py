"""The weekly review's database side: every manager's review from a fixed handful of statements.

Managers who share a team and a fortnight (the same local review day in the same time zone) share
one computed review, so fifty managers of one team cost what one does, plus a row each in the
`windows` the statements join on.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from coaching import digest_records
from coaching.calendar import local_date
from coaching.caller import Caller
from coaching.digest_contents import SECTION_CAP, Days, Item, RepLine, Review, item_of
from coaching.digest_records import Kind, Recipient
from coaching.people import own_workdays, zone
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
    day_start,
    limit_problem,
    team_week,
)
from coaching.rules import Rules, untouched_since
from coaching.settings import SettingsChanged, SettingsRefused, TeamConfig, change_settings, team_config
from coaching.snapshots import LeadSnapshot, lead_from_row
from store import review_queries
from store.review_queries import Cutoffs, Person, Window


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
    # of a team shares one computation, dated for each.
    by_team: dict[str, Recipient] = {}
    for key in keys:
        by_team.setdefault(key[0], firsts[key])
    configs = {team: team_config(session, team_id=team, defaults=defaults) for team in sorted(by_team)}
    people = review_queries.people(session, sorted(configs))
    calendar_of = {
        team: {
            rep.user_id: Days(zone(rep.tz), own_workdays(rep.workdays) or configs[team].digest_days)
            for rep in reps
        }
        for team, reps in people.items()
    }
    waiting_of_team = what_is_waiting(
        session, by_team, configs=configs, people=people, calendar_of=calendar_of, now=now
    )
    waiting = {key: replace(waiting_of_team[key[0]], today=key[1]) for key in keys}
    windows = [Window(i, team, day_bounds(today, zone(tz))) for i, (team, today, tz) in enumerate(keys)]
    touches: dict[int, list[TouchRow]] = defaultdict(list)
    follow_ups: dict[int, list[FollowUpRow]] = defaultdict(list)
    for w, user, outcome, day, meeting_on, due, count in review_queries.touch_counts(session, windows):
        touches[w].append((user, outcome, day, meeting_on, count))
        if due is not None:
            follow_ups[w].append((user, due, day, count))
    statuses: Mapping[int, list[StatusRow]] = review_queries.status_counts(session, windows)
    handoffs: Mapping[int, list[HandoffRow]] = review_queries.handoff_counts(session, windows)
    curves: dict[str, list[CurveRow]] = defaultdict(list)
    for team, attempt, recent, count in review_queries.first_contact_attempts(
        session, sorted(configs), recent_since=now - timedelta(days=RECENT_DAYS)
    ):
        curves[team].append((attempt, recent, count))
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

SAT_ON_SHOWN = 3  # a rep's line names the leads they have sat on longest, each with a transfer button


def what_is_waiting(
    session: Session,
    firsts: Mapping[str, Recipient],
    *,
    configs: Mapping[str, TeamConfig],
    people: Mapping[str, Sequence[Person]],
    calendar_of: Mapping[str, Mapping[str, Days]],
    now: datetime,
) -> dict[str, Review]:
    """Each team's "what is waiting", exactly as `digest_contents.review_for` reads it from every
    open lead, but counted by the database: each rep's open, overdue, at-the-limit, past-the-cycle
    and gone-quiet leads come back as one row per rep, and only the leads a review names (each
    rep's three sat on longest, the leads of people who left) come back whole.

    Every count is a day count in the owner's time zone (`days_ago(x) > N` is "x before the first
    instant of the day N days before today there"), so the database compares instants per team and
    time zone, never per rep. An owner Baton holds no profile for is read on the calendar of the
    team's first manager (`firsts`), as `review_for` reads them on its `default_days`."""
    cutoffs = []
    for team, first in firsts.items():
        rules = configs[team].rules
        where_people_are: list[tuple[str | None, ZoneInfo]] = [
            (name, zone(name)) for name in sorted({rep.tz for rep in people[team]})
        ]
        for tz, where in [*where_people_are, (None, first.days.tz)]:
            today = local_date(now, where)
            cutoffs.append(
                Cutoffs(
                    team,
                    tz,
                    today,
                    cycle_before=day_start(today - timedelta(days=rules.sales_cycle_days), where),
                    stall_before=day_start(today - timedelta(days=rules.stall_days), where),
                    squat_before=day_start(today - timedelta(days=rules.squat_days), where),
                    at_limit=min(rules.attempts_limit, rules.attempts_cap),
                )
            )
    # each owner's own time zone's cutoffs: their profile's, or the team's for owners without one
    zone_of = {(c.team_id, c.tz): i for i, c in enumerate(cutoffs)}
    stored = {(rep.team_id, rep.user_id): rep.tz for reps in people.values() for rep in reps}

    def own(team: str, owner: str) -> int:
        return zone_of[(team, stored.get((team, owner)))]

    sat_on: dict[tuple[str, str], list[LeadSnapshot]] = defaultdict(list)
    latest = max(c.squat_before for c in cutoffs)
    for row in review_queries.sat_on_longest(session, sorted(firsts), before=latest, per_owner=SAT_ON_SHOWN):
        lead = lead_from_row(row)
        if untouched_since(lead) < cutoffs[own(row.team_id, row.owner_id)].squat_before:
            sat_on[(row.team_id, row.owner_id)].append(lead)
    left_behind: dict[tuple[str, str], list[LeadSnapshot]] = defaultdict(list)
    for row in review_queries.departed_leads(session, sorted(firsts)):
        left_behind[(row.team_id, row.owner_id)].append(lead_from_row(row))
    departed = {(rep.team_id, rep.user_id) for reps in people.values() for rep in reps if rep.deactivated}
    lines: dict[str, list[RepLine]] = defaultdict(list)
    for team, owner, open_, per_zone in review_queries.waiting_counts(session, cutoffs):
        if (team, owner) in departed:
            continue
        overdue, at_limit, stale, stalled = per_zone[own(team, owner)]
        rules = configs[team].rules
        days = calendar_of[team].get(owner, firsts[team].days)
        today = local_date(now, days.tz)
        squatting = tuple(
            item_of(lead, now=now, today=today, rules=rules, days=days) for lead in sat_on[(team, owner)]
        )
        lines[team].append(RepLine(owner, open_, overdue, at_limit, stale, squatting, stalled))
    reviews = {}
    for team, first in firsts.items():
        reps = sorted(
            lines[team], key=lambda r: (-(r.overdue + r.at_limit + len(r.squatting)), -r.open, r.owner_id)
        )
        orphaned = []
        for (of_team, owner), leads in sorted(left_behind.items()):
            if of_team != team:
                continue
            days = calendar_of[team].get(owner, first.days)
            shown: list[Item] = [
                item_of(lead, now=now, today=local_date(now, days.tz), rules=configs[team].rules, days=days)
                for lead in sorted(leads, key=lambda lead: lead.name.casefold())[:SECTION_CAP]
            ]
            orphaned.append((owner, tuple(shown), max(0, len(leads) - SECTION_CAP)))
        reviews[team] = Review(first.local_date, tuple(reps), tuple(orphaned))
    return reviews


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
