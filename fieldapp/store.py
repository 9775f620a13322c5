"""Opening a user's encrypted cache. Every connection to a cache goes through `open_cache`.

SQLCipher (through sqlcipher3) encrypts every page with the user's data key; sqlite-utils
wraps the connection. WAL with synchronous=FULL means a committed change survives a power
cut; foreign keys are on. Connections belong to the thread that opened them.

Two threads write a cache (the DB worker and the sync), each on its own connection. Every
transaction takes the write lock when it begins (BEGIN IMMEDIATE), so what it reads before
it writes is still true when it writes: in WAL, a transaction that read first and then finds
another connection committed meanwhile cannot write at all (SQLITE_BUSY_SNAPSHOT).
"""

import contextlib
from pathlib import Path

import sqlcipher3
from sqlite_utils import Database

from . import record_sums
from .errors import CacheDamaged, CacheUnreadable
from .schema import migrations

PLAINTEXT_HEADER = b"SQLite format 3\x00"


def open_cache(path: Path, data_key: bytes, *, migrate: bool = True,
               check: bool = False) -> Database:
    """Open (creating if new) the cache at `path` with its 32-byte data key, and migrate it.
    `check`: check every page's seal first, raising CacheDamaged (a sign-in checks a cache
    found damaged since it last opened; page 1 and the schema are read by every open)."""
    if len(data_key) != 32:
        raise ValueError("a data key is 32 bytes")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlcipher3.connect(str(path), timeout=10.0)
    _private(path)
    try:
        conn.execute(f"PRAGMA key = \"x'{data_key.hex()}'\"")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as e:
        conn.close()
        if is_damage(e):  # the key opened page 1; a page after it is damaged
            raise CacheDamaged(f"{path} is damaged: {e}") from None
        raise CacheUnreadable(f"{path} cannot be opened with this key ({e})") from None
    if check:
        problem = page_damage(conn)
        if problem:
            conn.close()
            raise CacheDamaged(f"{path} is damaged: {problem}")
    conn.execute("PRAGMA journal_mode = WAL").fetchone()
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    record_sums.register(conn)  # the check's triggers call it
    conn.isolation_level = "IMMEDIATE"  # the transactions sqlite-utils opens by itself
    db = Cache(conn)
    if migrate:
        migrations.apply(db)
    return db


def _private(path: Path) -> None:
    """The user's folder and cache for their account alone, as key.json already is: the cache
    is encrypted, but who uses this laptop and when is nobody else's business. SQLite gives
    the WAL files the database's permissions. An admin's account that does not own them
    (`tandem doctor`) leaves them as they are."""
    try:
        path.parent.chmod(0o700)
        path.chmod(0o600)
    except PermissionError:
        pass


# SQLite's words for a page that fails its seal, read as data or as the schema.
DAMAGE_WORDS = ("database disk image is malformed", "malformed database schema")


def is_damage(error: BaseException) -> bool:
    """Whether a read failed on a damaged page (not, say, on malformed JSON in a query)."""
    return (isinstance(error, sqlcipher3.DatabaseError)
            and any(words in str(error) for words in DAMAGE_WORDS))


def page_damage(conn) -> str | None:
    """What is wrong with the cache's pages, or None: SQLCipher checks each page's seal,
    which any change to a page on disk breaks."""
    try:
        found = [" ".join(map(str, r)) for r in
                 conn.execute("PRAGMA cipher_integrity_check").fetchmany(3)]
    except sqlcipher3.DatabaseError as e:
        return str(e)
    return "; ".join(found) or None


def is_encrypted(path: Path) -> bool:
    """A plaintext SQLite file starts with a fixed header; an encrypted one looks random."""
    with open(path, "rb") as f:
        return f.read(len(PLAINTEXT_HEADER)) != PLAINTEXT_HEADER


class Cache(Database):
    """A cache's Database, whose `atomic()` takes the write lock as it begins (waiting up to
    the connection's timeout for another writer to finish)."""

    @contextlib.contextmanager
    def atomic(self):
        if self.conn.in_transaction:  # nested: a savepoint, as sqlite-utils does
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise
