"""What the stand-in's account holds: records, owners, properties, pipelines and their stages."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.localhubspot.schema import DATE_PROPERTIES


def iso(ms: int) -> str:
    """HubSpot's timestamp format: "2024-05-01T12:00:00.123Z"."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass
class Record:
    id: str
    object_type: str
    properties: dict[str, str]
    created_ms: int
    updated_ms: int
    archived: bool = False
    archived_ms: int | None = None
    # What search sees, oldest first: (clock time the version was written, its properties or None
    # once archived). Kept only while a search lag is set.
    versions: list[tuple[float, dict[str, str] | None]] = field(default_factory=list)


@dataclass
class Owner:
    id: str
    email: str
    first: str
    last: str
    user_id: int
    created_ms: int
    archived: bool = False


@dataclass
class Property:
    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    has_unique_value: bool = False
    hubspot_defined: bool = True
    description: str = ""


@dataclass
class Stage:
    id: str
    label: str
    probability: str
    is_closed: bool
    display_order: int


@dataclass
class Pipeline:
    id: str
    label: str
    stages: list[Stage]
    display_order: int = 0


def built_in(name: str) -> Property:
    if name in DATE_PROPERTIES:
        return Property(name, name, "datetime", "date", "properties_information")
    return Property(name, name, "string", "text", "properties_information")
