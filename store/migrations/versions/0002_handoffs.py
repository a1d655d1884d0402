"""hand-offs: transfer requests, posted messages, operations hand-offs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:47:59.873305
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "posted_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("posted_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posted_message")),
    )
    with op.batch_alter_table("posted_message", schema=None) as batch_op:
        batch_op.create_index("ix_posted_message_subject", ["team_id", "subject", "subject_id"], unique=False)

    op.create_table(
        "ops_handoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.String(length=32), nullable=False),
        sa.Column("sold", sa.Text(), nullable=False),
        sa.Column("timeline", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_ops_handoff_lead_id_lead"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_handoff")),
    )
    with op.batch_alter_table("ops_handoff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ops_handoff_lead_id"), ["lead_id"], unique=False)

    op.create_table(
        "transfer_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("from_owner", sa.String(length=32), nullable=False),
        sa.Column("to_user", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resurfaced_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_transfer_request_lead_id_lead"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_request")),
    )
    with op.batch_alter_table("transfer_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfer_request_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index("ix_transfer_request_team_status", ["team_id", "status"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("transfer_request", schema=None) as batch_op:
        batch_op.drop_index("ix_transfer_request_team_status")
        batch_op.drop_index(batch_op.f("ix_transfer_request_lead_id"))

    op.drop_table("transfer_request")
    with op.batch_alter_table("ops_handoff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ops_handoff_lead_id"))

    op.drop_table("ops_handoff")
    with op.batch_alter_table("posted_message", schema=None) as batch_op:
        batch_op.drop_index("ix_posted_message_subject")

    op.drop_table("posted_message")
