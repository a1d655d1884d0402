"""Leases on the database's clock, for every row one process holds at a time (a kept request, a
message being sent): two machines whose clocks disagree still agree on whose lease ran out."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, literal_column
from sqlalchemy.orm import Session


def database_now(session: Session, plus: timedelta = timedelta(0)) -> ColumnElement[datetime]:
    """The database server's clock (plus `plus`), as a SQL expression comparable with a lease."""
    if session.get_bind().dialect.name == "postgresql":
        return func.clock_timestamp() + plus
    # SQLite: the text form SQLAlchemy stores datetimes in ("YYYY-MM-DD HH:MM:SS.ffffff").
    seconds = plus.total_seconds()
    modifier = f"'{seconds:+.3f} seconds'"
    return literal_column(f"strftime('%Y-%m-%d %H:%M:%f', 'now', {modifier}) || '000'")
