"""Sign-ins made before revision 0009 have no `signed_in_at`, so their laptops' first refresh
after the upgrade was refused as "over 12 hours old" and every laptop of the fleet had to sign
in online again, outbox waiting. They count as made at the upgrade: one sign-in window from
now, then the rule as for any other.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from fieldapp.timeutil import now_iso

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("UPDATE token SET signed_in_at = :now WHERE signed_in_at IS NULL "
                       "AND revoked_at IS NULL").bindparams(now=now_iso()))


def downgrade() -> None:
    """Nothing to undo: revision 0009's downgrade drops the column."""
