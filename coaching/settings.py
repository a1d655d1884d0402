"""A workspace's configuration: the environment's defaults with the team's own overrides.

The value parsers are pure and shared: `bot/config.py` reads the environment with them, and
`/coach set` validates what an admin types with the same words and the same messages.
"""

import re
from dataclasses import dataclass, fields, replace
from datetime import time

from sqlalchemy.orm import Session

from coaching.rules import DEFAULT_RULES, WEEKDAYS, Rules
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


_DAY = {day[:3]: index for index, day in enumerate(WEEKDAYS)}


def parse_weekday(raw: str) -> int:
    key = raw.strip().casefold()[:3]
    if key in _DAY:
        return _DAY[key]
    raise BadValue(f"must be a weekday like mon, got {raw!r}")


def parse_days(raw: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri` or `sun-thu`."""
    days: set[int] = set()
    for part in raw.casefold().replace(" ", "").split(","):
        ends = part.split("-")
        if not part or len(ends) > 2 or any(end[:3] not in _DAY for end in ends):
            raise BadValue(f"must be days like mon-fri or mon,wed,fri, got {raw!r}")
        day, stop = _DAY[ends[0][:3]], _DAY[ends[-1][:3]]
        days.add(day)
        while day != stop:
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


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
    raise BadValue(f"must be a channel (#sales-managers) or its id like C0123ABCD, got {raw!r}")


def days_text(days: frozenset[int]) -> str:
    return ",".join(WEEKDAYS[d][:3] for d in sorted(days))


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
        "digest_time": parse_clock,
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
    return with_stored(defaults, queries.team_settings(session, team_id))
