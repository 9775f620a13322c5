"""The laptop's side of the end-of-sync check, kept as records are written: per record table,
how many records it counts and the sum of their digests, as the server keeps its side
(sync/server/record_sums.py). The check then reads a row per table instead of every record,
so a sync costs what changed, not what the laptop holds.

SQLite triggers keep the sums, so no writer can forget them (a pull, a withdrawn note, a
give-back, a retention purge, a scope change). A row of a pulled table counts while it has a
server version and is not kept back in `unreturned` (the server lacks it); a row of `purged`
(a record the retention window took off the laptop) counts as the record did. A record is
never both a counted row and purged: a pull that brings it back forgets it as purged in the
same transaction.

SQLite has no sha256, so every connection to a cache registers `tandem_digest` (`register`:
store.open_cache, and the migration for its own connection). SQLite's integers are 64-bit
signed and overflow to floats, so the sum is kept as two sums of 32-bit halves; `read` joins
them mod 2**64.
"""

import hashlib
from functools import lru_cache

MOD = 1 << 64


def digest(table: str, record_id: str, version: int) -> int:
    """What one record adds to the check's hash sum (the server computes the same)."""
    raw = f"{table}\x1f{record_id}\x1f{version}".encode()
    return int.from_bytes(hashlib.sha256(raw).digest()[:8], "big")


@lru_cache(maxsize=1024)  # a trigger asks for both halves of one digest, one after the other
def _halves(table: str, record_id: str, version: int) -> tuple[int, int]:
    d = digest(table, record_id, version)
    return d >> 32, d & 0xFFFFFFFF


def _sql_digest(table: str, record_id: str, version: int, half: int) -> int:
    return _halves(table, record_id, version)[half]


def register(conn) -> None:
    """Make `tandem_digest(table, id, version, half)` known to this connection."""
    conn.create_function("tandem_digest", 4, _sql_digest, deterministic=True)


def read(db) -> tuple[int, str]:
    """(count, hash sum as 16 hex digits) of what the laptop holds, for the check."""
    count, high, low = db.execute(
        "SELECT coalesce(sum(count), 0), coalesce(sum(high), 0), coalesce(sum(low), 0) "
        "FROM record_sum").fetchone()
    return count, f"{((high << 32) + low) % MOD:016x}"


def install(db, tables: tuple[str, ...]) -> None:
    """The sums table and its triggers for `tables` (the pulled ones, as a migration names
    them), counted from what the cache holds now."""
    db.execute("CREATE TABLE IF NOT EXISTS record_sum (table_name TEXT PRIMARY KEY, "
               "count INTEGER NOT NULL, high INTEGER NOT NULL, low INTEGER NOT NULL)")
    for table in tables:
        _table_triggers(db, table)
    _purged_triggers(db)
    _unreturned_triggers(db, tables)
    rebuild(db, tables)


def rebuild(db, tables: tuple[str, ...]) -> None:
    """Count the sums again from the rows (in the caller's transaction)."""
    db.execute("DELETE FROM record_sum")
    for table in tables:
        counted = _counted("x", table, "x.id")
        db.execute(f"INSERT INTO record_sum (table_name, count, high, low) SELECT ?, count(*), "
                   f"coalesce(sum(tandem_digest(?, id, server_version, 0)), 0), "
                   f"coalesce(sum(tandem_digest(?, id, server_version, 1)), 0) "
                   f"FROM [{table}] AS x WHERE {counted}", [table, table, table])
    db.execute("UPDATE record_sum SET count = count + p.n, high = high + p.h, low = low + p.l "
               "FROM (SELECT table_name, count(*) AS n, "
               "sum(tandem_digest(table_name, record_id, server_version, 0)) AS h, "
               "sum(tandem_digest(table_name, record_id, server_version, 1)) AS l "
               "FROM purged GROUP BY table_name) AS p WHERE record_sum.table_name = p.table_name")


def _counted(alias: str, table: str, record_id: str) -> str:
    """SQL: the row `alias` of `table` counts (a server version, not kept back)."""
    return (f"{alias}.server_version > 0 AND NOT EXISTS (SELECT 1 FROM unreturned u "
            f"WHERE u.table_name = '{table}' AND u.record_id = {record_id})")


def _change(sign: str, table: str, row: str, *, table_sql: str | None = None,
            version: str | None = None) -> str:
    """SQL: add (`+`) or take away (`-`) one record's count and digest."""
    name = table_sql or f"'{table}'"
    version = version or f"{row}.server_version"
    args = f"{name}, {row}.{'record_id' if table_sql else 'id'}, {version}"
    return (f"UPDATE record_sum SET count = count {sign} 1, "
            f"high = high {sign} tandem_digest({args}, 0), "
            f"low = low {sign} tandem_digest({args}, 1) WHERE table_name = {name}")


def _table_triggers(db, table: str) -> None:
    db.executescript(f"""
    CREATE TRIGGER record_sum_{table}_insert AFTER INSERT ON [{table}]
    WHEN {_counted('NEW', table, 'NEW.id')}
    BEGIN {_change('+', table, 'NEW')}; END;
    CREATE TRIGGER record_sum_{table}_delete AFTER DELETE ON [{table}]
    WHEN {_counted('OLD', table, 'OLD.id')}
    BEGIN {_change('-', table, 'OLD')}; END;
    CREATE TRIGGER record_sum_{table}_update AFTER UPDATE OF id, server_version ON [{table}]
    WHEN OLD.server_version IS NOT NEW.server_version OR OLD.id IS NOT NEW.id
    BEGIN
        {_change('-', table, 'OLD')} AND {_counted('OLD', table, 'OLD.id')};
        {_change('+', table, 'NEW')} AND {_counted('NEW', table, 'NEW.id')};
    END;
    """)


def _purged_triggers(db) -> None:
    def change(sign, row):
        return _change(sign, "", row, table_sql=f"{row}.table_name")
    db.executescript(f"""
    CREATE TRIGGER record_sum_purged_insert AFTER INSERT ON purged
    BEGIN {change('+', 'NEW')}; END;
    CREATE TRIGGER record_sum_purged_delete AFTER DELETE ON purged
    BEGIN {change('-', 'OLD')}; END;
    CREATE TRIGGER record_sum_purged_update AFTER UPDATE ON purged
    BEGIN {change('-', 'OLD')}; {change('+', 'NEW')}; END;
    """)


def _unreturned_triggers(db, tables: tuple[str, ...]) -> None:
    """A record kept back stops counting; one no longer kept back counts again."""
    def change(sign, row):
        return "".join(
            _change(sign, "", row, table_sql=f"'{t}'", version=(
                f"(SELECT server_version FROM [{t}] WHERE id = {row}.record_id)"))
            + f" AND {row}.table_name = '{t}' AND EXISTS (SELECT 1 FROM [{t}] "
              f"WHERE id = {row}.record_id AND server_version > 0);\n"
            for t in tables)
    db.executescript(f"""
    CREATE TRIGGER record_sum_unreturned_insert AFTER INSERT ON unreturned
    BEGIN {change('-', 'NEW')} END;
    CREATE TRIGGER record_sum_unreturned_delete AFTER DELETE ON unreturned
    BEGIN {change('+', 'OLD')} END;
    """)
