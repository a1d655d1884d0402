"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime
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


def test_0023_moves_each_company_link_onto_its_leads_deal_or_prospect_and_has_every_deal_read_again(
    database: Database,
) -> None:
    from alembic import command

    from store.db import LIMITS, UNLIMITED
    from store.migrate import alembic_config

    engine = database.engine.execution_options(**{LIMITS: UNLIMITED})
    command.downgrade(alembic_config(engine), "0022_uninstall")
    with engine.begin() as connection:

        def lead(name: str) -> int:
            return connection.execute(
                text(
                    "INSERT INTO lead (team_id, name, name_key, owner_id, created_by, status, created_at,"
                    " attempt_baseline, attempts, reached, ever_reached) VALUES ('T1', :name, :key, 'U1',"
                    " 'U1', 'open', :at, 0, 0, :no, :no) RETURNING id"
                ),
                {"name": name, "key": name.casefold(), "at": datetime(2026, 1, 1, tzinfo=UTC), "no": False},
            ).scalar_one()

        def link(object_type: str, crm_id: str, lead_id: int) -> None:
            connection.execute(
                text(
                    "INSERT INTO crm_link (team_id, crm, object_type, crm_id, lead_id, archived)"
                    " VALUES ('T1', 'hubspot', :type, :crm_id, :lead_id, :no)"
                ),
                {"type": object_type, "crm_id": crm_id, "lead_id": lead_id, "no": False},
            )

        # What the pull before 0023 stored: Acme's company on its first deal's lead only.
        acme, support, hooli = lead("Acme"), lead("Acme (Support)"), lead("Hooli")
        for object_type, crm_id, lead_id in [
            ("deal", "d1", acme),
            ("company", "c-acme", acme),
            ("contact", "p-jane", acme),
            ("deal", "d2", support),
            ("contact", "p-pat", hooli),  # a prospect: its company was a link too
            ("company", "c-hooli", hooli),
        ]:
            link(object_type, crm_id, lead_id)
        cursors = {"deals": "2026-01-02T00:00:00+00:00", "contacts": "2026-01-02T00:00:00+00:00"}
        connection.execute(
            text(
                "INSERT INTO crm_sync (team_id, crm, connected_at, cursors) VALUES ('T1', 'hubspot', :at, :c)"
            ),
            {"at": datetime(2026, 1, 1, tzinfo=UTC), "c": json.dumps(cursors)},
        )
    upgrade(database.engine)
    with database.engine.connect() as connection:
        companies = connection.execute(text("SELECT object_type, crm_id, company FROM crm_link ORDER BY id"))
        assert companies.all() == [
            ("deal", "d1", "c-acme"),  # kept
            ("contact", "p-jane", None),  # a deal's lead: its deal's company is the one pushed
            ("deal", "d2", None),  # nothing stored says where: the next pull, which reads every deal
            ("contact", "p-pat", "c-hooli"),
        ]
        kept = json.loads(connection.execute(text("SELECT cursors FROM crm_sync")).scalar_one())
    assert kept == {"contacts": "2026-01-02T00:00:00+00:00"}
