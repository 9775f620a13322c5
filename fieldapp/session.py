"""A signed-in user on this laptop: their open cache, who they are, and this device's clock.

The cache's stack (sqlite-utils, SQLCipher) is imported by the functions that open a cache, so
the sign-in window can name these types without loading it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import agency, keys, paths
from .clock import HybridClock
from .errors import CacheDamaged, CacheUnreadable, NoCache, TandemError
from .records import CLINICAL_ROLES, ROLES

if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass(frozen=True)
class Profile:
    username: str
    role: str
    teams: tuple[str, ...]
    display_name: str = ""

    def __post_init__(self):
        if self.role not in ROLES:
            raise TandemError(f"unknown role {self.role!r}; one of {', '.join(ROLES)}")
        if not self.teams:
            raise TandemError("a user belongs to at least one team")

    @property
    def team(self) -> str:
        """The team new records belong to."""
        return self.teams[0]

    @property
    def can_read_clinical(self) -> bool:
        """Reads its teams' clinical notes (others read only notes a release discloses)."""
        return self.role in CLINICAL_ROLES

    @property
    def can_write_clinical(self) -> bool:
        return self.role == "clinician"


@dataclass
class Session:
    """One connection to the user's cache. A connection belongs to the thread that opened it
    (`reopen()` gives another thread its own); `changed` names the tables written through
    this connection since the last `take_changed()`, so the app can tell open screens."""

    db: Database
    profile: Profile
    device_id: str
    clock: HybridClock
    data_dir: Path
    data_key: bytes = field(repr=False, default=b"")
    changed: set[str] = field(repr=False, default_factory=set)
    closed: bool = field(repr=False, default=False)
    damage_notice: str = field(repr=False, default="")  # the cache was damaged: what became of it

    @property
    def username(self) -> str:
        return self.profile.username

    def stamp(self) -> str:
        """A new clock stamp, saved with the change that uses it (call inside a transaction)."""
        stamp = self.clock.now()
        self.db.execute(
            "UPDATE sync_state SET hlc_wall = ?, hlc_counter = ? WHERE id = 1",
            [self.clock.wall_ms, self.clock.counter],
        )
        return stamp

    @property
    def cache_path(self) -> Path:
        return paths.cache_path(self.data_dir, self.username)

    def reopen(self) -> Session:
        """The same user's cache on a new connection, for another thread (sqlite connections
        belong to the thread that opened them). No migration check: the cache was migrated
        when this session first opened it."""
        from .store import open_cache

        return _session(open_cache(self.cache_path, self.data_key, migrate=False), self.data_dir,
                        self.data_key)

    def note_changed(self, *tables: str) -> None:
        self.changed.update(tables)

    def take_changed(self) -> frozenset[str]:
        """The tables written since the last call, and start counting afresh."""
        taken, self.changed = frozenset(self.changed), set()
        return taken

    def close(self) -> None:
        """Close the connection, in the thread that opened it; closing again does nothing
        (from any thread), so whoever holds a closed session may call it."""
        if not self.closed:
            self.db.close()
            self.closed = True


def create_cache(data_dir: Path, profile: Profile, password: str,
                 kdf: keys.KdfParams | None = None, device_id: str | None = None) -> Session:
    """Make a new user's cache on this laptop: a fresh data key, wrapped by their password.
    `device_id`: the id an online sign-in already registered for it (else a new one)."""
    from .ids import new_id
    from .store import open_cache
    from .timeutil import now_iso

    path = paths.cache_path(data_dir, profile.username)
    store = keys.KeyStore(path)
    if path.exists():
        raise TandemError(f"{profile.username} already has a cache at {path}")
    data_key = keys.new_data_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    db = open_cache(path, data_key)
    with db.atomic():
        # Only an online sign-in makes a cache: the offline unlock window starts now.
        db["sync_state"].insert({"id": 1, "device_id": device_id or new_id(),
                                 "signed_in_online_at": now_iso()})
        db["profile"].insert({
            "id": 1, "username": profile.username, "display_name": profile.display_name,
            "role": profile.role, "teams": json.dumps(list(profile.teams)),
        })
    store.save(keys.wrap(data_key, password, profile.username, kdf))
    return _session(db, data_dir, data_key)


def unlock(data_dir: Path, username: str, password: str) -> Session:
    """Open an existing cache with the user's password (works offline). The key is derived
    before the cache's stack is imported, so the derivation starts at once."""
    path = paths.cache_path(data_dir, username)
    if not path.exists():
        raise NoCache(f"no cache for {username} in {data_dir}: sign in online first")
    data_key = keys.unwrap(keys.KeyStore(path).load(), password)
    from .cache_rebuild import marked, rebuild
    from .store import open_cache

    try:
        return _session(open_cache(path, data_key, check=marked(path)), data_dir, data_key)
    except (CacheDamaged, CacheUnreadable):  # the password opened its key: the file is at fault
        rebuilt = rebuild(path, data_key)
    session = _session(open_cache(path, data_key), data_dir, data_key)
    session.damage_notice = rebuilt.notice()
    return session


def change_password(data_dir: Path, username: str, old: str, new: str) -> None:
    """Rewrap the same data key under a new password; the cache itself is untouched, and so
    is the key's seal under the agency server's secret (fieldapp/recovery.py). Only after
    the server took the new password (sync/online.py:change_password)."""
    from .recovery import carried

    store = keys.KeyStore(paths.cache_path(data_dir, username))
    wrapped = store.load()
    data_key = keys.unwrap(wrapped, old)
    store.save(carried(wrapped, keys.wrap(data_key, new, username)))


def _session(db: Database, data_dir: Path, data_key: bytes) -> Session:
    state = db["sync_state"].get(1)
    row = db["profile"].get(1)
    profile = Profile(row["username"], row["role"], tuple(json.loads(row["teams"])),
                      row["display_name"] or "")
    clock = HybridClock(state["device_id"], state["hlc_wall"], state["hlc_counter"],
                        max_ahead_ms=agency.get(db, "clock_skew_max_minutes") * 60_000)
    return Session(db, profile, state["device_id"], clock, Path(data_dir), data_key)
