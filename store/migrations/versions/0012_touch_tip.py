"""touch.tip: the coaching tip given with each touch, so the next one on the lead can differ (issue 12)

Revision ID: 0012_touch_tip
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_touch_tip"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("touch") as batch:
        batch.add_column(sa.Column("tip", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("touch") as batch:
        batch.drop_column("tip")
