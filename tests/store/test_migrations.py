"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from store.db import Database, open_database
from store.migrate import current_revision, head_revision, upgrade
from store.models import Base


def test_migrations_reach_the_latest_revision(database: Database) -> None:
    assert current_revision(database.engine) == head_revision(database.engine)


def test_the_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrading_an_up_to_date_database_changes_nothing(database: Database) -> None:
    upgrade(database.engine)
    upgrade(database.engine)
    assert current_revision(database.engine) == head_revision(database.engine)


def test_an_older_database_is_brought_up_to_date_and_keeps_its_data(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'old.db'}", pool_size=1)
    upgrade(db.engine, "0001")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO lead (team_id, name, name_key, owner_id, created_by, status, created_at, attempt_baseline,"
                " attempts, reached, ever_reached) VALUES ('T1', 'Acme', 'acme', 'U1', 'U1', 'open',"
                " '2026-01-01 00:00:00', 0, 0, 0, 0)"
            )
        )
    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision(db.engine)
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM lead")).scalars().all() == ["Acme"]
    db.engine.dispose()
