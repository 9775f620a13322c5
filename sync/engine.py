"""The laptop's sync engine: push the outbox, pull changes, check the sums.

What this module guarantees, and how:
- An op leaves the outbox only when the server's answer for it has been processed, in one
  transaction; a lost answer means the op is resent and the server returns its stored result.
- A pulled page's rows and the new cursor are committed in one transaction, so the cursor is
  never ahead of the data. Rows with pending local ops are rebased: the server's row with the
  pending edits laid over it, never overwritten.
- An expired cursor rebuilds the copy from cursor 0; the outbox is kept and replayed.
- When the server's history went back (a restore or a failover: a new epoch, or a request of
  ours proving it forgot changes, 409 epoch_changed), the laptop first gives back what the
  server lacks (`giveback`), and only then pulls the new generation from cursor 0. Each push
  and pull names the epoch it was made in and the last op the server confirmed.
- The first pull page brings the resource directory's changes since the laptop's directory
  version (applied with that version in one transaction of its own, before the page's
  records) and the team roster (roster.py), and carries the fleet report (fleet.py); a
  failure there is reported and the case sync goes on. A server that brings none is asked
  for each apart.
- Every sync ends comparing count and hash of (table, id, version) with the server: the
  server's come with the last pull page, the laptop's are kept as rows are written
  (fieldapp/record_sums.py), so a sync with nothing to do is one request, and one of a few
  edits three, however much the laptop holds. A mismatch is repaired from the server's
  manifest and reported. A row is never deleted because the
  server lacks it: the server is asked, and only a deletion it compacted away or a record no
  longer in the user's scope is dropped.
- Every table the sync wrote (pulled, withdrawn, repaired, given back; `conflict` for
  conflicts met in the push, `directory` for the resource directory, `roster_member` for a
  roster that changed) is in the summary's `tables` and noted on the session as it is
  committed, so open screens redraw even when a later step fails.

HTTP, retries and tokens are `transport`'s; where the token lives, `credentials`'; the first
sign-in, `login`'s. Callers run one sync at a time per device, on a Session opened in the
syncing thread (`session.reopen()`).
"""

import json
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import requests
import sqlcipher3

from fieldapp import agency, crc_notice, record_sums, retention, service_docs
from fieldapp.changes import pending_ops
from fieldapp.errors import TandemError
from fieldapp.ids import new_id
from fieldapp.records import RECORD_TYPES
from fieldapp.session import Profile, Session
from fieldapp.timeutil import now_iso, parse_iso, utc_now

from . import credentials, fleet, giveback, roster
from . import protocol as P
from .cancel import Cancel
from .transport import DeviceRevoked, JsonItems, NoServer, RefreshNeeded, SyncFailed, Transport

SKEW_FLAG_S = 300


@dataclass
class Summary:
    pushed: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    deferred: int = 0
    pulled: int = 0
    orphans: int = 0
    rebuilt: bool = False
    check: str = "ok"
    repaired_rows: int = 0
    requests: int = 0
    bytes_received: int = 0  # JSON after gzip is undone; the wire_ figures count compressed bytes
    wire_bytes_received: int = 0
    wire_bytes_sent: int = 0
    clock_skew_s: float | None = None
    directory_pulled: int = 0  # resource directory services received (changed or removed)
    directory_error: str | None = None  # the directory step failed; case data synced anyway
    withdrawn: int = 0  # clinical records deleted because their release no longer covers us
    roster: int = 0  # members of the team roster received
    roster_error: str | None = None  # the roster step failed; case data synced anyway
    push_s: float = 0.0  # seconds spent pushing the outbox
    pull_s: float = 0.0  # seconds spent pulling case data (the directory not included)
    returned: int = 0  # records given back to a server whose restore or failover lost them
    unreturned: int = 0  # records the server lacks that this user may not give back (kept)
    scope_changed: bool = False  # the user's role or teams changed: the copy was redrawn
    purged: int = 0  # closed records past the agency's retention window taken off the laptop
    tables: set[str] = field(default_factory=set)  # what the sync wrote (a sorted list out)
    pending: int = 0  # changes still waiting on this laptop when the sync ended
    reported_end: bool = False  # the pull told the server this sync ended checked

    def as_dict(self) -> dict:
        out = {**self.__dict__, "tables": sorted(self.tables)}
        del out["reported_end"]
        return out


def _wrote(session: Session, summary: Summary, *tables: str) -> None:
    summary.tables.update(tables)
    session.note_changed(*tables)


def _transport(session: Session, server_url: str | None, http: requests.Session | None,
               cancel: Cancel | None, **retries) -> Transport:
    server_url = server_url or session.db.execute(
        "SELECT server_url FROM sync_state WHERE id = 1").fetchone()[0]
    if not server_url:
        raise NoServer("this laptop has no agency server yet: run 'tandem login'")
    return credentials.transport_for(session, server_url, http, cancel=cancel, **retries)


def run_sync(session: Session, server_url: str | None = None, *,
             http: requests.Session | None = None, batch_size: int = P.PUSH_MAX_OPS,
             page_size: int = P.PULL_PAGE, max_attempts: int = 6, backoff_s: float = 0.5,
             sleep: Callable[[float], None] = time.sleep, cancel: Cancel | None = None,
             progress: Callable[[int, int], None] | None = None,
             retrying: Callable[[BaseException], None] | None = None) -> dict:
    """Push the outbox, pull the resource directory and then what changed in case data,
    check the sums; returns the summary as a dict. `cancel` stops it from another thread
    (sync.cancel.Cancelled); what was committed by then stays. `progress(records, total)`
    hears of each page a first sync pulls, and `retrying(error)` of each request that failed
    and will be asked again (both on this thread)."""
    transport = _transport(session, server_url, http, cancel, max_attempts=max_attempts,
                           backoff_s=backoff_s, sleep=sleep, on_retry=retrying)
    summary = Summary()
    window = agency.get(session.db, "retention_days")
    try:
        for attempt in range(3):
            try:
                _exchange(session, transport, batch_size, page_size, summary, progress)
                break
            except SyncFailed as e:  # the server's history went back: give back, go again
                if e.code != P.EPOCH_CHANGED or attempt == 2:
                    raise
                giveback.give_back(session, transport, summary)
        if summary.scope_changed:  # records beyond the new role or teams went
            _wrote(session, summary, *P.PULLED_TABLES)
        if retention.due(session) or agency.get(session.db, "retention_days") != window:
            summary.purged = retention.purge(session, P.PULLED_TABLES)["purged"]
            if summary.purged:
                _wrote(session, summary, *P.PULLED_TABLES)
        if not (summary.reported_end and summary.check == "ok"):  # the pull said it all
            fleet.report(session, transport, "finished", summary.check)
    except DeviceRevoked:
        credentials.wipe_and_report(session, transport, transport.refresh_token)
        raise
    with session.db.atomic():
        session.db.execute("UPDATE sync_state SET last_sync_at = ? WHERE id = 1", [now_iso()])
    summary.requests, summary.bytes_received = transport.requests_made, transport.bytes_received
    summary.wire_bytes_received = transport.wire_bytes_received
    summary.wire_bytes_sent = transport.wire_bytes_sent
    if transport.server_time:
        skew = (utc_now() - parse_iso(transport.server_time)).total_seconds()
        if abs(skew) > SKEW_FLAG_S:
            summary.clock_skew_s = round(skew, 1)
    summary.pending = pending_ops(session)
    return summary.as_dict()


def push_outbox(session: Session, *, http: requests.Session | None = None,
                cancel: Cancel | None = None, max_attempts: int = 3) -> dict:
    """Only the push: what leaving (sign-out, closing the app) needs, so that nothing typed
    stays on the laptop when the server can be reached. Returns the summary as a dict, with
    `pending`: the changes still waiting."""
    transport = _transport(session, None, http, cancel, max_attempts=max_attempts)
    summary = Summary()
    try:
        try:
            _push(session, transport, P.PUSH_MAX_OPS, summary)
        except SyncFailed as e:  # the server's history went back: give back, then push
            if e.code != P.EPOCH_CHANGED:
                raise
            giveback.give_back(session, transport, summary)
            _push(session, transport, P.PUSH_MAX_OPS, summary)
    except DeviceRevoked:
        credentials.wipe_and_report(session, transport, transport.refresh_token)
        raise
    summary.pending = pending_ops(session)
    return summary.as_dict()


def _exchange(session: Session, transport: Transport, batch_size: int, page_size: int,
              summary: Summary, progress: Callable[[int, int], None] | None = None) -> None:
    """Push, then pull; the first pull page brings the directory's changes and the roster
    too, the last one the server's summary for the check (a server older than that gets
    asked for each apart)."""
    started = time.perf_counter()
    try:
        _push(session, transport, batch_size, summary)
    except requests.RequestException:  # the report alone is small: it may get through
        fleet.report(session, transport, "started", retry=False)
        raise
    summary.push_s = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    count, total = local_sums(session)
    extras = {**fleet.outbox(session), "directory_since": _directory_version(session)[0],
              "roster": "true", "have_count": count, "have_hash": total}
    last = _pull(session, transport, page_size, summary, extras, progress)
    summary.pull_s = round(time.perf_counter() - started, 3)
    _check(session, transport, page_size, summary, last.get("summary"))


def _extras(session: Session, transport: Transport, page: dict, summary: Summary) -> None:
    """What the first pull page brought besides records: the directory's changes and the
    roster, each written in its own transaction; a failure there is reported and the case
    sync goes on."""
    try:
        summary.directory_pulled = pull_directory(session, transport,
                                                  first=page.get("directory"))
        if summary.directory_pulled:
            _wrote(session, summary, "directory")
    except DeviceRevoked:
        raise
    except TandemError as e:
        if transport.cancelled:
            raise
        summary.directory_error = str(e)
    try:
        summary.roster, changed = roster.pull_roster(session, transport, page.get("roster"))
        if changed:
            _wrote(session, summary, "roster_member")
    except DeviceRevoked:
        raise
    except TandemError as e:
        if transport.cancelled:
            raise
        summary.roster_error = str(e)


def _history(session: Session) -> dict:
    """The epoch this laptop synced with and the last op the server confirmed, which each
    push and pull names (the server refuses another generation's requests, and notices a
    confirmed op it no longer has)."""
    epoch, last_op = session.db.execute(
        "SELECT server_epoch, last_op_id FROM sync_state WHERE id = 1").fetchone()
    return {k: v for k, v in (("epoch", epoch), ("last_op", last_op)) if v}


# --- the resource directory --------------------------------------------------------------------

DIRECTORY_VERSION, DIRECTORY_EPOCH = "server_version", "server_epoch"  # keys in dir_meta


def _directory_version(session: Session) -> tuple[int, str | None]:
    stored = dict(session.db.execute("SELECT key, value FROM dir_meta WHERE key IN (?, ?)",
                                     [DIRECTORY_VERSION, DIRECTORY_EPOCH]).fetchall())
    return int(stored.get(DIRECTORY_VERSION, 0)), stored.get(DIRECTORY_EPOCH)


def pull_directory(session: Session, transport: Transport,
                   page_size: int = P.DIRECTORY_PAGE, first: dict | None = None) -> int:
    """Bring the laptop's resource directory up to the server's version; returns how many
    services came (changed or removed).

    Reference data, kept apart from case data: its own requests, and one transaction that
    writes only dir_* tables and the version, so a failure here leaves case data and the
    outbox alone. A different server (epoch) or one whose version went back sends the whole
    directory again; a server with no directory leaves the laptop's as it is. `first`: the
    first page, when the pull brought it.
    """
    db = session.db
    since, known_epoch = _directory_version(session)
    cursor = since
    changes: dict[str, dict | None] = {}
    while True:
        page, first = first or transport.call("GET", "/directory",
                                              params={"since": cursor, "limit": page_size}), None
        if since and (page["epoch"] != known_epoch or page["version"] < since):
            since = cursor = 0
            changes.clear()
            continue
        for service in page["services"]:
            changes[service["id"]] = service["document"]  # None: removed
        cursor = page["cursor"]
        if not page["more"]:
            break
    if not changes:
        return 0
    with db.atomic():
        service_docs.apply_changes(db, changes, full=since == 0, source=transport.server_url)
        db.conn.executemany("INSERT OR REPLACE INTO dir_meta (key, value) VALUES (?, ?)",
                            [(DIRECTORY_VERSION, str(cursor)), (DIRECTORY_EPOCH, page["epoch"])])
    return len(changes)


# Three rather than two: on a server with a worker per core, three keep the workers and the
# database busy while the laptop settles one answer (docs/benchmarks.md, issue 17).
PUSHES_IN_FLIGHT = 3


def _push(session: Session, transport: Transport, batch_size: int, summary: Summary) -> None:
    """Push the outbox in batches, several in flight at once, so the laptop, the server and its
    database work side by side instead of in turn. A batch goes out beside those in flight
    only as far as none of its ops writes a record they write or names one as its parent, so
    the order the server applies them in cannot matter; the rest waits for their answers.
    Answers are settled in outbox order, on this thread, which alone may refresh the token.
    The first batch carries the fleet report (the pull that follows carries the next), so a
    long outbox is not recounted for each batch."""
    report, after = fleet.outbox(session), 0
    flight: deque[tuple[list[dict], dict, Future]] = deque()
    with ThreadPoolExecutor(PUSHES_IN_FLIGHT, thread_name_prefix="tandem-push") as sender:
        while True:
            while len(flight) < PUSHES_IN_FLIGHT and (ops := _independent(
                    [op for batch, _, _ in flight for op in batch],
                    _next_batch(session, batch_size, after))):
                params, report = {**_history(session), **report}, {}
                flight.append((ops, params, sender.submit(
                    transport.call, "POST", "/push", params=params, body=_push_body(ops),
                    may_refresh=False)))
                after = ops[-1]["seq"]
            if not flight:
                return
            ops, params, sent = flight.popleft()
            try:
                answer = sent.result()
            except RefreshNeeded:  # sent again from here, where a new token may be asked for
                answer = transport.call("POST", "/push", params=params, body=_push_body(ops))
            _settle(session, ops, answer["results"], summary)


def _push_body(ops: list[dict]) -> dict:
    return {"ops": JsonItems(op["wire"] for op in ops)}


def _independent(flying: list[dict], then: list[dict]) -> list[dict]:
    """The ops of `then`, up to the first that writes a record an op in flight writes or
    names one of them as its parent: those the server may apply before or after them."""
    written = {op["record_id"] for op in flying}
    for n, op in enumerate(then):
        if op["record_id"] in written or op["parent"] in written:
            return then[:n]
    return then


def _next_batch(session: Session, limit: int, after: int = 0) -> list[dict]:
    """Pending ops in order (after outbox seq `after`), skipping records that have a
    rejected op (it blocks only them). Each op's wire form is made by SQLite from the JSON
    the outbox keeps, and the id of the record it belongs to read from it (_PARENT_SQL)."""
    rows = session.db.execute(f"""
        SELECT o.seq, o.op_id, o.table_name, o.record_id, length(o.fields) + length(o.base),
               json_object('op_id', o.op_id, 'table', o.table_name, 'record_id', o.record_id,
                           'kind', o.kind, 'fields', json(o.fields), 'base', json(o.base),
                           'base_version', o.base_version, 'hlc', o.hlc),
               {_PARENT_SQL}
        FROM outbox o
        WHERE o.state = 'pending' AND o.seq > ? AND NOT EXISTS (
            SELECT 1 FROM outbox r WHERE r.state = 'rejected'
            AND r.table_name = o.table_name AND r.record_id = o.record_id)
        ORDER BY o.seq LIMIT ?""", [after, limit]).fetchall()
    batch, size = [], 0
    for seq, op_id, table, record_id, length, wire, parent in rows:
        size += length + 200
        if batch and size > P.PUSH_MAX_BYTES:
            break
        batch.append({"seq": seq, "op_id": op_id, "table": table, "record_id": record_id,
                      "wire": wire, "parent": parent})
    return batch


# The record an op's record belongs to, as the server reads it (exchange._parent): its parent,
# or the record a conflict resolution settles.
_PARENT_SQL = "CASE o.table_name " + " ".join(
    f"WHEN '{table}' THEN json_extract(o.fields, '$.{field}')"
    for table, field in {**{t: f for t, (f, _) in P.PARENT_FIELDS.items()},
                         "conflict_resolution": "record_id"}.items()) + " END"


def _settle(session: Session, ops: list[dict], results: list[dict], summary: Summary) -> None:
    """Record the server's answers; confirmed ops leave the outbox in the same transaction."""
    by_id = {r["op_id"]: r for r in results}
    db = session.db
    last_op, sent = None, []
    with db.atomic():
        for op in ops:
            result = by_id.get(op["op_id"])
            if result is None:
                continue
            if result["status"] in P.FINAL_RESULTS:  # the server keeps it in applied_op
                last_op = op["op_id"]
            if result["status"] == P.DUPLICATE:
                summary.duplicates += 1
                result = result.get("original") or {"status": P.APPLIED}
            status = result["status"]
            if status in (P.APPLIED, P.CONFLICT):
                sent.append([op["seq"]])
                summary.pushed += 1
                for c in result.get("conflicts", []):
                    summary.conflicts += 1
                    _wrote(session, summary, "conflict")
                    db.execute(
                        "INSERT INTO conflict (id, table_name, record_id, field, kept_value, "
                        "other_value, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [new_id(), op["table"], op["record_id"], c["field"],
                         json.dumps(c["kept"]), json.dumps(c["other"]), now_iso()])
            elif status == P.REJECTED:
                summary.rejected += 1
                db.execute("UPDATE outbox SET state = 'rejected', attempts = attempts + 1, "
                           "last_error = ? WHERE seq = ?", [result.get("reason"), op["seq"]])
            else:
                summary.deferred += 1
                db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                           "WHERE seq = ?", [result.get("reason"), op["seq"]])
        db.conn.executemany("DELETE FROM outbox WHERE seq = ?", sent)
        if last_op is not None:
            db.execute("UPDATE sync_state SET last_op_id = ? WHERE id = 1", [last_op])


def _pull(session: Session, transport: Transport, page_size: int, summary: Summary,
          extras: dict | None = None,
          progress: Callable[[int, int], None] | None = None) -> dict:
    """Pages after the cursor, each applied with its cursor in one transaction; returns the
    last page. While a page is applied, the next one is already being asked for (the server
    works on it meanwhile); a page fetched ahead is used only if the cursor it was asked
    after is the one reached. `extras` go with the first request (SyncReport on the server);
    every page asks for the summary, which the last one carries."""
    cursor_text, epoch = session.db.execute(
        "SELECT pull_cursor, server_epoch FROM sync_state WHERE id = 1").fetchone()
    cursor, history = int(cursor_text or 0), _history(session)
    first, total, received = extras, None, 0

    def fetch(after: int, more: dict | None = None, may_refresh: bool = True) -> dict:
        return transport.call("GET", "/pull", params={
            "after": after, "limit": page_size, **history, "summary": "true", **(more or {})},
            may_refresh=may_refresh)

    def fetched_ahead() -> dict | None:
        """The page asked for ahead, if it is the next one and came without a new token."""
        if ahead is None or ahead[0] != cursor:
            return None
        try:
            return ahead[1].result()
        except RefreshNeeded:
            return None

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-pull") as fetcher:
        ahead: tuple[int, Future] | None = None
        while True:
            try:
                page = fetched_ahead() or fetch(cursor, first)
            except SyncFailed as e:
                if e.code != "cursor_expired" or cursor == 0:
                    raise
                cursor, summary.rebuilt = 0, True  # offline past the server's horizon
                continue
            finally:
                ahead = None
            if epoch is not None and page["epoch"] != epoch:
                raise SyncFailed(f"the server's history went back (epoch {page['epoch']})",
                                 P.EPOCH_CHANGED)  # give back before taking anything
            epoch = page["epoch"]
            if first is not None:
                first = None
                _extras(session, transport, page, summary)
                summary.reported_end = page.get("reported") == "finished"
                total = page.get("total")  # a first sync's: how many records come
            if _scope_changed(session, page.get("scope")):  # what a new scope adds lies
                cursor, summary.rebuilt, summary.scope_changed = 0, True, True  # behind the
                continue  # cursor: pull again from the start
            if page["more"]:
                ahead = (page["cursor"], fetcher.submit(fetch, page["cursor"], None, False))
            summary.pulled += _apply(session, page["records"], force=summary.rebuilt,
                                     cursor=page["cursor"], epoch=epoch, summary=summary,
                                     withdrawn=page.get("withdrawn", ()),
                                     settings=page.get("agency"),
                                     crc_status=page.get("crc_status", crc_notice.UNSENT))
            cursor = page["cursor"]
            received += len(page["records"])
            if progress is not None and total:
                progress(min(received, total), total)
            if not page["more"]:
                return page


def _scope_changed(session: Session, scope: dict | None) -> bool:
    """When the server says the user's role or teams changed, take off the laptop what the
    new scope may not hold and keep the new profile; True if that happened."""
    profile = session.profile
    if not scope or (scope["role"], list(scope["teams"])) == (profile.role, list(profile.teams)):
        return False
    readable = {t for t in P.PULLED_TABLES if P.may_read(scope["role"], t)}
    retention.narrow_to_scope(session, readable, list(scope["teams"]))
    with session.db.atomic():
        session.db.execute("UPDATE profile SET role = ?, teams = ? WHERE id = 1",
                           [scope["role"], json.dumps(list(scope["teams"]))])
    session.profile = Profile(profile.username, scope["role"], tuple(scope["teams"]),
                              profile.display_name)
    return True


_PARENT_TABLES = {parent for _field, parent in P.PARENT_FIELDS.values()}
_PULLED_META = ("id", "created_hlc", "updated_hlc", "author", "device", "server_version",
                "deleted")


def _apply(session: Session, records: list[dict], *, force: bool, summary: Summary,
           cursor: int | None = None, epoch: str | None = None, withdrawn=(),
           settings: dict | None = None, crc_status=crc_notice.UNSENT) -> int:
    """Write pulled rows (rebasing pending local edits), delete the clinical records whose
    release no longer covers this user (`withdrawn`; no outbox ops), the agency's settings,
    the CRC's status and the cursor, in one transaction."""
    db = session.db
    # Past the newest stamp the clock can read is past every stamp in the page.
    for stamp in sorted({rec["updated_hlc"] for rec in records}, reverse=True):
        try:
            session.clock.observe(stamp)
            break
        except ValueError:
            continue
    written = 0
    with db.atomic():  # read inside: an edit the DB worker commits first is rebased, not lost
        pending = _pending_records(db)
        groups: dict[str, list[list]] = {}  # table -> rows, in _columns(table) order
        for rec in sorted(records, key=lambda r: r["table"] not in _PARENT_TABLES):
            table = rec["table"]
            if table not in P.PULLED_TABLES:
                continue
            values = [rec["id"], rec["created_hlc"], rec["updated_hlc"], rec["author"],
                      rec["device"], rec["version"], int(rec["deleted"]),
                      *map(rec["fields"].get, RECORD_TYPES[table].field_names)]
            if (table, rec["id"]) in pending:
                row = _rebase(db, table, dict(zip(_columns(table), values)))
                values = [row[c] for c in _columns(table)]
            groups.setdefault(table, []).append(values)
        for table, rows in groups.items():
            if (upserted := _upsert(db, table, rows, force, summary)):
                written += upserted
                _wrote(session, summary, table)
        giveback.held_again(db, records)
        for item in withdrawn:
            if item.get("table") in P.PULLED_TABLES and RECORD_TYPES[item["table"]].clinical:
                if db.execute(f"DELETE FROM [{item['table']}] WHERE id = ?",
                              [item["id"]]).rowcount:
                    summary.withdrawn += 1
                    _wrote(session, summary, item["table"])
        if _any_purged(db):  # a purged record pulled again is counted as a row again
            db.conn.executemany("DELETE FROM purged WHERE table_name = ? AND record_id = ?",
                                [(rec["table"], rec["id"]) for rec in records])
        db.execute("UPDATE sync_state SET hlc_wall = ?, hlc_counter = ? WHERE id = 1",
                   [session.clock.wall_ms, session.clock.counter])
        if settings and settings != _stored_settings(db):
            agency.store(db, settings)
            session.clock.max_ahead_ms = agency.get(db, "clock_skew_max_minutes") * 60_000
            _wrote(session, summary, "agency_setting")
        before = crc_notice.status(db)
        crc_notice.store_status(db, crc_status)
        if crc_notice.status(db) != before:
            _wrote(session, summary, "crc_status")
        if cursor is not None:
            db.execute("UPDATE sync_state SET pull_cursor = ?, server_epoch = ? WHERE id = 1",
                       [str(cursor), epoch])
    return written


def _pending_records(db) -> set[tuple[str, str]]:
    """(table, id) of the records with local edits the server has not taken (yet)."""
    return set(db.execute("SELECT DISTINCT table_name, record_id FROM outbox "
                          "WHERE state IN ('pending', 'rejected')").fetchall())


def _stored_settings(db) -> dict:
    return {key: json.loads(value) for key, value in
            db.execute("SELECT key, value FROM agency_setting")}


def _columns(table: str) -> tuple[str, ...]:
    return (*_PULLED_META, *RECORD_TYPES[table].field_names)


def _upsert(db, table: str, values: list[list], force: bool, summary: Summary) -> int:
    columns = _columns(table)
    sql = (f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
           f"VALUES ({', '.join('?' for _ in columns)}) ON CONFLICT(id) DO UPDATE SET "
           + ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c != "id")
           + ("" if force else f" WHERE excluded.server_version >= [{table}].server_version"))
    db.execute("SAVEPOINT pull_rows")
    try:
        db.conn.executemany(sql, values)
        db.execute("RELEASE pull_rows")
        return len(values)
    except sqlcipher3.IntegrityError:  # row by row, to find the ones that cannot be kept
        db.execute("ROLLBACK TO pull_rows")
        db.execute("RELEASE pull_rows")
    written = 0
    for row in values:
        try:
            db.conn.execute(sql, row)
            written += 1
        except sqlcipher3.IntegrityError:
            if not _parent_missing(db, table, dict(zip(columns, row))):
                raise
            summary.orphans += 1  # a child whose parent this user cannot see: keep the rest
    return written


def _parent_missing(db, table: str, row: dict) -> bool:
    """The row names a parent record (a foreign key of the cache's schema) this laptop does
    not hold."""
    return any(row[column] is not None and db.execute(
        f"SELECT 1 FROM [{parent}] WHERE [{key}] = ?", [row[column]]).fetchone() is None
        for parent, column, key in _foreign_keys(db, table))


def _foreign_keys(db, table: str) -> list[tuple[str, str, str]]:
    """(parent table, column, parent column) of each foreign key of `table`."""
    return [(fk[2], fk[3], fk[4] or "id")
            for fk in db.execute(f"PRAGMA foreign_key_list([{table}])").fetchall()]


def _rebase(db, table: str, row: dict) -> dict:
    """The server's row with this laptop's pending (and rejected) edits laid over it."""
    for kind, fields, hlc in db.execute(
            "SELECT kind, fields, hlc FROM outbox WHERE table_name = ? AND record_id = ? "
            "AND state IN ('pending', 'rejected') ORDER BY seq", [table, row["id"]]):
        if kind == "delete":
            row["deleted"] = 1
        else:
            row.update(json.loads(fields))
            if kind == "patch":
                row["deleted"] = 0  # an edit against a delete keeps the record
        row["updated_hlc"] = max(row["updated_hlc"], hlc)
    return row


def _forget_purged(session: Session, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Of these keys, those the retention window took off this laptop: no longer counted as
    held, since the server lacks them (or holds an older copy) and the laptop has no copy to
    give back."""
    db = session.db
    if not keys or not _any_purged(db):
        return set()
    gone = set()
    for table, record_id in keys:
        if db.execute(f"SELECT 1 FROM [{table}] WHERE id = ?", [record_id]).fetchone() is None:
            gone.add((table, record_id))
    with db.atomic():
        db.conn.executemany("DELETE FROM purged WHERE table_name = ? AND record_id = ?",
                            sorted(gone))
    return gone


def _any_purged(db) -> bool:
    return db.execute("SELECT 1 FROM purged LIMIT 1").fetchone() is not None


def local_sums(session: Session) -> tuple[int, str]:
    """The same count and hash the server computes, over rows the server has confirmed (but
    those kept back because the server lost them) and those the retention window took off
    this laptop: kept as they are written (fieldapp/record_sums.py), so reading them costs
    the same whatever the laptop holds."""
    return record_sums.read(session.db)


def recount(session: Session) -> P.SetHash:
    """`local_sums` counted again from every row (what the running sums must equal)."""
    h = P.SetHash()
    for (table, record_id), version in _confirmed(session).items():
        h.add(table, record_id, version)
    return h


def _confirmed(session: Session) -> dict[tuple[str, str], int]:
    """(table, id) -> server version of every record this laptop counts as held: not those
    kept back because the server lost them (giveback)."""
    held, kept = {}, giveback.unreturned_keys(session)
    for table in P.PULLED_TABLES:
        for record_id, version in session.db.execute(
                f"SELECT id, server_version FROM [{table}] WHERE server_version > 0"):
            if (table, record_id) not in kept:
                held[(table, record_id)] = version
    for table, record_id, version in session.db.execute(
            "SELECT table_name, record_id, server_version FROM purged"):
        held.setdefault((table, record_id), version)
    return held


def _check(session: Session, transport: Transport, page_size: int, summary: Summary,
           server: dict | None = None) -> None:
    """Compare counts and hashes (`server`'s, from the last pull page, else asked for); pull
    again if the server moved on; repair a real mismatch."""
    if giveback.count_unreturned(session):
        summary.repaired_rows += giveback.ask_again(session, transport, summary)
        server = None
    for _ in range(3):
        server = server or transport.call("GET", "/summary")
        if (server["count"], server["hash"]) == local_sums(session):
            return
        cursor = int(session.db.execute(
            "SELECT pull_cursor FROM sync_state WHERE id = 1").fetchone()[0] or 0)
        if server["cursor"] <= cursor:
            break
        server = _pull(session, transport, page_size, summary).get("summary")  # newer changes
    else:
        summary.check = "busy"  # the server kept changing; the next sync checks again
        return
    summary.repaired_rows = _repair(session, transport, summary)
    server = transport.call("GET", "/summary")
    summary.check = ("repaired" if (server["count"], server["hash"]) == local_sums(session)
                     else "mismatch")


def _repair(session: Session, transport: Transport, summary: Summary) -> int:
    """Ask the server about rows it does not list, or lists at a lower version (it says
    which to drop; a row it confirmed and forgot proves a restore: 409 epoch_changed), then
    fetch what the laptop lacks or holds at a lower version."""
    wanted = {(t, i): v for t, i, v in transport.call("GET", "/manifest")["records"]}
    held = _confirmed(session)
    pending = _pending_records(session.db)
    unknown = [key for key, v in held.items() if wanted.get(key, -1) < v and key not in pending]
    purged = _forget_purged(session, unknown)  # nothing left here to give back
    for key in purged:
        del held[key]
    changed = giveback.ask(session, transport, [k for k in unknown if k not in purged], summary)
    fetch = [key[1] for key, v in wanted.items() if held.get(key, 0) < v]
    for start in range(0, len(fetch), P.PULL_PAGE_MAX):
        records = transport.call("POST", "/records",
                                 body={"ids": fetch[start:start + P.PULL_PAGE_MAX]})["records"]
        _apply(session, records, force=True, summary=summary)
    return len(fetch) + changed
