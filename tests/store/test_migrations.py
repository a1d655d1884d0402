"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store.db import Database
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
