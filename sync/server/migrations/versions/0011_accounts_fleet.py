"""Accounts over their whole life (issue 23): when each password was set and the ones before
it (no reuse), each laptop's recovery secret (its data key's second seal, released only after
an online sign-in on it), and what each laptop last reported of itself (app version, changes
waiting and the oldest one's age, its last good sync).

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

DEVICE_COLUMNS = (("app_version", sa.String(40)), ("pending_changes", sa.Integer),
                  ("oldest_pending_at", sa.String(40)), ("reported_at", sa.String(40)),
                  ("last_good_sync_at", sa.String(40)), ("recovery_secret", sa.String(64)))


def upgrade() -> None:
    op.add_column("app_user", sa.Column("password_changed_at", sa.String(40)))
    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("set_at", sa.String(40), nullable=False),
    )
    op.create_index("password_history_user", "password_history", ["user_id", "id"])
    for name, kind in DEVICE_COLUMNS:
        op.add_column("device", sa.Column(name, kind))
    op.create_index("device_user", "device", ["user_id"])


def downgrade() -> None:
    op.drop_index("device_user", "device")
    for name, _kind in reversed(DEVICE_COLUMNS):
        op.drop_column("device", name)
    op.drop_index("password_history_user", "password_history")
    op.drop_table("password_history")
    op.drop_column("app_user", "password_changed_at")
