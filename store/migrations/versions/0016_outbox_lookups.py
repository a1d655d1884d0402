"""outbox: when the attempt in doubt began, and how far a lost post's search has read

Revision ID: 0016_outbox_lookups
Revises: 0015_crm_sync
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0016_outbox_lookups"
down_revision: str | None = "0015_crm_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tried_at", store.types.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("looked_before", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("looked_before")
        batch_op.drop_column("tried_at")
