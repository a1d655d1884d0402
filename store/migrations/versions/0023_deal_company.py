"""crm_link.company: a deal's (a prospect's contact's) HubSpot company kept on its own link, so every
lead of a company with several open deals goes on the company, not only the first one pulled

A company was a link of its own, unique per (team, CRM, type, id): one lead per company could have
it, and a second deal's lead pushed its touches and contacts without the company. This moves each
company link's id onto its lead's deal (a prospect's: onto its contacts), drops the company links,
and forgets the deals' sync cursor, so the next pull reads every deal once and gives the leads
that had no company link theirs (nothing stored says which company they are at).

Revision ID: 0023_deal_company
Revises: 0022_uninstall
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_deal_company"
down_revision: str | None = "0022_uninstall"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The company link of the lead the updated row is on (company links were never archived, but the
# push skipped archived ones, so this does too).
COMPANY_OF_LEAD = (
    "(SELECT c.crm_id FROM crm_link c WHERE c.object_type = 'company' AND NOT c.archived"
    " AND c.team_id = crm_link.team_id AND c.crm = crm_link.crm AND c.lead_id = crm_link.lead_id"
    " ORDER BY c.id LIMIT 1)"
)
HAS_DEAL = (
    "EXISTS (SELECT 1 FROM crm_link d WHERE d.object_type = 'deal'"
    " AND d.team_id = crm_link.team_id AND d.crm = crm_link.crm AND d.lead_id = crm_link.lead_id)"
)


def upgrade() -> None:
    with op.batch_alter_table("crm_link") as batch:
        batch.add_column(sa.Column("company", sa.String(length=32), nullable=True))
    op.execute(
        f"UPDATE crm_link SET company = {COMPANY_OF_LEAD} WHERE object_type = 'deal' AND lead_id IS NOT NULL"
    )
    op.execute(
        f"UPDATE crm_link SET company = {COMPANY_OF_LEAD}"
        f" WHERE object_type = 'contact' AND lead_id IS NOT NULL AND NOT {HAS_DEAL}"
    )
    op.execute("DELETE FROM crm_link WHERE object_type = 'company'")
    forget_cursor("deals")


def forget_cursor(kind: str) -> None:
    """The next pull reads every record of `kind` again, as the first did (one row per team)."""
    connection = op.get_bind()
    syncs = connection.execute(sa.text("SELECT team_id, crm, cursors FROM crm_sync")).all()
    for team_id, crm, cursors in syncs:
        kept = json.loads(cursors or "{}")
        if kept.pop(kind, None) is not None:
            connection.execute(
                sa.text("UPDATE crm_sync SET cursors = :cursors WHERE team_id = :team_id AND crm = :crm"),
                {"cursors": json.dumps(kept), "team_id": team_id, "crm": crm},
            )


def downgrade() -> None:
    # As the pull before this made them: one company link, on the company's first lead.
    op.execute(
        "INSERT INTO crm_link (team_id, crm, object_type, crm_id, lead_id, archived)"
        " SELECT team_id, crm, 'company', company, min(lead_id), false FROM crm_link"
        " WHERE company IS NOT NULL AND lead_id IS NOT NULL AND NOT archived"
        f" AND (object_type = 'deal' OR (object_type = 'contact' AND NOT {HAS_DEAL}))"
        " GROUP BY team_id, crm, company"
    )
    with op.batch_alter_table("crm_link") as batch:
        batch.drop_column("company")
