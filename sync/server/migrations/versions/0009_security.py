"""Security, round two: the admin audit trail (append-only), sign-in throttling, second
factors and recovery codes, refresh-token chains; records no laptop can hold quarantined;
clock stamps far in the future brought back.

Before this revision the server took a child record's team from the record itself, so a
client could push a clinical note, review or amendment whose parent was missing or in another
team; every laptop of that team then ended each sync with a mismatch it could not repair.
Those records move to `quarantined_record` (kept, never served), and the sums are rebuilt, so
those laptops' next sync ends "ok". Stamps beyond a day ahead of now (a client's clock in year
2286) are brought back to now, so they no longer win every field conflict.

Revision ID: 0009
Revises: 0008
"""

import json
import time

import sqlalchemy as sa
from alembic import op

from sync.server.record_sums import rebuild

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# As the laptop's foreign keys were when this revision was written (history: never moves).
PARENTS = {
    "shift_event": ("shift_id", "shift"),
    "release_of_information": ("person_id", "person"),
    "clinical_note": ("encounter_id", "encounter"),
    "follow_up_attempt": ("follow_up_id", "follow_up"),
    "shift_review": ("shift_id", "shift"),
    "amendment": ("shift_id", "shift"),
}


def upgrade() -> None:
    for name in ("chain_id", "signed_in_at", "used_at", "successor_hash"):
        op.add_column("token", sa.Column(name, sa.String(64 if name != "signed_in_at" else 40)))
    op.create_index("token_chain", "token", ["chain_id"])
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64)),
        sa.Column("device_id", sa.String(64)),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("admin_audit_at", "admin_audit", ["at"])
    _append_only("admin_audit")
    op.create_table(
        "signin_throttle",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", sa.String(40), nullable=False),
        sa.Column("blocked_until", sa.String(40)),
        sa.Column("audited_until", sa.String(40)),
    )
    op.create_table(
        "two_factor",
        sa.Column("user_id", sa.Integer, primary_key=True),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("confirmed_at", sa.String(40)),
        sa.Column("last_step", sa.BigInteger),
    )
    op.create_table(
        "recovery_code",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.String(40)),
        sa.PrimaryKeyConstraint("user_id", "code_hash"),
    )
    op.create_table(
        "quarantined_record",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("device", sa.String(64), nullable=False),
        sa.Column("created_hlc", sa.String(80), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("quarantined_at", sa.String(40), nullable=False),
    )
    conn = op.get_bind()
    _quarantine_orphans(conn)
    _bring_back_future_stamps(conn)


def _append_only(table: str) -> None:
    message = f"{table} is append-only"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{message}'; END $$ LANGUAGE plpgsql""")
        op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{message}'); END")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _quarantine_orphans(conn) -> None:
    record = sa.table("record", *(sa.column(c) for c in (
        "id", "table_name", "team", "data", "author", "device", "created_hlc", "deleted")))
    children = conn.execute(sa.select(record).where(
        record.c.table_name.in_(list(PARENTS)))).mappings().all()
    parent_ids = {json.loads(r["data"]).get(PARENTS[r["table_name"]][0]) for r in children}
    parents = {r.id: r for r in conn.execute(
        sa.select(record.c.id, record.c.table_name, record.c.team).where(
            record.c.id.in_([p for p in parent_ids if isinstance(p, str)])))}
    moved, teams = [], set()
    for r in children:
        name, table = PARENTS[r["table_name"]]
        parent_id = json.loads(r["data"]).get(name)
        parent = parents.get(parent_id)
        if parent is None or parent.table_name != table:
            reason = f"{name}: no {table} {parent_id} on the server"
        elif parent.team != r["team"]:
            reason = f"{name}: the {table} is in team {parent.team}, this record in {r['team']}"
        else:
            continue
        moved.append({**{k: r[k] for k in ("id", "table_name", "team", "data", "author",
                                          "device", "created_hlc")},
                      "reason": reason[:200], "quarantined_at": _now()})
        teams.add(r["team"])
    if not moved:
        return
    conn.execute(sa.table("quarantined_record", *(sa.column(c) for c in moved[0])).insert(),
                 moved)
    conn.execute(record.delete().where(record.c.id.in_([m["id"] for m in moved])))
    audit = sa.table("admin_audit", *(sa.column(c) for c in (
        "at", "actor", "action", "target", "outcome", "detail")))
    conn.execute(audit.insert(), [{
        "at": m["quarantined_at"], "actor": "migration 0007", "action": "record.quarantined",
        "target": f"{m['table_name']}:{m['id']}", "outcome": "success",
        "detail": json.dumps({"team": m["team"], "reason": m["reason"], "author": m["author"],
                              "device": m["device"]})} for m in moved])
    rebuild(conn, sorted(teams))


def _bring_back_future_stamps(conn) -> None:
    now_ms = int(time.time() * 1000)
    limit = f"{now_ms + 86_400_000:013d}"

    def back(stamp: str) -> str:
        return f"{now_ms:013d}{stamp[13:]}" if stamp[:13] > limit else stamp

    record = sa.table("record", *(sa.column(c) for c in (
        "id", "created_hlc", "updated_hlc", "field_hlc")))
    for r in conn.execute(sa.select(record).where(record.c.updated_hlc > limit)).mappings().all():
        conn.execute(record.update().where(record.c.id == r["id"]).values(
            created_hlc=back(r["created_hlc"]), updated_hlc=back(r["updated_hlc"]),
            field_hlc=json.dumps({k: back(v) for k, v in json.loads(r["field_hlc"]).items()})))


def downgrade() -> None:
    raise NotImplementedError("0007 moves records to quarantine; restore from a backup instead")
