"""CRM search's filters and sorts, evaluated the way HubSpot documents them.

Filter groups are ORed, filters within a group ANDed (at most 5 groups, 10 filters a group, 25 in
all). Dates compare as epoch milliseconds whether given as "1700000000000" or ISO 8601.
"""

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.localhubspot.errors import validation
from bot.localhubspot.schema import DATE_PROPERTIES

OPERATORS = {
    "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
    "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
}  # fmt: skip
MAX_GROUPS, MAX_PER_GROUP, MAX_FILTERS = 5, 10, 25
MAX_PAGE = 200
MAX_RESULTS = 10_000


@functools.lru_cache(maxsize=1 << 18)  # a search over 100,000 records compares the same dates often
def to_ms(value: str) -> int | None:
    """Epoch milliseconds from "1700000000000", "2024-05-01" or "2024-05-01T12:00:00.000Z"."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # a bare date or time is UTC, as HubSpot reads it
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@functools.lru_cache(maxsize=1 << 18)
def sort_key(name: str, value: str | None) -> tuple[int, Any]:
    """Orders values as HubSpot does for a property: dates by time, numbers by number, else by text."""
    if value is None or value == "":
        return (2, "")
    if name in DATE_PROPERTIES:
        ms = to_ms(value)
        if ms is not None:
            return (0, ms)
    try:
        return (0, float(value))
    except ValueError:
        return (1, value.lower())


def check(body: dict[str, Any]) -> None:
    """Refuse what HubSpot refuses before it searches: too many filters, an unknown operator, a big page."""
    groups = body.get("filterGroups") or []
    if len(groups) > MAX_GROUPS:
        raise validation(f"Too many filter groups: at most {MAX_GROUPS}.")
    total = 0
    for group in groups:
        filters = group.get("filters") or []
        total += len(filters)
        if len(filters) > MAX_PER_GROUP:
            raise validation(f"Too many filters in a group: at most {MAX_PER_GROUP}.")
        for item in filters:
            if item.get("operator") not in OPERATORS:
                raise validation(f"Unknown operator {item.get('operator')!r}.")
            if not item.get("propertyName"):
                raise validation("A filter needs a propertyName.")
    if total > MAX_FILTERS:
        raise validation(f"Too many filters: at most {MAX_FILTERS}.")
    limit = int(body.get("limit") or 10)
    if limit > MAX_PAGE:
        raise validation(f"limit must be at most {MAX_PAGE}.")


Test = Callable[[Mapping[str, str | None], Callable[[str, str], bool]], bool]


def compile_filters(body: dict[str, Any]) -> Test:
    """The request's query and filter groups as one test of a record's visible properties, built
    once per search (a search may scan 100,000 records). `associated(to_type, id)` answers
    `associations.contact EQ 123`-style filters."""
    query = (body.get("query") or "").strip().lower()
    groups = [[_filter(f) for f in g.get("filters") or []] for g in body.get("filterGroups") or []]

    def test(properties: Mapping[str, str | None], associated: Callable[[str, str], bool]) -> bool:
        if query and not any(query in (value or "").lower() for value in properties.values()):
            return False
        return not groups or any(all(f(properties, associated) for f in group) for group in groups)

    return test


def _filter(item: dict[str, Any]) -> Test:
    name, operator = str(item["propertyName"]), str(item["operator"])
    if name.startswith("associations."):
        target = name.removeprefix("associations.")
        wanted = [str(v) for v in item.get("values") or [item.get("value")]]
        positive = operator in ("EQ", "IN")
        return lambda props, associated: any(associated(target, v) for v in wanted) == positive
    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        positive = operator == "HAS_PROPERTY"
        return lambda props, associated: (props.get(name) not in (None, "")) == positive
    if operator in ("IN", "NOT_IN"):
        values = {str(v).lower() for v in item.get("values") or []}
        positive = operator == "IN"
        return lambda props, associated: (str(props.get(name) or "").lower() in values) == positive
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(item.get("value", "")).lower().strip("*")
        positive = operator == "CONTAINS_TOKEN"
        return lambda props, associated: (
            (props.get(name) not in (None, "") and token in str(props.get(name)).lower()) == positive
        )
    low = _comparer(name, str(item.get("value")))
    if operator == "BETWEEN":
        high = _comparer(name, str(item.get("highValue")))
        return lambda props, associated: (
            _present(props, name) and low(props[name]) >= 0 and high(props[name]) <= 0
        )
    if operator == "NEQ":
        return lambda props, associated: not _present(props, name) or low(props[name]) != 0
    accepts: dict[str, Callable[[int], bool]] = {
        "EQ": lambda order: order == 0,
        "LT": lambda order: order < 0,
        "LTE": lambda order: order <= 0,
        "GT": lambda order: order > 0,
        "GTE": lambda order: order >= 0,
    }
    accept = accepts[operator]
    return lambda props, associated: _present(props, name) and accept(low(props[name]))


def _present(props: Mapping[str, str | None], name: str) -> bool:
    return props.get(name) not in (None, "")


def _comparer(name: str, wanted: str) -> Callable[[str | None], int]:
    """How a record's value compares with `wanted` (-1, 0, 1): dates and numbers by value, text
    without regard to case."""
    right = sort_key(name, wanted)
    folded = wanted.lower()

    def compare(actual: str | None) -> int:
        left = sort_key(name, actual)
        if name in DATE_PROPERTIES or left[0] == right[0] == 0:
            a, b = left[1], right[1]
        else:
            a, b = str(actual).lower(), folded
        return int((a > b) - (a < b))

    return compare


def sorts(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """[(property, descending)]: HubSpot takes `{propertyName, direction}` or "-name" strings."""
    result = []
    for item in body.get("sorts") or []:
        if isinstance(item, str):
            result.append((item.lstrip("-"), item.startswith("-")))
        else:
            result.append(
                (str(item.get("propertyName")), str(item.get("direction", "")).upper() == "DESCENDING")
            )
    return result
