"""crm_connection: each team's own CRM token, sealed at rest (issue 20: every workspace syncs apart)

Revision ID: 0020_crm_connections
Revises: 0018_slack_installations
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0020_crm_connections"
down_revision: str | None = "0018_slack_installations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_connection",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("crm", sa.String(16), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("connected_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "crm"),
    )


def downgrade() -> None:
    op.drop_table("crm_connection")
