"""Where change_seq values come from, and which of them a pull may serve.

Pull cursors follow change_seq, so a cursor must never pass a value that a transaction still
open may commit later. On SQLite every transaction holds the database's write lock (db.py),
so writers take values one after another from the `change_counter` row and all of them are
servable.

On PostgreSQL writers run side by side and take values from the sequence
`record_change_seq` (revision 0013). Before its first value, a writer takes a shared
advisory lock, held until its transaction ends however it ends (commit, rollback, a killed
process), whose key is the next value the sequence will give: no value it takes is lower.
A pull serves only values below its bound: the lowest key such a lock holds, or the
sequence's next value when none is held, read in one statement in that order (sequence
first). Why no cursor skips a late commit: a writer that took value v before the pull read
the sequence had its lock before that too, and still holds it while it may commit, so the
bound is at most v; a writer that takes v after the read gets a v above everything issued by
then, so the bound is at most v again.

Writers that must not interleave with any other (compaction, a new history generation, the
intake board's stamp) exclude them with another advisory lock, which every writer shares.
"""

from sqlalchemy import select, text

from .tables import change_counter

SEQUENCE = "record_change_seq"
_IN_FLIGHT = 0x5444 << 48  # key prefix of the writers' locks: key - _IN_FLIGHT = next value
_WRITERS = (0x5444, 1)  # the lock writers share and the excluding writer holds alone

_NEXT = text(f"SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END "
             f"FROM {SEQUENCE}")
# A pull's bound in one statement, the sequence read first: the locks are read by a subquery
# that depends on the value read, which PostgreSQL runs only once it has that value's row.
_BOUND = text(
    "SELECT s.next, (SELECT min(((classid::bigint << 32) | objid::bigint) - :prefix) "
    "FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND "
    "classid::bigint >> 16 = :tag AND database = (SELECT oid FROM pg_database WHERE "
    "datname = current_database()) AND s.next IS NOT NULL) FROM (SELECT CASE WHEN is_called "
    f"THEN last_value + 1 ELSE last_value END AS next FROM {SEQUENCE}) AS s")
_SHARE_WRITERS = text("SELECT pg_advisory_xact_lock_shared(:a, :b)")
_EXCLUDE_WRITERS = text("SELECT pg_advisory_xact_lock(:a, :b)")
# The lock keyed by the sequence's next value, read and taken in one statement (one round trip)
_HOLD_FROM_NEXT = text(
    f"SELECT pg_advisory_xact_lock_shared(:prefix + CASE WHEN is_called THEN last_value + 1 "
    f"ELSE last_value END) FROM {SEQUENCE}")
_COUNT_ON = text("UPDATE change_counter SET value = value + :n WHERE id = 1 RETURNING value")
_TAKE = text(f"SELECT nextval('{SEQUENCE}') FROM generate_series(1, :n)")


def _postgresql(conn) -> bool:
    return conn.dialect.name == "postgresql"


def join_writers(conn) -> None:
    """Run as one of the writers of `record` until the transaction ends: first in a writing
    transaction, so that an excluding writer (below) never sees it half done."""
    if _postgresql(conn):
        conn.execute(_SHARE_WRITERS, {"a": _WRITERS[0], "b": _WRITERS[1]})


def exclude_writers(conn) -> None:
    """Wait for every writer of `record` to finish, and keep new ones out until the
    transaction ends."""
    if _postgresql(conn):
        conn.execute(_EXCLUDE_WRITERS, {"a": _WRITERS[0], "b": _WRITERS[1]})


def take(conn, count: int) -> list[int]:
    """`count` new change_seq values, ascending, for records this transaction writes."""
    if count <= 0:
        return []
    if not _postgresql(conn):
        last = conn.execute(_COUNT_ON, {"n": count}).scalar_one()
        return list(range(last - count + 1, last + 1))
    conn.execute(_HOLD_FROM_NEXT, {"prefix": _IN_FLIGHT})
    return sorted(conn.execute(_TAKE, {"n": count}).scalars().all())


def newest(conn) -> int:
    """The last change_seq value handed out (0 when none was)."""
    if not _postgresql(conn):
        return conn.execute(select(change_counter.c.value).where(change_counter.c.id == 1)
                            ).scalar_one()
    return conn.execute(_NEXT).scalar_one() - 1


def newest_sql(dialect: str) -> str:
    """newest() as a scalar subquery, for a statement that reads it with other values."""
    if dialect != "postgresql":
        return "(SELECT value FROM change_counter WHERE id = 1)"
    return f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {SEQUENCE})"


def servable_below(conn) -> int | None:
    """The bound a pull serves change_seq values under (None: every committed one); read it
    before the rows, in a statement of its own."""
    if not _postgresql(conn):
        return None
    bound, held = conn.execute(_BOUND, {"prefix": _IN_FLIGHT, "tag": _IN_FLIGHT >> 48}).one()
    return bound if held is None else min(bound, held)
