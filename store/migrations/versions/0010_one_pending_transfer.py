"""At most one pending transfer request per lead, enforced by a partial unique index (issue 10)

Two simultaneous /handoff requests for one lead could both create a pending request. Requests
already doubled by that are settled first: the oldest stays pending, the others become moot.

Revision ID: 0010_one_pending_transfer
Revises: 0011_rep_workdays
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_one_pending_transfer"
down_revision: str | None = "0011_rep_workdays"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.execute(
        "UPDATE transfer_request SET status = 'moot', decided_by = 'baton', decided_at = CURRENT_TIMESTAMP"
        " WHERE status = 'pending' AND id NOT IN"
        " (SELECT MIN(id) FROM transfer_request WHERE status = 'pending' GROUP BY lead_id)"
    )
    op.create_index(
        "ux_transfer_request_one_pending",
        "transfer_request",
        ["lead_id"],
        unique=True,
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ux_transfer_request_one_pending", table_name="transfer_request")
