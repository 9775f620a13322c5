"""The team roster: each user's usual unit and vehicle, which a shift starts with.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("unit", sa.String(32)))
        batch.add_column(sa.Column("vehicle", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("vehicle")
        batch.drop_column("unit")
