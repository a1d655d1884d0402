"""A workspace's coaching rules: the environment's defaults with the team's own overrides."""

from dataclasses import fields

from sqlalchemy.orm import Session

from coaching.rules import Rules, with_overrides
from store import queries

RULE_NAMES = tuple(f.name for f in fields(Rules))


def team_rules(session: Session, *, team_id: str, defaults: Rules) -> Rules:
    stored = queries.team_settings(session, team_id)
    overrides = {name: int(value) for name, value in stored.items() if name in RULE_NAMES and value.isdigit()}
    rules = with_overrides(defaults, overrides)
    # An override that no longer fits the others (the defaults moved) must not break coaching.
    return defaults if rules.problems() else rules
