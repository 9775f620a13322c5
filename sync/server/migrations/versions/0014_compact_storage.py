"""Field stamps and op results in few bytes (sync/server/stored.py): `record.field_hlc` keeps
only the fields whose stamp is not the create's, grouped by stamp, instead of every field's
56-character stamp; `applied_op.result` drops the op_id its key already holds, and an op
applied with nothing else to say is its version as digits. The rows are rewritten a thousand
at a time, in key order, both ways. The forms are written out here, as they are at this
revision, so that a later change to stored.py leaves this history as it was.

The index of records by table and creation stamp keeps only the intake board's tables, the
ones it is read for (tables.py).

Revision ID: 0014
Revises: 0013
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BATCH = 1000
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_result_json = json.JSONEncoder(separators=(",", ":")).encode


BOARD_TABLES = "table_name IN ('crc_checkin', 'crc_dropoff', 'crc_notice')"


def upgrade() -> None:
    _rewrite_records(_compact_stamps)
    _rewrite_results(_compact_result)
    op.drop_index("record_table_created", "record")
    op.create_index("record_table_created", "record", ["table_name", "created_hlc"],
                    sqlite_where=sa.text(BOARD_TABLES), postgresql_where=sa.text(BOARD_TABLES))


def downgrade() -> None:
    op.drop_index("record_table_created", "record")
    op.create_index("record_table_created", "record", ["table_name", "created_hlc"])
    _rewrite_records(_every_stamp)
    _rewrite_results(_whole_result)


def _compact_stamps(data: str, field_hlc: str, created_hlc: str) -> str:
    stamps = json.loads(field_hlc)
    if any(isinstance(v, list) for v in stamps.values()):
        return field_hlc  # already in the compact form
    grouped: dict[str, list[str]] = {}
    for name, stamp in stamps.items():
        if stamp != created_hlc:
            grouped.setdefault(stamp, []).append(name)
    return _json(grouped) if grouped else "{}"


def _every_stamp(data: str, field_hlc: str, created_hlc: str) -> str:
    grouped = json.loads(field_hlc)
    if any(isinstance(v, str) for v in grouped.values()):
        return field_hlc  # already one stamp per field
    stamps = {name: stamp for stamp, names in grouped.items() for name in names}
    return _json({**{name: stamps.get(name, created_hlc) for name in json.loads(data)},
                  **stamps})


def _compact_result(op_id: str, result: str) -> str:
    if not result.startswith('{"op_id"'):
        return result  # already compact
    rest = {k: v for k, v in json.loads(result).items() if k != "op_id"}
    if rest.get("status") == "applied" and type(rest.get("version")) is int:
        if list(rest) == ["status", "version"]:
            return str(rest["version"])
        if list(rest) == ["status", "version", "conflicts"] and rest["conflicts"] == []:
            return f"{rest['version']}[]"
    return _result_json(rest)


def _whole_result(op_id: str, result: str) -> str:
    if result.startswith('{"op_id"'):
        return result
    if result.startswith("{"):
        rest = json.loads(result)
    elif result.endswith("[]"):
        rest = {"status": "applied", "version": int(result[:-2]), "conflicts": []}
    else:
        rest = {"status": "applied", "version": int(result)}
    return _result_json({"op_id": op_id, **rest})


def _rewrite_records(convert) -> None:
    conn, last = op.get_bind(), None
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, data, field_hlc, created_hlc FROM record"
            + (" WHERE id > :last" if last is not None else "") + " ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH}).all()
        if not rows:
            return
        changed = [{"i": r.id, "f": new} for r in rows
                   if (new := convert(r.data, r.field_hlc, r.created_hlc)) != r.field_hlc]
        if changed:
            conn.execute(sa.text("UPDATE record SET field_hlc = :f WHERE id = :i"), changed)
        last = rows[-1].id


def _rewrite_results(convert) -> None:
    conn, last = op.get_bind(), None
    while True:
        rows = conn.execute(sa.text(
            "SELECT device_id, op_id, result FROM applied_op"
            + (" WHERE (device_id, op_id) > (:d, :o)" if last is not None else "")
            + " ORDER BY device_id, op_id LIMIT :n"),
            {"d": last and last[0], "o": last and last[1], "n": BATCH}).all()
        if not rows:
            return
        changed = [{"d": r.device_id, "o": r.op_id, "r": new} for r in rows
                   if (new := convert(r.op_id, r.result)) != r.result]
        if changed:
            conn.execute(sa.text("UPDATE applied_op SET result = :r "
                                 "WHERE device_id = :d AND op_id = :o"), changed)
        last = (rows[-1].device_id, rows[-1].op_id)
