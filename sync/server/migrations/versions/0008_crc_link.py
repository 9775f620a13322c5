"""The CRC link (issue 19): intake board sessions, the CRC's posted status, and an index for
the board's read of recent notices.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("last_seen_at", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.String(40)),
    )
    op.create_table(
        "crc_status",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("wait_minutes", sa.Integer),
        sa.Column("posted_at", sa.String(40), nullable=False),
        sa.Column("posted_by", sa.String(64), nullable=False),
    )
    op.create_index("record_table_created", "record", ["table_name", "created_hlc"])


def downgrade() -> None:
    op.drop_index("record_table_created", "record")
    op.drop_table("crc_status")
    op.drop_table("intake_session")
