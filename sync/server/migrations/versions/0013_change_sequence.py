"""On PostgreSQL, change_seq values come from a sequence instead of the `change_counter` row,
which every writer locked for its whole transaction, so pushes queued behind each other
(sync/server/change_log.py). The sequence goes on from the counter's value; it caches no
values (CACHE 1), so the values it gives rise in the order they are taken. SQLite keeps the
counter: its writers take turns anyway.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE record_change_seq AS bigint MINVALUE 1 START 1 CACHE 1")
    op.execute(sa.text("SELECT setval('record_change_seq', greatest(value, 1), value >= 1) "
                       "FROM change_counter WHERE id = 1"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(sa.text("UPDATE change_counter SET value = (SELECT CASE WHEN is_called THEN "
                       "last_value ELSE 0 END FROM record_change_seq) WHERE id = 1"))
    op.execute("DROP SEQUENCE record_change_seq")
