"""A workspace's configuration: the environment's defaults with the team's own overrides.

The value parsers are pure and shared: `bot/config.py` reads the environment with them, and
`/coach set` validates what an admin types with the same words and the same messages.
"""

import re
from dataclasses import dataclass, fields, replace
from datetime import datetime, time

from sqlalchemy.orm import Session

from coaching.calendar import WEEKDAYS, BadDays, parse_workdays, send_time_problem, workdays_text
from coaching.people import managers
from coaching.rules import DEFAULT_RULES, Rules
from store import queries

WORKDAYS = frozenset(range(5))
RULE_NAMES = tuple(f.name for f in fields(Rules))


@dataclass(frozen=True)
class TeamConfig:
    rules: Rules = DEFAULT_RULES
    manager_ids: frozenset[str] = frozenset()  # COACH_MANAGER_IDS; more are added in Slack (/coach)
    manager_channel: str | None = None  # manager requests go here instead of to each manager's DMs
    ops_channel: str | None = None  # signed customers are handed to operations here
    digest_time: time = time(8, 30)  # each rep's local time
    digest_days: frozenset[int] = WORKDAYS  # the team's working days (0 = Monday)
    review_day: int = 0  # the managers' weekly pipeline review


DEFAULT_TEAM = TeamConfig()


class BadValue(ValueError):
    """A setting's value that can't be used, with a message an admin can act on."""


def parse_positive(raw: str, *, what: str = "a whole number") -> int:
    if not raw.strip().isdigit() or int(raw) < 1:
        raise BadValue(f"must be {what} of at least 1, got {raw!r}")
    return int(raw)


def parse_clock(raw: str) -> time:
    match = re.match(r"^(\d{1,2}):(\d{2})$", raw.strip())
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return time(int(match.group(1)), int(match.group(2)))
    raise BadValue(f"must be a 24-hour time like 08:30, got {raw!r}")


def parse_send_time(raw: str) -> time:
    """A digest time Baton can keep: refused with the reason, never accepted and then ignored."""
    at = parse_clock(raw)
    problem = send_time_problem(at)
    if problem:
        raise BadValue(f"{problem}, got {raw!r}")
    return at


_DAY = {day[:3]: index for index, day in enumerate(WEEKDAYS)}


def parse_weekday(raw: str) -> int:
    key = raw.strip().casefold()[:3]
    if key in _DAY:
        return _DAY[key]
    raise BadValue(f"must be a weekday like mon, got {raw!r}")


def parse_days(raw: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri` or `sun-thu`."""
    try:
        return parse_workdays(raw)
    except BadDays as error:
        raise BadValue(str(error)) from None


def parse_channel(raw: str) -> str | None:
    """A channel id (C…/G…), a `<#C123|name>` link as Slack sends it, or `none` to clear."""
    value = raw.strip()
    if value.casefold() in ("", "none", "off", "-"):
        return None
    link = re.match(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$", value)
    if link:
        return link.group(1)
    if re.match(r"^[CG][A-Z0-9]{2,}$", value):
        return value
    if value.startswith("#"):
        # Slack links a channel it knows (`should_escape`); a bare name is one it didn't recognise.
        raise BadValue(
            f"must be a channel Slack knows: {value} isn't one here (check the name, or pick it from "
            "the list Slack offers as you type), or give its id like C0123ABCD"
        )
    raise BadValue(f"must be a channel (#sales-managers) or its id like C0123ABCD, got {raw!r}")


days_text = workdays_text


def with_stored(config: TeamConfig, stored: dict[str, str]) -> TeamConfig:
    """Apply a team's stored overrides; one that no longer parses or fits is skipped, not fatal."""
    rule_values = {}
    for name in RULE_NAMES:
        if name in stored:
            try:
                rule_values[name] = parse_positive(stored[name])
            except BadValue:
                continue
    rules = replace(config.rules, **rule_values)
    if rules.problems():
        rules = config.rules
    changes: dict[str, object] = {"rules": rules}
    parsers = {
        "manager_channel": parse_channel,
        "ops_channel": parse_channel,
        "digest_time": parse_send_time,
        "digest_days": parse_days,
        "review_day": parse_weekday,
    }
    for name, parse in parsers.items():
        if name in stored:
            try:
                changes[name] = parse(stored[name])
            except BadValue:
                continue
    return replace(config, **changes)  # type: ignore[arg-type]


def team_config(session: Session, *, team_id: str, defaults: TeamConfig) -> TeamConfig:
    return with_stored(defaults, queries.settings.team_settings(session, team_id=team_id))


# ---- /coach settings and /coach managers --------------------------------------------------------------

# The settings form's one field that is the person's own rather than the team's.
MY_WORKDAYS = "my_workdays"
SETTING_NAMES = (*RULE_NAMES, "digest_time", "digest_days", "review_day", "manager_channel", "ops_channel")
SETTING_HELP = {
    "follow_up_days": "days between attempts while trying to reach someone",
    "attempts_suggest": "attempts without contact before Baton suggests moving on",
    "attempts_limit": "attempts without contact before it insists (back-burner or hand on)",
    "attempts_cap": "attempts after which no follow-up is scheduled at all",
    "sales_cycle_days": "days a lead may stay open before it counts as stale",
    "stall_days": "days of silence after a conversation before a deal counts as stalled",
    "squat_days": "days untouched before a lead may be offered to someone else",
    "lapse_days": "days untouched before a customer is due a re-engagement",
    "digest_time": "the digest's time, in each rep's own time zone (24-hour, 20:00 at the latest)",
    "digest_days": "the team's working days, e.g. mon-fri or sun-thu",
    "review_day": "the managers' weekly pipeline review",
    "manager_channel": "post hand-off requests here instead of to each manager (or none)",
    "ops_channel": "where customers are handed to operations (or none)",
}


@dataclass(frozen=True)
class SettingLine:
    name: str
    value: str
    overridden: bool  # set for this workspace, rather than the default


def describe(config: TeamConfig, stored: dict[str, str]) -> tuple[SettingLine, ...]:
    values = {name: str(getattr(config.rules, name)) for name in RULE_NAMES}
    values["digest_time"] = config.digest_time.strftime("%H:%M")
    values["digest_days"] = days_text(config.digest_days)
    values["review_day"] = WEEKDAYS[config.review_day][:3]
    values["manager_channel"] = config.manager_channel or "none"
    values["ops_channel"] = config.ops_channel or "none"
    return tuple(SettingLine(name, values[name], name in stored) for name in SETTING_NAMES)


def setting_name(typed: str) -> str | None:
    """`stall-days`, `Stall days` and `stall_days` all name the same setting."""
    key = "_".join(typed.strip().casefold().replace("-", " ").split())
    return key if key in SETTING_NAMES else None


def normalised(name: str, raw: str) -> str:
    """The value as it is stored, or BadValue with a message an admin can act on."""
    if name in RULE_NAMES:
        return str(parse_positive(raw))
    if name == "digest_time":
        return parse_send_time(raw).strftime("%H:%M")
    if name == "digest_days":
        return days_text(parse_days(raw))
    if name == "review_day":
        return WEEKDAYS[parse_weekday(raw)][:3]
    return parse_channel(raw) or "none"


@dataclass(frozen=True)
class SettingsChanged:
    changes: tuple[tuple[str, str, str], ...]  # (name, before, after)
    to_default: frozenset[str] = frozenset()  # settings put back to the default
    already: tuple[tuple[str, str], ...] = ()  # (name, value): asked to reset, already the default


@dataclass(frozen=True)
class SettingsRefused:
    problems: dict[str, str]  # setting name -> what's wrong


def change_settings(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    values: dict[str, str],
    defaults: TeamConfig,
    now: datetime,
) -> SettingsChanged | SettingsRefused:
    """Validate every value, and the combination (suggest <= limit <= cap), before storing any."""
    problems: dict[str, str] = {}
    clean: dict[str, str] = {}
    for name, raw in values.items():
        try:
            clean[name] = normalised(name, raw)
        except BadValue as error:
            problems[name] = f"{name} {error}"
    stored = queries.settings.team_settings(session, team_id=team_id)
    before = describe(with_stored(defaults, stored), stored)
    old = {line.name: line.value for line in before}
    if not problems:
        combined = {
            **{k: v for k, v in stored.items() if k in RULE_NAMES},
            **{k: v for k, v in clean.items() if k in RULE_NAMES},
        }
        rules = replace(defaults.rules, **{k: int(v) for k, v in combined.items()})
        # A clash between numbers is shown next to the one that was changed.
        changed = [
            k
            for k in ("attempts_cap", "attempts_limit", "attempts_suggest")
            if clean.get(k, old[k]) != old[k]
        ]
        for problem in rules.problems():
            problems.setdefault(changed[0] if changed else "attempts_limit", problem)
    if problems:
        return SettingsRefused(problems)
    changes = []
    for name, value in clean.items():
        if old.get(name) != value:
            queries.settings.store_setting(
                session, team_id=team_id, name=name, value=value, user_id=user_id, now=now
            )
            changes.append((name, old.get(name, ""), value))
    return SettingsChanged(tuple(changes))


def reset_setting(session: Session, *, team_id: str, name: str, defaults: TeamConfig) -> SettingsChanged:
    """Back to the environment's default; the change says from what to what."""
    stored = queries.settings.team_settings(session, team_id=team_id)
    if name not in stored:
        current = {line.name: line.value for line in describe(with_stored(defaults, stored), stored)}
        return SettingsChanged((), to_default=frozenset({name}), already=((name, current[name]),))
    before = {line.name: line.value for line in describe(with_stored(defaults, stored), stored)}
    queries.settings.delete_setting(session, team_id=team_id, name=name)
    left = {key: value for key, value in stored.items() if key != name}
    after = {line.name: line.value for line in describe(with_stored(defaults, left), left)}
    return SettingsChanged(((name, before[name], after[name]),), to_default=frozenset({name}))


# ---- managers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManagersChanged:
    user_id: str
    added: bool
    managers: tuple[str, ...]


@dataclass(frozen=True)
class ManagersRefused:
    reason: str  # "not_allowed" | "configured" | "unchanged" | "not_a_person"


def change_managers(
    session: Session,
    *,
    team_id: str,
    by: str,
    allowed: bool,
    user_id: str,
    add: bool,
    configured: frozenset[str],
    now: datetime,
) -> ManagersChanged | ManagersRefused:
    """Only a manager or a Slack workspace admin (`allowed`) adds or removes managers."""
    if not allowed:
        return ManagersRefused("not_allowed")
    if not add and user_id in configured:
        return ManagersRefused("configured")  # set in COACH_MANAGER_IDS: only the environment removes them
    listed = queries.people.is_listed_manager(session, team_id=team_id, user_id=user_id)
    if add == (listed or user_id in configured):
        return ManagersRefused("unchanged")
    if add:
        queries.people.add_manager(session, team_id=team_id, user_id=user_id, by=by, now=now)
    else:
        queries.people.remove_manager(session, team_id=team_id, user_id=user_id)
    return ManagersChanged(user_id, add, tuple(managers(session, team_id=team_id, configured=configured)))


def make_first_manager(
    session: Session, *, team_id: str, user_id: str, configured: frozenset[str], now: datetime
) -> bool:
    """The person who installs Baton in a workspace becomes its first manager, unless it has
    managers already (a reinstall, or COACH_MANAGER_IDS): returns whether they became one."""
    if configured or queries.people.listed_managers(session, team_id=team_id):
        return user_id in configured or queries.people.is_listed_manager(
            session, team_id=team_id, user_id=user_id
        )
    queries.people.add_manager(session, team_id=team_id, user_id=user_id, by=user_id, now=now)
    return True
