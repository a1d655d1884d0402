"""How `python -m bot import` scales with the size of a CRM export. A benchmark, not a test.

    python bench/import_scale.py [--rows 10000] [--database-url URL]

Writes a HubSpot-style contact export (several contacts per company, a few owners), then times
reading it, the first import (everything added), and the same file again (everything
unchanged), and counts the SQL statements each import sends. On PostgreSQL they must grow with
the file by the thousand, not by the row (each is a round trip); SQLite runs in-process, where
SQLAlchemy inserts a row per statement and that costs microseconds. The database is emptied first.
"""

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402

from coaching.crm_file import read_csv  # noqa: E402
from coaching.crm_import import Action, import_rows  # noqa: E402
from coaching.rules import Rules  # noqa: E402
from store.db import Database, open_database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Base  # noqa: E402

TEAM = "T0IMPORT"
OWNERS = {f"rep{n}@example.com": f"U0REP{n:03}" for n in range(20)}
STAGES = ("Lead", "Marketing Qualified Lead", "Opportunity", "Customer", "Other")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def export_text(rows: int) -> str:
    lines = [
        "Record ID,First Name,Last Name,Job Title,Company Name,Contact owner email,Lifecycle Stage,"
        "Lead Status,Create Date,Last Activity Date,Number of Sales Activities"
    ]
    for n in range(rows):
        company = n // 3  # three contacts per company
        owner = f"rep{company % 20}@example.com"
        stage = STAGES[company % 4] if company % 50 else "Unqualified"
        created = date(2025, 1, 1) + timedelta(days=company % 600)
        last = date(2026, 11, 20) - timedelta(days=company % 120)
        lines.append(
            f"{n},Pat,No{n},Director,Company {company:06},{owner},{stage},In Progress,"
            f"{created} 09:00,{last} 14:30,{n % 9}"
        )
    return "\n".join(lines) + "\n"


def empty(db: Database) -> None:
    with db.engine.begin() as connection:
        if db.engine.dialect.name == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())


def timed_import(db: Database, rows: list[Any]) -> tuple[float, int, dict[Action, int]]:
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine, "before_cursor_execute", count)
    start = time.perf_counter()
    with db.sessions.begin() as session:
        plan = import_rows(
            session,
            team_id=TEAM,
            rows=rows,
            owners=OWNERS,
            user_id="import",
            now=NOW,
            rules=Rules(),
            write=True,
        )
    seconds = time.perf_counter() - start
    event.remove(db.engine, "before_cursor_execute", count)
    assert plan.ok, plan.problems[:3]
    return seconds, statements, {action: plan.count(action) for action in Action}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='baton-import-')) / 'import.db'}"
    db = open_database(url, pool_size=2)
    upgrade(db.engine)
    print(f"Importing a CRM export on {db.engine.dialect.name}\n")
    print(f"  {'rows':>8} {'step':<22} {'seconds':>8} {'statements':>11}  result")
    for rows in (args.rows // 10, args.rows):
        empty(db)
        text_ = export_text(rows)
        start = time.perf_counter()
        parsed = read_csv(text_)
        read = time.perf_counter() - start
        assert not parsed.problems
        print(f"  {rows:>8,} {'read the CSV':<22} {read:>8.2f} {'':>11}  {len(parsed.rows):,} rows")
        for step in ("first import", "the same file again"):
            seconds, statements, counts = timed_import(db, parsed.rows)
            result = ", ".join(f"{n:,} {action.value}" for action, n in counts.items() if n)
            print(f"  {rows:>8,} {step:<22} {seconds:>8.2f} {statements:>11}  {result}", flush=True)
    db.engine.dispose()


if __name__ == "__main__":
    main()
