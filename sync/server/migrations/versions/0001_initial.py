"""The first agency server schema: accounts, devices, tokens, records, applied ops, conflicts.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(sa.table("change_counter", sa.column("id"), sa.column("value")),
                   [{"id": 1, "value": 0}])
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("teams", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "device",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("registered_at", sa.String(40), nullable=False),
        sa.Column("last_seen_at", sa.String(40)),
        sa.Column("revoked_at", sa.String(40)),
    )
    op.create_table(
        "token",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40)),
    )
    op.create_index("token_device", "token", ["device_id"])
    op.create_table(
        "record",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("clinical", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("change_seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("field_hlc", sa.Text, nullable=False),
        sa.Column("created_hlc", sa.String(80), nullable=False),
        sa.Column("updated_hlc", sa.String(80), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("device", sa.String(64), nullable=False),
    )
    op.create_index("record_team_seq", "record", ["team", "change_seq"])
    op.create_table(
        "applied_op",
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("op_id", sa.String(64), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("applied_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "op_id"),
    )
    op.create_table(
        "conflict",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("kept_value", sa.Text),
        sa.Column("other_value", sa.Text),
        sa.Column("op_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("detected_at", sa.String(40), nullable=False),
        sa.Column("resolved_at", sa.String(40)),
    )
    op.create_index("conflict_record", "conflict", ["table_name", "record_id"])


def downgrade() -> None:
    for name in ("conflict", "applied_op", "record", "token", "device", "app_user",
                 "change_counter", "meta"):
        op.drop_table(name)
