"""Each team's record count, hash sum and newest change_seq, per record table, kept as
records are written: what the end-of-sync summary reads (protocol.SetHash over everything a
caller may see), so a sync costs the same in a team's tenth year as in its first.

A write adds its new version's digest and subtracts the one it replaced; the sum is mod
2**64 (stored signed, as databases keep 64-bit integers). On PostgreSQL, where writers run
side by side, each row is changed by one statement that adds to what it holds (taking its
lock until the transaction ends), in (team, table) order so two writers never wait for each
other; on SQLite writers take turns, so a row is read, then written.
"""

from collections import defaultdict

from sqlalchemy import bindparam, delete, select, text

from .. import protocol as P
from . import change_log
from .tables import record, record_sum

MOD = 1 << 64


def _signed(total: int) -> int:
    return total - MOD if total >= MOD >> 1 else total


class Changes:
    """What one transaction did to record counts and sums, per (team, table)."""

    def __init__(self):
        self.count = defaultdict(int)
        self.total = defaultdict(int)
        self.top = defaultdict(int)

    def add(self, team: str, table: str, record_id: str, version: int, seq: int) -> None:
        key = (team, table)
        self.count[key] += 1
        self.total[key] += P.record_digest(table, record_id, version)
        self.top[key] = max(self.top[key], seq)

    def replace(self, team: str, table: str, record_id: str, old_version: int,
                new_version: int, seq: int) -> None:
        key = (team, table)
        self.total[key] += (P.record_digest(table, record_id, new_version)
                            - P.record_digest(table, record_id, old_version))
        self.top[key] = max(self.top[key], seq)

    def write(self, conn) -> None:
        keys = set(self.count) | set(self.total)
        if not keys:
            return
        if conn.dialect.name == "postgresql":
            conn.execute(_ADD, [{"team": key[0], "table_name": key[1], "count": self.count[key],
                                 "total": _signed(self.total[key] % MOD),
                                 "top_seq": self.top[key]} for key in sorted(keys)])
            return
        now = {(r.team, r.table_name): r for r in conn.execute(
            _SQLITE_NOW, {"teams": sorted({team for team, _ in keys})})}
        rows = []
        for key in sorted(keys):
            old = now.get(key)
            rows.append({
                "team": key[0], "table_name": key[1],
                "count": (old.count if old else 0) + self.count[key],
                "total": _signed(((old.total if old else 0) + self.total[key]) % MOD),
                "top_seq": max(old.top_seq if old else 0, self.top[key])})
        conn.execute(_SQLITE_SET, rows)


# SQLite's integers overflow into floats, so there the sums are added up here (Changes.write),
# with statements built once (building one costs about as much CPU as running it).
_SQLITE_NOW = select(record_sum).where(record_sum.c.team.in_(bindparam("teams", expanding=True)))
_SQLITE_SET = text(
    "INSERT INTO record_sum (team, table_name, count, total, top_seq) "
    "VALUES (:team, :table_name, :count, :total, :top_seq) "
    "ON CONFLICT (team, table_name) DO UPDATE SET count = excluded.count, "
    "total = excluded.total, top_seq = excluded.top_seq")

# Adds a change to a row (or makes it): the sum wraps mod 2**64 into the signed range.
_ADD = text(
    "INSERT INTO record_sum AS s (team, table_name, count, total, top_seq) "
    "VALUES (:team, :table_name, :count, :total, :top_seq) "
    "ON CONFLICT (team, table_name) DO UPDATE SET count = s.count + excluded.count, "
    f"total = ((s.total::numeric + excluded.total + {MOD >> 1}) % {MOD} + {MOD}) % {MOD}"
    f" - {MOD >> 1}, top_seq = greatest(s.top_seq, excluded.top_seq)")


def rebuild(conn, teams: list[str] | None = None) -> None:
    """Recount from `record` (all teams, or these): for a new table and after compaction."""
    change_log.exclude_writers(conn)
    conn.execute(delete(record_sum).where(
        *([record_sum.c.team.in_(teams)] if teams is not None else [])))
    sums = Changes()
    for r in conn.execute(select(record.c.team, record.c.table_name, record.c.id,
                                 record.c.version, record.c.change_seq).where(
            *([record.c.team.in_(teams)] if teams is not None else []))):
        sums.add(r.team, r.table_name, r.id, r.version, r.change_seq)
    sums.write(conn)


_READ = select(record_sum).where(  # every summary reads it: built once
    record_sum.c.team.in_(bindparam("teams", expanding=True)),
    record_sum.c.table_name.in_(bindparam("tables", expanding=True)))


def read(conn, teams, tables) -> tuple[int, int, int]:
    """(count, hash sum, newest change_seq) of these teams' records in these tables."""
    count = total = top = 0
    for r in conn.execute(_READ, {"teams": list(teams), "tables": list(tables)}):
        count, total, top = count + r.count, total + r.total, max(top, r.top_seq)
    return count, total % MOD, top
