"""Connecting to the agency database and bringing its schema up to date.

The same code runs on SQLite (the embedded default) and PostgreSQL. On SQLite every
transaction starts with BEGIN IMMEDIATE, so writers queue for the lock instead of failing
when a read transaction tries to become a write one, and within one process they queue on a
lock of their own first (_taking_turns); WAL and synchronous=FULL keep committed changes
through a power cut.
"""

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (Column, ColumnElement, Connection, Engine, Table, Text, bindparam,
                        cast, create_engine, event, func, insert, select)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from fieldapp.ids import new_id

from . import config
from .tables import meta

MIGRATIONS = Path(__file__).with_name("migrations")


class BadDatabaseUrl(ValueError):
    """The --db value is not a database URL this server can use."""


def make_engine(url: str) -> Engine:
    """An engine for `url` (sqlite:///path or postgresql+psycopg://...)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadDatabaseUrl(
            f"{url!r} is not a database URL; use sqlite:///path/to/agency.db or "
            "postgresql+psycopg://user:password@host/dbname") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise BadDatabaseUrl("SQLite needs a file path: sqlite:///path/to/agency.db")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={
            "timeout": SQLITE_WAIT_S, "check_same_thread": False,
            "factory": _taking_turns(parsed.database)})
        _sqlite_setup(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise BadDatabaseUrl("PostgreSQL URLs use psycopg 3: postgresql+psycopg://...")
        # Per worker process; workers x (size + overflow) must stay under max_connections.
        # Statements are planned with their real parameters every time (no psycopg
        # auto-prepare): a prepared statement's generic plan for the push's "which of these
        # 500 ops were applied already" query scans every op the device ever pushed, which
        # made pushes 30x slower until the next ANALYZE.
        return create_engine(
            parsed, pool_pre_ping=True, connect_args={"prepare_threshold": None},
            pool_size=config.env_int(config.POOL_SIZE, 10, minimum=1),
            max_overflow=config.env_int(config.MAX_OVERFLOW, 20),
            pool_timeout=config.env_int(config.POOL_TIMEOUT, 30, minimum=1),
            pool_recycle=config.env_int(config.POOL_RECYCLE, 1800, minimum=-1))
    raise BadDatabaseUrl(f"unsupported database {backend!r}; use sqlite or postgresql+psycopg")


def insert_rows(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert many rows with the same keys. On PostgreSQL this is one COPY, which costs far
    less per row than a statement per row; on SQLite one executemany of the driver's own
    statement, without SQLAlchemy's per-row parameter processing (the columns are plain text
    and numbers). Either runs inside the connection's transaction."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    columns = list(rows[0])
    # each row's values in column order, picked in C (a loop per row costs as much as the insert)
    values = map(itemgetter(*columns), rows) if len(columns) > 1 else ((row[columns[0]],)
                                                                       for row in rows)
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})", list(values))
        return
    with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(
            f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    ) as copy:
        for row in values:
            copy.write_row(row)


def among(dialect: str, column: Column, name: str) -> ColumnElement:
    """`column IN` the items of a JSON array of text bound as `name`, for a statement built
    once: one parameter, where a placeholder per value has SQLAlchemy write the statement
    out afresh each time and a PostgreSQL array costs psycopg about ten times the CPU of
    the JSON text to send."""
    items = (func.jsonb_array_elements_text(cast(bindparam(name, type_=Text), JSONB))
             if dialect == "postgresql" else func.json_each(bindparam(name, type_=Text)))
    return column.in_(select(items.table_valued("value")))


T = TypeVar("T")
# PostgreSQL's codes for a transaction undone for losing a race with another: a unique key
# another writer had just taken, a deadlock, a serialization failure.
_LOST_RACE = ("23505", "40P01", "40001")


def retried(work: Callable[[], T], attempts: int = 3) -> T:
    """Run `work` (which opens and commits its own transaction) again when the database undid
    it for losing a race with another writer: two pushes creating one record, or applying one
    op, let the later find what the first wrote. After the last attempt the error stands (the
    API answers 503 and the laptop retries)."""
    for _ in range(attempts - 1):
        try:
            return work()
        except Exception as e:
            if getattr(getattr(e, "orig", e), "sqlstate", None) not in _LOST_RACE:
                raise
    return work()


SQLITE_WAIT_S = 60  # how long a transaction waits for the database before it gives up
_turns: dict[str, threading.Lock] = {}  # per SQLite file, shared by this process's engines


def _then_end_turn(method: Callable) -> Callable:
    """`method` of a connection, then its turn handed back, however the method ended."""
    def ending(self) -> None:
        try:
            method(self)
        finally:
            self.end_turn()
    return ending


def _taking_turns(path: str) -> type[sqlite3.Connection]:
    """The connection class for the SQLite file at `path`: its transactions take turns on one
    lock of this process. SQLite's own wait sleeps in growing steps (1, 2, 5, 10 ms and on),
    so a writer that found the file held woke well after it was free: in one bench_sync run
    its 104 transactions waited 0.53 s in all at BEGIN IMMEDIATE, many 18.7 ms at a time.
    The lock wakes the next writer as the last one ends. Another process still waits in
    SQLite's way."""
    turn = _turns.setdefault(str(Path(path).resolve()), threading.Lock())

    class TakingTurns(sqlite3.Connection):
        holds_turn = False

        def take_turn(self) -> None:
            """Wait for this process's other transactions on the file (after SQLITE_WAIT_S,
            go on without the turn: SQLite's own wait then decides)."""
            self.holds_turn = turn.acquire(timeout=SQLITE_WAIT_S)

        def end_turn(self) -> None:
            if self.holds_turn:
                self.holds_turn = False
                turn.release()

        commit = _then_end_turn(sqlite3.Connection.commit)
        rollback = _then_end_turn(sqlite3.Connection.rollback)
        close = _then_end_turn(sqlite3.Connection.close)

    return TakingTurns


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        dbapi_conn.execute("PRAGMA journal_mode = WAL")
        dbapi_conn.execute("PRAGMA synchronous = FULL")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        dbapi_conn = conn.connection.dbapi_connection
        dbapi_conn.take_turn()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_conn.end_turn()
            raise


def migrate(engine: Engine) -> str:
    """Apply every Alembic migration, give a new database its epoch; returns the epoch."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with engine.begin() as conn:
        epoch = conn.scalar(select(meta.c.value).where(meta.c.key == "epoch"))
        if epoch is None:
            epoch = new_id()
            conn.execute(insert(meta).values(key="epoch", value=epoch))
    return epoch


# Built once, as most requests read the epoch: building a statement costs about as much CPU
# as running it.
_META = select(meta.c.value).where(meta.c.key == bindparam("key"))
_METAS = select(meta.c.key, meta.c.value).where(meta.c.key.in_(bindparam("keys", expanding=True)))


def read_meta(conn, key: str, default: str | None = None) -> str | None:
    value = conn.scalar(_META, {"key": key})
    return default if value is None else value


def read_metas(conn, *keys: str) -> dict[str, str | None]:
    """Several meta values in one statement (None where unset)."""
    found = dict(conn.execute(_METAS, {"keys": list(keys)}).all())
    return {key: found.get(key) for key in keys}


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for a request that only reads. On PostgreSQL its statements run without
    an enclosing transaction: under READ COMMITTED each statement sees what it would see in
    one, and the BEGIN and COMMIT round trips are saved. On SQLite it is a transaction as
    every request's is (BEGIN IMMEDIATE queues it behind the writer)."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn
