"""issue 11, the calendar a coach keeps: a rep's own working days; meeting reminders done; a "no" remembered

Revision ID: 0011_rep_workdays
Revises: 0012_touch_tip
Create Date: 2026-11-29 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_rep_workdays"
down_revision: str | None = "0012_touch_tip"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rep", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workdays", sa.String(length=32), nullable=True))
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("meeting_reminded", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("declined", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Leads whose latest touch is "not interested" stop being chased from now on, not from their next touch.
    op.execute(
        "UPDATE lead SET declined = TRUE WHERE EXISTS (SELECT 1 FROM touch t WHERE t.lead_id = lead.id"
        " AND t.outcome = 'not-interested' AND NOT EXISTS"
        " (SELECT 1 FROM touch u WHERE u.lead_id = lead.id AND u.at > t.at))"
    )


def downgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("declined")
        batch_op.drop_column("meeting_reminded")
    with op.batch_alter_table("rep", schema=None) as batch_op:
        batch_op.drop_column("workdays")
