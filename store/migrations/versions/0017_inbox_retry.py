"""inbox.retry_at: a request that met a passing database error is tried again from then (issue 16)

Revision ID: 0017_inbox_retry
Revises: 0016_outbox_lookups
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0017_inbox_retry"
down_revision: str | None = "0016_outbox_lookups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("retry_at", store.types.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("retry_at")
