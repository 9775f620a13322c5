"""A damaged cache, found and rebuilt at sign-in without losing what was typed.

Every page of a cache carries a seal that any change to it on disk breaks (a disk fault, a
write cut off by failing hardware, tampering). Opening a cache reads its first pages; the rest
are checked on the network worker some seconds after the window opens (`check_pages`, about
3 ms a megabyte, kept off the sign-in's path), and damage found there is marked beside the
cache and told to the user, whose next sign-in then checks every page before opening it.

A damaged cache is set aside whole, for agency IT, and a new one is made with the same key. What exists nowhere else is carried into it from
whatever of the damaged copy can still be read, row by row around the damage: the changes not
yet sent (the outbox), drafts, settings, the laptop's identity and its sign-in to the agency
server. Records the agency server holds come back with the next sync, whose cursor starts
again.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3

from . import keys
from .errors import CacheDamaged, CacheUnreadable, KeyMissing
from .store import is_damage, open_cache, page_damage
from .timeutil import utc_now

# What only this laptop holds besides its state: unsent changes, drafts, settings, the sign-in
# to the agency server (refresh and access tokens, and the retired ones a lost rotation is told
# by), and what a restored server has not been given back yet.
CARRIED = ("outbox", "draft", "setting", "sync_credential", "retired_refresh_token",
           "access_token", "unreturned")
FORGOTTEN = {"pull_cursor": None, "last_sync_at": None, "retention_run_at": None}


@dataclass
class Rebuilt:
    kept: dict[str, int]  # table -> rows carried into the new cache
    unreadable: list[str]  # tables some of whose rows could not be read
    set_aside: Path  # the damaged cache, kept for agency IT

    def notice(self) -> str:
        """What the user is told, once signed in."""
        kept = (f"{self.kept.get('outbox', 0)} change(s) not yet sent and "
                f"{self.kept.get('draft', 0)} draft(s) were kept")
        lost = ""
        if "outbox" in self.unreadable or "draft" in self.unreadable:
            lost = (" Some changes not yet sent could not be read: tell agency IT, who can "
                    "look at the damaged copy.")
        return (f"This laptop's copy of your records was damaged on its disk and has been "
                f"rebuilt: {kept}. Your team's "
                f"records come back from the agency server at the next sync; until then this "
                f"laptop shows only what was kept.{lost} The damaged copy is kept as "
                f"{self.set_aside.name} for agency IT.")


DAMAGE_FOUND = ("This laptop's copy of your records is damaged on its disk. Sign out and sign "
                "in again: Tandem then rebuilds it, keeping what it can read of what was typed "
                "and not yet sent, and your team's records come back from the agency server.")


def check_pages(session) -> str:
    """Check every page's seal; '' when all is well, else what the user is told, with the
    cache marked so that the next sign-in rebuilds it."""
    problem = page_damage(session.db.conn)
    return "" if problem is None else _found(session, problem)


def damage_met(session, error: BaseException) -> CacheDamaged | None:
    """A job that read a damaged page before the page check came round: the cache marked as
    the check would have, and the error as what the user is told, not a bug report. None
    for any other error."""
    return CacheDamaged(_found(session, str(error))) if is_damage(error) else None


def _found(session, problem: str) -> str:
    """Mark the cache for a rebuild at the next sign-in; what the user is told."""
    _mark(session.cache_path).write_text(problem + "\n")
    return DAMAGE_FOUND


def marked(path: Path) -> bool:
    """Whether a page check found this cache damaged since it was last rebuilt."""
    return _mark(path).exists()


def _mark(path: Path) -> Path:
    return path.with_name(f"{path.name}.damage-found")


def started_anew(aside: Path) -> str:
    """What the user is told when an online sign-in made a new cache for one damaged beyond
    rebuilding."""
    return (f"This laptop's copy of your records was damaged beyond rebuilding, so signing in "
            f"online started a new one; your team's records come back from the agency server "
            f"at the first sync. Changes not yet sent and drafts in the damaged copy could not "
            f"be read: tell agency IT, who keep it as {aside.name}.")


def rebuild(path: Path, data_key: bytes) -> Rebuilt:
    """Set the damaged cache at `path` aside and make a new one holding what only it held."""
    state, profile, carried, unreadable = [], [], {}, []
    try:
        damaged = _Salvage(path, data_key)
    except (CacheDamaged, CacheUnreadable):  # its first pages: nothing in it can be found
        damaged = None
    if damaged is not None:
        try:
            state, profile = damaged.table("sync_state")[0], damaged.table("profile")[0]
            for table in CARRIED:
                carried[table], whole = damaged.table(table)
                if not whole:
                    unreadable.append(table)
        finally:
            damaged.close()
    aside = set_aside(path)
    _mark(path).unlink(missing_ok=True)
    if not state or not profile:
        raise CacheDamaged(
            f"This laptop's copy of your records is damaged beyond rebuilding here (whose it "
            f"is cannot be read). Sign in online to start a new one; the damaged copy is kept "
            f"as {aside.name} for agency IT.", aside)
    fresh = open_cache(path, data_key)
    try:
        with fresh.atomic():
            _insert(fresh, "sync_state", [{**state[0], **FORGOTTEN}])
            _insert(fresh, "profile", profile)
            for table, rows in carried.items():
                _insert(fresh, table, rows)
    finally:
        fresh.close()
    return Rebuilt({t: len(rows) for t, rows in carried.items()}, unreadable, aside)


def set_aside(path: Path) -> Path:
    """Rename the cache and its WAL files together (the WAL belongs to its database)."""
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    for n in range(2, 100):  # damaged again within the second: keep each copy
        if not aside.exists():
            break
        stamp = f"{stamp[:16]}-{n}"
        aside = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    try:  # a new sign-in replaces the key (file or keyring); this copy opens `aside`
        wrapped = keys.KeyStore(path).load()
    except KeyMissing:
        wrapped = None
    if wrapped is not None:
        fd = os.open(path.with_name(f"key.damaged-{stamp}.json"),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(wrapped, f)
    for suffix in ("-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            part.rename(f"{aside}{suffix}")
    path.rename(aside)
    return aside


class _Salvage:
    """Reads what it can of a damaged cache. SQLCipher keeps a failed page's error on the
    connection, which then fails reads that would succeed, so each failure starts a new one."""

    def __init__(self, path: Path, data_key: bytes):
        self.path, self.data_key = path, data_key
        self.db = open_cache(path, data_key, migrate=False)

    def rows(self, sql: str, params=()) -> list[dict]:
        try:
            return _dicts(self.db.execute(sql, params))
        except sqlcipher3.DatabaseError:
            self.db.close()
            self.db = open_cache(self.path, self.data_key, migrate=False)
            raise

    def table(self, table: str) -> tuple[list[dict], bool]:
        """(the rows that can be read, whether that is all of them): the whole table at
        once, or else one row at a time around the damaged pages."""
        try:
            return self.rows(f"SELECT * FROM [{table}]"), True
        except sqlcipher3.DatabaseError:
            pass
        try:
            span = self.rows(f"SELECT min(rowid) AS low, max(rowid) AS high FROM [{table}]")[0]
        except sqlcipher3.DatabaseError:
            return [], False
        found = []
        for rowid in range((span["low"] or 1), (span["high"] or 0) + 1):
            try:
                found += self.rows(f"SELECT * FROM [{table}] WHERE rowid = ?", [rowid])
            except sqlcipher3.DatabaseError:
                continue
        return found, False

    def close(self) -> None:
        self.db.close()


def _dicts(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _insert(db, table: str, rows: list[dict]) -> None:
    """Rows as read from the damaged cache (perhaps of an older schema): the columns both
    have, keys included (the outbox keeps its order)."""
    columns = {c.name for c in db[table].columns}
    for row in rows:
        values = {k: v for k, v in row.items() if k in columns}
        db.execute(f"INSERT INTO [{table}] ({', '.join(f'[{n}]' for n in values)}) "
                   f"VALUES ({', '.join('?' for _ in values)})", list(values.values()))
