"""lead.first_contact_at / first_contact_tries: the review's attempt curve reads leads, not touches (issue 19)

The curve counts each reached lead at the attempt it was first reached. Worked out from the touch
log it read every two-way touch and the tries before it: ten million touches took minutes. The
lead row now keeps both, like its other progress columns; this fills them from the log once.

Revision ID: 0021_first_contact
Revises: 0020_crm_connections
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0021_first_contact"
down_revision: str | None = "0020_crm_connections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TWO_WAY = "('connected', 'replied', 'meeting', 'not-interested', 'opt-out')"
TRIES = "('call', 'voicemail', 'no-answer', 'email')"


def backfill(execute: Callable[[str], Any]) -> None:
    """Fill both columns from the touch log: two grouped passes, not a subquery per lead.

    `coaching.rules.first_contact` is the same rule for one lead; the bench seeds with this too.
    """
    execute(
        "UPDATE lead SET first_contact_at = f.at FROM (SELECT lead_id, min(at) AS at FROM touch"
        f" WHERE outcome IN {TWO_WAY} GROUP BY lead_id) AS f WHERE f.lead_id = lead.id"
    )
    execute(
        "UPDATE lead SET first_contact_tries = f.tries FROM (SELECT t.lead_id, count(*) AS tries"
        " FROM touch t JOIN lead l ON l.id = t.lead_id"
        f" WHERE t.outcome IN {TRIES} AND t.at < l.first_contact_at GROUP BY t.lead_id) AS f"
        " WHERE f.lead_id = lead.id"
    )
    execute(
        "UPDATE lead SET first_contact_tries = 0 WHERE first_contact_at IS NOT NULL AND first_contact_tries IS NULL"
    )


def upgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("first_contact_at", store.types.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_contact_tries", sa.Integer(), nullable=True))
    backfill(op.execute)
    op.create_index(
        "ix_lead_first_contact",
        "lead",
        ["team_id", "first_contact_at", "first_contact_tries", "attempt_baseline"],
    )


def downgrade() -> None:
    op.drop_index("ix_lead_first_contact", table_name="lead")
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("first_contact_tries")
        batch.drop_column("first_contact_at")
