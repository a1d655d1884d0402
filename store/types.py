"""Column types: aware UTC datetimes on every backend."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python; SQLite drops tzinfo, so re-attach it on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to UtcDateTime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], datetime | None]:
        """`process_result_value` after the dialect's own parsing, in one function per value instead
        of the decorator's two: a morning's digests load a few million of these."""
        parse: Callable[[Any], Any] | None = self.impl_instance.result_processor(dialect, coltype)

        def parsed(value: Any) -> datetime | None:
            if value is None:
                return None
            loaded = parse(value) if parse is not None else value
            aware: datetime = loaded.replace(tzinfo=UTC) if loaded.tzinfo is None else loaded.astimezone(UTC)
            return aware

        return parsed
