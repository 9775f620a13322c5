"""When the server's history goes back: the log of history generations (restores, failovers,
detected losses), the log of records laptops gave back, and an index to ask whether a record
was ever applied here. Both logs refuse UPDATE and DELETE at the database.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

APPEND_ONLY = ("history_generation", "recovery")


def upgrade() -> None:
    op.create_table(
        "history_generation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("epoch", sa.String(64), nullable=False, unique=True),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("newest_change", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "recovery",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("epoch", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
    )
    op.create_index("recovery_epoch_device", "recovery", ["epoch", "device_id"])
    op.create_index("applied_op_record", "applied_op", ["record_id"])
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:  # tandem_append_only() comes from 0004
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION tandem_append_only()")
    else:
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    op.drop_index("applied_op_record", "applied_op")
    for table in APPEND_ONLY:
        op.drop_table(table)
