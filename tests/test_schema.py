"""Migrations: a cache made by the first migration upgrades to the latest without loss."""

import os

from fieldapp import records, schema
from fieldapp.store import open_cache


def test_upgrade_from_first_migration_keeps_data(tmp_path):
    key = os.urandom(32)
    path = tmp_path / "old.db"
    names = [m.name for m in schema.migrations.pending(open_cache(path, key, migrate=False))]
    db = open_cache(path, key, migrate=False)
    schema.migrations.apply(db, stop_before=names[1])
    assert schema.schema_version(db) == names[0]
    with db.atomic():
        db["sync_state"].insert({"id": 1, "device_id": "dev-1", "pull_cursor": "42"})
        db.execute("INSERT INTO shift (id, created_hlc, updated_hlc, author, device, team, unit, "
                   "members, started_at) VALUES ('s1', 'h', 'h', 'a', 'dev-1', 't', 'MHST-11', "
                   "'[]', '2026-11-21T02:00:00.000Z')")
        db.execute("INSERT INTO outbox (op_id, table_name, record_id, kind, fields, base, "
                   "base_version, hlc, created_at) VALUES ('op1', 'shift', 's1', 'create', "
                   "'{}', '{}', 0, 'h', 'now')")
    db.close()

    upgraded = open_cache(path, key)
    assert schema.schema_version(upgraded) == schema.latest_version()
    assert upgraded["shift"].get("s1")["unit"] == "MHST-11"
    assert upgraded["sync_state"].get(1)["pull_cursor"] == "42"
    assert upgraded.execute("SELECT op_id, state FROM outbox").fetchall() == [("op1", "pending")]
    assert schema.migrations.pending(upgraded) == []


def test_latest_schema_has_every_record_field(tmp_path):
    db = open_cache(tmp_path / "c.db", os.urandom(32))
    for rt in records.RECORD_TYPES.values():
        columns = set(db[rt.table].columns_dict)
        missing = (set(rt.field_names) | set(records.META_COLUMNS)) - columns
        assert not missing, f"{rt.table} lacks {missing}"
