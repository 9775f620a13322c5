"""Per-team record counts and hash sums for the end-of-sync summary, filled from the records
already there.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from sync.server.record_sums import rebuild

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_sum",
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("top_seq", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("team", "table_name"),
    )
    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("record_sum")
