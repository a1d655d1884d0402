"""nudges: deliveries, seen events, snoozing

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 04:37:45.572994
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("team_id", "user_id", "kind", "local_date", name=op.f("uq_delivery_team_id")),
    )
    op.create_table(
        "seen_event",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("seen_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_seen_event")),
    )
    with op.batch_alter_table("seen_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_event_seen_at"), ["seen_at"], unique=False)

    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snoozed_until", sa.Date(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("snoozed_until")

    with op.batch_alter_table("seen_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_event_seen_at"))

    op.drop_table("seen_event")
    op.drop_table("delivery")
