"""erasure on request (issue 20): that it happened, and a fingerprint so the person stays out

Revision ID: 0014_erasure
Revises: 0013_review
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0014_erasure"
down_revision: str | None = "0013_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("erased_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure")),
    )
    op.create_index("ix_erasure_team_fingerprint", "erasure", ["team_id", "fingerprint"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_erasure_team_fingerprint", table_name="erasure")
    op.drop_table("erasure")
