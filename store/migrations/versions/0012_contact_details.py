"""contact details: contacts' e-mail and phone, a lead's notes and the CRM's last contact (issue 12)

Revision ID: 0012_contact_details
Revises: 0010_one_pending_transfer
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0012_contact_details"
down_revision: str | None = "0010_one_pending_transfer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("phone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("crm_contact_at", store.types.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("notes")
        batch.drop_column("crm_contact_at")
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("phone")
        batch.drop_column("email")
