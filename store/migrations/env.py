"""Alembic environment: runs migrations on the engine handed over by store.migrate."""

from alembic import context
from sqlalchemy import Engine, text

from store.models import Base

config = context.config
engine: Engine = config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Several web processes may start at once; only one of them migrates at a time.
        connection.execute(text("SELECT pg_advisory_lock(7243001)"))
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(7243001)"))
            connection.commit()
