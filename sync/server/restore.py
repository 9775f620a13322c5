"""When the server's history goes back: a restore from a backup, or a failover to a replica
that had not received the last commits. Laptops still hold what the server lost; this module
makes sure the server knows its history went back, so they give it back
(sync/server/recovery.py) and no cursor from before is trusted.

The server's history generation is named by the epoch in `meta`. Laptops keep the epoch they
synced with and send it, and the id of the last op the server confirmed to them, with every
push and pull. A request made in an older generation gets 409 epoch_changed. A new generation
begins:
- `tandem-server restore FILE` (SQLite): the backup is checked and migrated in a side file,
  given its new epoch there, and only then copied over the live database through SQLite's
  backup API, in one step that takes the write lock: a running server sees the old database
  or the restored one, never a mix. The database it replaces is kept beside it.
- `tandem-server mark-restored` (any database; PostgreSQL after pg_restore or promoting a
  replica).
- by itself, when a request proves the server forgot what it confirmed in this generation:
  the device's last confirmed op is not in applied_op; its cursor is beyond the newest change;
  it patches or deletes, at a version it was given, a record that was never applied here; or
  it holds a record, or a version, this server never had (recovery.offer). applied_op is kept
  whole and is written with every record (compaction keeps it), so "never applied here" is
  not "deleted and compacted".
Each new generation is logged in `history_generation`.
"""

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.util.exc import CommandError
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import make_url

from fieldapp.ids import new_id
from fieldapp.timeutil import now_iso, utc_now

from . import accounts, audit, change_log
from .accounts import Caller
from .db import make_engine, migrate, read_meta
from .tables import (admin_audit, app_user, applied_op, device,
                     history_generation, meta, record, token)

RESTORE, MARKED, DETECTED = "restore", "mark-restored", "detected"


class RestoreError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Behind:
    """The caller's epoch is not (or is no longer) the server's: it gives back, then pulls the
    current generation from cursor 0."""

    epoch: str
    reason: str


def start_generation(conn, reason: str, detail: str, *, actor: str,
                     device_id: str | None = None, unless_moved_from: str | None = None) -> str:
    """Give the server a new epoch and log it (and in the admin audit trail); returns the
    epoch. Excludes every other writer, so no push interleaves. With `unless_moved_from`, a
    generation some other request began since that epoch was read is the answer instead (one
    loss, one generation)."""
    change_log.exclude_writers(conn)
    newest = change_log.newest(conn)
    if unless_moved_from and (current := read_meta(conn, "epoch")) != unless_moved_from:
        return current
    epoch = new_id()
    conn.execute(update(meta).where(meta.c.key == "epoch").values(value=epoch))
    conn.execute(insert(history_generation).values(
        epoch=epoch, started_at=now_iso(), reason=reason, detail=detail[:2000],
        newest_change=newest))
    audit.record(conn, "history.new_generation", actor=actor, device_id=device_id,
                 target=f"epoch:{epoch}", detail={"reason": reason, "detail": detail[:500],
                                                  "newest_change": newest})
    return epoch


def check(conn, caller: Caller, epoch: str | None, *, last_op: str | None = None,
          after: int | None = None, ops=(), lock: bool = False) -> Behind | None:
    """Whether a request made in generation `epoch` may go ahead (None), or the caller must
    give back first. A request that proves the server forgot changes starts a new generation
    here (the caller's transaction must commit it). Laptops that send no epoch (older
    versions) are not checked. `lock` makes the caller a writer first (change_log), so a
    writer's epoch cannot change under it."""
    if epoch is None:
        return None
    if lock:
        change_log.join_writers(conn)
    current, confirmed, newest = conn.execute(_HISTORY[conn.dialect.name], {
        "device_id": caller.device_id, "op_id": last_op}).one()
    if epoch != current:
        return Behind(current, f"this server's history went back (epoch {current}, yours "
                               f"{epoch}): give back what it lacks, then pull from 0")
    proof = _proof(conn, last_op, bool(confirmed), after, newest, ops)
    return None if proof is None else forgot(conn, caller, proof, epoch)


def forgot(conn, caller: Caller, proof: str, epoch: str) -> Behind:
    """The caller, syncing in `epoch`, proved the server forgot changes: begin a new
    generation (unless another request just did)."""
    detail = f"device {caller.device_id} ({caller.username}): {proof}"
    epoch = start_generation(conn, DETECTED, detail, actor=caller.username,
                             device_id=caller.device_id, unless_moved_from=epoch)
    return Behind(epoch, f"this server has forgotten changes ({proof}); a new history "
                         f"generation began (epoch {epoch}): give back what it lacks")


def _history(newest: str):
    return text(
        f"""SELECT (SELECT value FROM meta WHERE "key" = 'epoch'), EXISTS (SELECT 1 FROM """
        f"applied_op WHERE device_id = :device_id AND op_id = :op_id), {newest}")


# Every push and pull asks (built once): the epoch, whether the last op confirmed to the laptop
# is on file, and the newest change_seq handed out, in one statement.
_HISTORY = {name: _history(change_log.newest_sql(name)) for name in ("sqlite", "postgresql")}


def _proof(conn, last_op: str | None, confirmed: bool, after: int | None, newest: int,
           ops) -> str | None:
    if last_op and not confirmed:
        return f"its last confirmed op {last_op} is not in this server's history"
    if after is not None and after > newest:
        return f"its cursor {after} is beyond this server's newest change {newest}"
    based = {op["record_id"] for op in ops
             if op["kind"] in ("patch", "delete") and op["base_version"] > 0}
    if based:
        held = set(conn.scalars(select(record.c.id).where(record.c.id.in_(based))))
        lost = sorted(based - held - ever_applied(conn, based - held))
        if lost:
            return (f"it changes {len(lost)} record(s) it was given, which this server "
                    f"never had (first {lost[0]})")
    return None


def ever_applied(conn, ids) -> set[str]:
    """Which of these record ids some op was applied to here: the ones a compaction may have
    discarded (applied_op is kept whole), as opposed to ones this history never had."""
    ids, found = list(ids), set()
    for start in range(0, len(ids), 1000):
        found |= set(conn.scalars(select(applied_op.c.record_id).distinct().where(
            applied_op.c.record_id.in_(ids[start:start + 1000]))))
    return found


def mark_restored(engine, detail: str) -> dict:
    """A new generation for a database restored or promoted outside Tandem."""
    with engine.begin() as conn:
        previous = read_meta(conn, "epoch")
        epoch = start_generation(conn, MARKED, detail, actor=audit.cli_actor())
        newest = change_log.newest(conn)
    return {"epoch": epoch, "previous_epoch": previous, "newest_change": newest}


# --- SQLite: backup and restore -----------------------------------------------------------------

def sqlite_file(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise RestoreError("this command works on the SQLite database; for PostgreSQL use "
                           "pg_dump and pg_restore, then 'tandem-server mark-restored' "
                           "(docs/deployment.md, 'Backups, restores and failover')")
    return Path(parsed.database)


def backup(url: str, out: Path) -> dict:
    """A consistent copy of the live SQLite database, taken while the server runs: one
    backup step under a read lock (writers go on, in WAL), written beside `out` and renamed
    into place only once checked."""
    live = sqlite_file(url)
    if not live.is_file():
        raise RestoreError(f"no database at {live}")
    out = Path(out)
    if not out.parent.is_dir():
        raise RestoreError(f"cannot write {out}: no directory {out.parent}")
    part = out.with_name(out.name + ".part")
    part.unlink(missing_ok=True)
    try:
        with _open(live) as source, _open(part) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            found = _describe(copy, part)
    except sqlite3.Error as e:
        part.unlink(missing_ok=True)
        raise RestoreError(f"could not back {live} up to {out}: {e}") from None
    part.replace(out)
    return {"backup": str(out), "bytes": out.stat().st_size, **found}


def restore(url: str, backup_file: Path) -> dict:
    """Put a backup in place of the live SQLite database, the server running or not, and
    begin a new generation. See the module docstring for how; the replaced database is kept
    as `<name>.before-restore-<time>`. From the replaced database, when it can be read, come
    device revocations (restoring never re-opens a lost laptop's access), the sign-ins of the
    users and devices the backup knows (a token retired or revoked since, by a sign-out or a
    detected copy, stays so) and the admin audit trail since the backup."""
    live = sqlite_file(url)
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise RestoreError(f"no backup file at {backup_file}")
    work = live.with_name(f".{live.name}.restoring")
    _remove(work)
    try:
        with _open(backup_file) as source, _open(work) as target:
            source.backup(target)
            found = _describe(target, backup_file)
    except sqlite3.DatabaseError as e:
        _remove(work)
        raise RestoreError(f"{backup_file} is not a readable SQLite database ({e})") from None
    was = _live_state(live)
    engine = make_engine(f"sqlite:///{work}")
    try:
        try:
            migrate(engine)
        except CommandError as e:  # a backup from a newer version of Tandem
            _remove(work)
            raise RestoreError(f"{backup_file} cannot be brought to this version's schema "
                               f"({e}); restore it with the Tandem version that made it") from None
        with engine.begin() as conn:
            carried = _carry_revocations(conn, was["revoked"])
            signins = _carry_tokens(conn, was)
            trail = _carry_audit(conn, was["audit"])
            epoch = start_generation(conn, RESTORE, (
                f"restored from {backup_file} (epoch {found['epoch']}, newest change "
                f"{found['newest_change']})"), actor=audit.cli_actor())
    finally:
        engine.dispose()
    kept = None
    if live.exists():
        stem = f"{live.name}.before-restore-{utc_now():%Y%m%dT%H%M%SZ}"
        kept = next(p for n in range(1, 1000) if not (p := live.with_name(
            stem if n == 1 else f"{stem}-{n}")).exists())
        _copy(live, kept, "keep a copy of the current database")
    _copy(work, live, "write the restored database")
    _remove(work)
    return {"restored_from": str(backup_file), "backup_epoch": found["epoch"],
            "newest_change": found["newest_change"], "epoch": epoch,
            "previous_database": str(kept) if kept else None,
            "revocations_carried_over": carried, "sign_in_tokens_carried_over": signins,
            "audit_events_carried_over": trail}


def _describe(conn: sqlite3.Connection, name) -> dict:
    """The epoch and newest change of a copy, after checking it is a sound Tandem database."""
    if (problem := conn.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
        raise RestoreError(f"{name} is damaged: {problem}")
    try:
        epoch = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
        newest = conn.execute("SELECT value FROM change_counter WHERE id = 1").fetchone()
    except sqlite3.DatabaseError:
        epoch = newest = None
    if not epoch or not newest:
        raise RestoreError(f"{name} is not a Tandem agency database")
    return {"epoch": epoch[0], "newest_change": newest[0]}


def _copy(source_path: Path, target_path: Path, what: str) -> None:
    """Copy a database through SQLite's backup API: one step under the target's write lock
    (waiting for writers), so readers see all of it or none."""
    try:
        with _open(source_path) as source, _open(target_path) as target:
            source.backup(target)
    except sqlite3.DatabaseError as e:
        raise RestoreError(
            f"could not {what} ({target_path}: {e}). If the current database is damaged, stop "
            "the server, move it (and its -wal and -shm files) aside, and run restore again"
        ) from None


_TOKEN_COLUMNS = [c.name for c in token.columns]
_AUDIT_COLUMNS = [c.name for c in admin_audit.columns]


def _live_state(live: Path) -> dict:
    """What the database being replaced knows that a restore must not lose: revoked devices,
    sign-in tokens (with the users and devices they belong to) and the admin audit trail.
    Each part is read on its own: a part that is unreadable, or from before its table, is
    simply not carried over."""
    state = {"revoked": [], "tokens": [], "users": {}, "devices": {}, "audit": []}
    if not live.exists():
        return state
    queries = {
        "revoked": "SELECT id FROM device WHERE revoked_at IS NOT NULL",
        "tokens": f"SELECT {', '.join(_TOKEN_COLUMNS)} FROM token",
        "users": "SELECT id, username FROM app_user",
        "devices": "SELECT id, user_id FROM device",
        "audit": f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM admin_audit ORDER BY id",
    }
    try:
        with _open(f"file:{live}?mode=ro", uri=True) as conn:
            for part, query in queries.items():
                try:
                    rows = conn.execute(query).fetchall()
                except sqlite3.DatabaseError:
                    continue
                state[part] = (dict(rows) if part in ("users", "devices") else
                               [r[0] for r in rows] if part == "revoked" else rows)
    except sqlite3.DatabaseError:
        pass  # unreadable: nothing to carry over
    return state


def _carry_tokens(conn, was: dict) -> int:
    """Bring the restored token table up to the replaced one's, for tokens whose user and
    device are the same in both (a user or laptop added since the backup signs in again)."""
    users = dict(conn.execute(select(app_user.c.id, app_user.c.username)).all())
    devices = dict(conn.execute(select(device.c.id, device.c.user_id)).all())
    carried = 0
    for row in was["tokens"]:
        values = dict(zip(_TOKEN_COLUMNS, row))
        user_id, device_id = values["user_id"], values["device_id"]
        if (users.get(user_id) is None or users[user_id] != was["users"].get(user_id)
                or devices.get(device_id) != user_id
                or was["devices"].get(device_id) != user_id):
            continue
        conn.execute(token.delete().where(token.c.token_hash == values["token_hash"]))
        conn.execute(insert(token).values(**values))
        carried += 1
    return carried


def _carry_audit(conn, events: list) -> int:
    """Append the replaced database's audit events the backup lacks (those after its last)."""
    newest = conn.scalar(select(admin_audit.c.id).order_by(admin_audit.c.id.desc()).limit(1))
    later = [dict(zip(_AUDIT_COLUMNS, e)) for e in events if e[0] > (newest or 0)]
    if later:
        conn.execute(insert(admin_audit), later)
    return len(later)


def _carry_revocations(conn, revoked: list[str]) -> list[str]:
    if not revoked:
        return []
    still_open = list(conn.scalars(select(device.c.id).where(
        device.c.id.in_(revoked), device.c.revoked_at.is_(None))))
    for device_id in still_open:
        accounts.revoke_device(conn, device_id)
    return still_open


def _open(path, **options):
    """A plain sqlite3 connection (autocommit) that is closed when the block ends."""
    return closing(sqlite3.connect(path, timeout=60, isolation_level=None, **options))


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def generations(conn) -> list[dict]:
    return [dict(r) for r in conn.execute(
        select(history_generation).order_by(history_generation.c.id)).mappings()]


