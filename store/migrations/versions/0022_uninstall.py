"""team_status: a workspace stopped when it uninstalls Baton, deleted after a grace period; a
partial index on touches whose note is still kept, for the notes' retention; and indexes on the
foreign keys a deletion checks (status_change.lead_id, crm_link.contact_id, crm_push.touch_id),
so deleting a workspace's leads, contacts and touches never scans those tables row by row (issue 20)

Revision ID: 0022_uninstall
Revises: 0021_first_contact
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0022_uninstall"
down_revision: str | None = "0021_first_contact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_status",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("uninstalled_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("delete_after", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_team_status")),
    )
    op.create_index(
        "ix_touch_note_kept",
        "touch",
        ["logged_at"],
        unique=False,
        postgresql_where=sa.text("note <> ''"),
        sqlite_where=sa.text("note <> ''"),
    )
    op.create_index("ix_status_change_lead", "status_change", ["lead_id"], unique=False)
    op.create_index("ix_crm_link_contact", "crm_link", ["contact_id"], unique=False)
    op.create_index("ix_crm_push_touch", "crm_push", ["touch_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_crm_push_touch", table_name="crm_push")
    op.drop_index("ix_crm_link_contact", table_name="crm_link")
    op.drop_index("ix_status_change_lead", table_name="status_change")
    op.drop_index("ix_touch_note_kept", table_name="touch")
    op.drop_table("team_status")
