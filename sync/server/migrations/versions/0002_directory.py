"""The resource directory: one row per service holding its whole document, and the version.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_service",
        sa.Column("service_id", sa.String(255), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("document", sa.Text),
    )
    op.bulk_insert(sa.table("meta", sa.column("key"), sa.column("value")),
                   [{"key": "directory_version", "value": "0"}])


def downgrade() -> None:
    op.drop_table("directory_service")
    op.execute("DELETE FROM meta WHERE key = 'directory_version'")
