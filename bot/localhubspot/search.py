"""CRM search's filters and sorts, evaluated the way HubSpot documents them.

Filter groups are ORed, filters within a group ANDed (at most 5 groups, 10 filters a group, 25 in
all). Dates compare as epoch milliseconds whether given as "1700000000000" or ISO 8601.
"""

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


def matches(
    body: dict[str, Any], properties: Mapping[str, str | None], associated: Callable[[str, str], bool]
) -> bool:
    """Whether a record (its visible properties) meets the request's filter groups and query.

    `associated(to_type, id)` answers `associations.contact EQ 123`-style filters."""
    query = (body.get("query") or "").strip().lower()
    if query and not any(query in (value or "").lower() for value in properties.values()):
        return False
    groups = body.get("filterGroups") or []
    if not groups:
        return True
    return any(all(_meets(f, properties, associated) for f in g.get("filters") or []) for g in groups)


def _meets(
    item: dict[str, Any], properties: Mapping[str, str | None], associated: Callable[[str, str], bool]
) -> bool:
    name, operator = str(item["propertyName"]), str(item["operator"])
    if name.startswith("associations."):
        target = name.removeprefix("associations.")
        wanted = [str(v) for v in item.get("values") or [item.get("value")]]
        hit = any(associated(target, v) for v in wanted)
        return hit if operator in ("EQ", "IN") else not hit
    actual = properties.get(name)
    present = actual not in (None, "")
    if operator == "HAS_PROPERTY":
        return present
    if operator == "NOT_HAS_PROPERTY":
        return not present
    if operator in ("IN", "NOT_IN"):
        values = {str(v).lower() for v in item.get("values") or []}
        inside = present and str(actual).lower() in values
        return inside if operator == "IN" else not inside
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(item.get("value", "")).lower().strip("*")
        inside = present and token in str(actual).lower()
        return inside if operator == "CONTAINS_TOKEN" else not inside
    if operator == "NEQ":
        return not present or _compare(name, actual, str(item.get("value"))) != 0
    if not present:
        return False
    if operator == "BETWEEN":
        low = _compare(name, actual, str(item.get("value")))
        high = _compare(name, actual, str(item.get("highValue")))
        return low >= 0 and high <= 0
    order = _compare(name, actual, str(item.get("value")))
    return {
        "EQ": order == 0,
        "LT": order < 0,
        "LTE": order <= 0,
        "GT": order > 0,
        "GTE": order >= 0,
    }[operator]


def _compare(name: str, actual: str | None, wanted: str) -> int:
    left, right = sort_key(name, actual), sort_key(name, wanted)
    if name in DATE_PROPERTIES or left[0] == right[0] == 0:
        a, b = left[1], right[1]
    else:
        a, b = str(actual).lower(), wanted.lower()
    return int((a > b) - (a < b))


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
