"""A county's fleet against one agency server on PostgreSQL: 300 laptops, each syncing every
30 seconds, served by `tandem-server serve --workers N` on this machine.

Each sync is what sync/engine.py sends (tests/sync/test_fleet_bench.py holds them equal): POST
/push (the laptop's next ops, with its fleet report), GET /pull (pages after the laptop's
cursor; the first also brings the resource directory's changes and the roster and takes the
report and the laptop's record sums, the last brings the summary for the end-of-sync check) and
POST /device/status (the sync finished) unless the pull found nothing new and the sums equal,
when the pull alone is the sync. The ops come from a real shift worked through the laptop's own
services (fieldapp: shift and status events, encounters finalized, CRC drop-off, follow-up
attempts, audit events), recorded once from a real cache's outbox and replayed per laptop with
fresh ids. Laptops work through shifts faster than real units do (`--ops-per-sync`, default 4,
so a shift's ~40 ops arrive in about ten syncs instead of a 10-hour shift's 1,200): a heavier
write load than a real fleet. Ten laptops share each team, so pulls carry the team's records.

Accounts, devices and tokens are made through the server's own code and its /login. Setup
(accounts, sign-in, each laptop's first full pull) is not measured.

The load generator shares the two cores with the server and PostgreSQL, so it stays lean: one
kept-alive http.client connection per thread rather than `requests` (which looks up proxies
and .netrc files on every request), and each push body written as JSON text from the shift's
template in one substitution pass rather than built as objects and encoded. Every request is
still a real HTTP request of the same mix and size, and the health probe uses the same
client. The generator's own CPU time over the window is reported (`generator_cpu_ms_per_request`).

CPU per request, the figure least disturbed by other work on the machine: the server's
(`tandem-server serve` and its workers) and PostgreSQL's (the backends serving the bench's
database), read from /proc every 2 s over the window (a process that comes and goes between
two readings is missed, so PostgreSQL's figure is a little low), divided by the requests
served, health probes included.

Baseline in the same run: GET /health (one SELECT through the same pool) probed five times a
second during the load; the ratio is the sync requests' p99 to the health probe's p99.

Database growth: pg_database_size before and after the measured window, over the shifts'
worth of ops pushed. The last line is one JSON object.

    python bench/bench_load.py [--pg ADMIN_URL] [--duration S] [--laptops N] [--quick]
"""

import argparse
import gzip
import heapq
import http.client
import json
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import keyring
import keyring.backends.fail
from agency_server import agency_server
from bench_sync import fresh_database
from sqlalchemy import text

from sync import protocol as P
from sync.server import accounts
from sync.server.db import make_engine, migrate

PG_DEFAULT = os.environ.get(
    "TANDEM_TEST_PG", "postgresql+psycopg://tandem:tandem-test-only@127.0.0.1:54329/postgres")
PASSWORD = secrets.token_urlsafe(16)  # throwaway accounts on a throwaway database
TEAM_SIZE = 10
TEMPLATE_TEAM = "mhst-template"


def shift_template(work: Path) -> list[dict]:
    """One shift's ops, in order, as a real laptop's outbox holds them."""
    from datetime import date, timedelta

    from fieldapp import changes, crc, encounters, followups, persons, shifts
    from fieldapp.session import Profile, create_cache
    from fieldapp.timeutil import utc_now

    session = create_cache(work / "template", Profile("ofc.template", "officer",
                                                      (TEMPLATE_TEAM,), "Template"), PASSWORD)
    start = utc_now() - timedelta(hours=10)
    def at(minutes):
        return start + timedelta(minutes=minutes)

    person = persons.add_person(session, {"team": TEMPLATE_TEAM, "kind": "alias",
                                          "alias": "client by the wash"})
    follow_up = followups.create_follow_up(session, {
        "person_id": person, "reason": "crc_discharge",
        "due_on": (date.today() + timedelta(days=1)).isoformat()})
    shift = shifts.start_shift(session, "MHST-11", "4471",
                               [{"username": "clin.partner", "role": "clinician"}], at=at(0))
    minute = 5
    for n in range(6):
        for status in ("en_route", "on_scene"):
            shifts.set_status(session, shift, status, at=at(minute))
            minute += 9
        encounter = encounters.save_encounter(session, {
            "started_at": at(minute).isoformat().replace("+00:00", "Z"),
            "presenting_situation": ("mental_health_crisis", "welfare_check")[n % 2],
            "disposition": "referred", "place": f"{100 + n} N Stone Ave",
            "police_note": "Calm, agreed to a referral; warm hand-off to the crisis line.",
            "connected_to_care": 1})
        changes.patch(session, "encounter", encounter, {"finalized_at": at(minute + 5).isoformat().replace("+00:00", "Z")})
        if n == 2:
            shifts.set_status(session, shift, "transporting", at=at(minute + 1))
            dropoff = crc.arrive(session, "voluntary", encounter_id=encounter, shift_id=shift,
                                 at=at(minute + 15))
            crc.hand_off(session, dropoff, at=at(minute + 21))
            crc.clear(session, dropoff, at=at(minute + 24))
        shifts.set_status(session, shift, "available", at=at(minute + 30))
        minute += 40
    for n in range(3):
        followups.log_attempt(session, follow_up, "phone", "no_answer" if n < 2 else "completed",
                              at=at(minute + n))
    shifts.end_shift(session, shift, at=at(minute + 10))
    rows = session.db.execute("SELECT table_name, record_id, kind, fields, base, base_version "
                              "FROM outbox ORDER BY seq").fetchall()
    session.close()
    return [{"table": t, "record_id": r, "kind": k, "fields": f, "base": b, "base_version": v}
            for t, r, k, f, b, v in rows]


class ShiftText:
    """The template shift as JSON text per op, with its record ids, team and user as slots that
    one regular-expression pass fills for each new shift, and the op id and clock stamp left
    for the push that sends it."""

    def __init__(self, template: list[dict]):
        self.ids = sorted({op["record_id"] for op in template})
        self.joined = "\x00".join(json.dumps(  # JSON text never holds a raw NUL
            {"op_id": "@OP@", "table": op["table"], "record_id": op["record_id"],
             "kind": op["kind"], "fields": json.loads(op["fields"]),
             "base": json.loads(op["base"]), "base_version": op["base_version"], "hlc": "@HLC@"},
            separators=(",", ":")) for op in template)
        self.pattern = re.compile("|".join(map(re.escape, [*self.ids, TEMPLATE_TEAM,
                                                           "ofc.template"])))

    def fresh(self, team: str, username: str) -> list[str]:
        """One shift's ops as JSON texts, every record id new, for this laptop."""
        names = {old: str(uuid.uuid4()) for old in self.ids}
        names.update({TEMPLATE_TEAM: team, "ofc.template": username})
        return self.pattern.sub(lambda m: names[m.group(0)], self.joined).split("\x00")


class Laptop:
    """One simulated laptop: its tokens, its op stream (shift after shift), its cursors."""

    def __init__(self, n: int, shift: ShiftText):
        self.n, self.shift = n, shift
        self.username = f"ofc.load{n:04d}"
        self.team = f"team-{n // TEAM_SIZE:03d}"
        self.device_id = str(uuid.uuid4())
        self.access = self.refresh = None
        self.pull_cursor = self.directory_version = 0
        self.epoch = self.last_op = self.sent_op = None  # the server history it synced with
        self.have: tuple[int, str] | None = None  # its record sums: the last summary it took
        self.pending: list[str] = []
        self.busy = threading.Lock()
        self.counter = 0

    def push_body(self, count: int) -> bytes:
        """The next `count` ops as a push body, each with a new op id and a clock stamp now."""
        while len(self.pending) < count:
            self.pending += self.shift.fresh(self.team, self.username)
        ops, self.pending = self.pending[:count], self.pending[count:]
        stamped = []
        for op in ops:
            self.counter += 1
            hlc = f"{int(time.time() * 1000):013d}-{self.counter % 100000:05d}-{self.device_id}"
            self.sent_op = str(uuid.uuid4())
            stamped.append(op.replace("@OP@", self.sent_op, 1).replace("@HLC@", hlc, 1))
        return f'{{"ops":[{",".join(stamped)}]}}'.encode()

    def history(self) -> dict:
        """The epoch and last confirmed op every push and pull names (sync/engine.py)."""
        return {k: v for k, v in (("epoch", self.epoch), ("last_op", self.last_op)) if v}

    def pull_params(self, first: bool) -> dict:
        """A sync's pull page after this laptop's cursor; the first also carries the fleet
        report, the directory version, the roster request and the laptop's sums."""
        params = {"after": self.pull_cursor, "limit": P.PULL_PAGE, **self.history(),
                  "summary": "true"}
        if first:
            params.update(pending_changes=0, directory_since=self.directory_version,
                          roster="true")
            if self.have:
                params.update(have_count=self.have[0], have_hash=self.have[1])
        return params


class Fleet:
    def __init__(self, url: str, laptops: list[Laptop], ops_per_sync: int):
        self.url, self.laptops, self.ops_per_sync = url, laptops, ops_per_sync
        self.address = urlsplit(url)
        self.local = threading.local()
        self.latency: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.ops_pushed = self.syncs = self.skipped = self.records_pulled = 0
        self.lock = threading.Lock()

    def send(self, method: str, target: str, data: bytes | None, headers: dict):
        """One request on this thread's kept-alive connection: (status, Content-Encoding,
        body). A kept connection the server closed while idle is opened again, once."""
        for attempt in (1, 2):
            conn = getattr(self.local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(
                    self.address.hostname, self.address.port, timeout=30)
            try:
                conn.request(method, target, body=data, headers=headers)
                response = conn.getresponse()
                return response.status, response.getheader("Content-Encoding"), response.read()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                self.local.conn = None
                closed = isinstance(e, (http.client.RemoteDisconnected, ConnectionResetError,
                                        BrokenPipeError))
                if not (closed and reused and attempt == 1):
                    raise

    def call(self, laptop: Laptop, method: str, path: str, name: str, *, body=None,
             params=None, auth=True, record=True) -> dict | None:
        headers = {"Accept-Encoding": "gzip"}
        data = None
        if body is not None:
            raw = body if isinstance(body, bytes) else json.dumps(
                body, separators=(",", ":")).encode()
            data = gzip.compress(raw, 5) if len(raw) > 4096 else raw
            headers["Content-Type"] = "application/json"
            if data is not raw:
                headers["Content-Encoding"] = "gzip"
        target = P.PREFIX + path + (f"?{urlencode(params)}" if params else "")
        for _attempt in range(2):
            if auth:
                headers["Authorization"] = f"Bearer {laptop.access}"
            started = time.perf_counter()
            try:
                status, encoding, content = self.send(method, target, data, headers)
            except (OSError, http.client.HTTPException) as e:
                self._error(f"{name}: {e.__class__.__name__}")
                return None
            elapsed = (time.perf_counter() - started) * 1000
            if status == 401 and auth and _attempt == 0:
                answer = self.call(laptop, "POST", "/refresh", "refresh", auth=False,
                                   body={"refresh_token": laptop.refresh}, record=record)
                if answer is None:
                    return None
                laptop.access = answer["access_token"]
                laptop.refresh = answer["refresh_token"]  # refresh tokens rotate
                continue
            if encoding == "gzip":
                content = gzip.decompress(content)
            if record:
                with self.lock:
                    self.latency.setdefault(name, []).append(elapsed)
            if not 200 <= status < 300:
                self._error(f"{name}: {status} {content[:200].decode(errors='replace')}")
                return None
            return json.loads(content)
        return None

    def _error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    def sign_in(self, laptop: Laptop) -> None:
        answer = self.call(laptop, "POST", "/login", "login", auth=False, record=False, body={
            "username": laptop.username, "password": PASSWORD, "device_id": laptop.device_id,
            "device_name": f"unit {laptop.n}"})
        if answer is None:
            raise SystemExit(f"sign-in failed for {laptop.username}: {self.errors[-1:]}")
        laptop.access, laptop.refresh = answer["access_token"], answer["refresh_token"]
        self.sync(laptop, push=False, record=False)

    def sync(self, laptop: Laptop, push: bool = True, record: bool = True) -> None:
        try:
            self._sync(laptop, push, record)
        except Exception as e:  # noqa: BLE001 - counted, never lost in the thread pool
            self._error(f"sync: {e.__class__.__name__}: {e}")

    def _sync(self, laptop: Laptop, push: bool, record: bool) -> None:
        """The requests sync/engine.py run_sync sends: a push carrying the fleet report (when
        there are ops), pull pages whose first carries the directory's changes, the roster,
        the report and the laptop's sums and whose last carries the summary, and a closing
        status report unless the pull said the sync was finished and checked."""
        if not laptop.busy.acquire(blocking=False):
            with self.lock:
                self.skipped += 1  # its last sync is still running: a real laptop waits too
            return
        try:
            if push and self.ops_per_sync:
                waiting = {"pending_changes": self.ops_per_sync,
                           "oldest_pending_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                              time.gmtime())}
                answer = self.call(laptop, "POST", "/push", "push", record=record,
                                   params={**laptop.history(), **waiting},
                                   body=laptop.push_body(self.ops_per_sync))
                if answer is None:
                    return
                bad = [r for r in answer["results"] if r["status"] != P.APPLIED]
                if bad:
                    self._error(f"push: {bad[0]}")
                laptop.last_op = laptop.sent_op
                with self.lock:
                    self.ops_pushed += self.ops_per_sync
            first, finished = True, False
            while True:
                page = self.call(laptop, "GET", "/pull", "pull", record=record,
                                 params=laptop.pull_params(first))
                if page is None:
                    return
                if first:
                    first = False
                    finished = page.get("reported") == "finished"
                    directory = page["directory"]
                    while directory["more"]:
                        directory = self.call(laptop, "GET", "/directory", "directory",
                                              record=record,
                                              params={"since": directory["cursor"]})
                        if directory is None:
                            return
                    laptop.directory_version = directory["cursor"]
                laptop.epoch, laptop.pull_cursor = page["epoch"], page["cursor"]
                with self.lock:
                    self.records_pulled += len(page["records"]) if record else 0
                if not page["more"]:
                    laptop.have = page["summary"]["count"], page["summary"]["hash"]
                    break
            if not finished:
                if self.call(laptop, "POST", "/device/status", "status", record=record,
                             body={"sync": "finished", "pending_changes": 0,
                                   "oldest_pending_at": None, "check": "ok"}) is None:
                    return
            with self.lock:
                self.syncs += 1 if record else 0
        finally:
            laptop.busy.release()


def db_bytes(engine) -> tuple[int, dict[str, int]]:
    """The database's size, and each table's with its indexes and TOAST."""
    with engine.connect() as conn:
        tables = dict(conn.execute(text(
            "SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables")).all())
        return conn.scalar(text("SELECT pg_database_size(current_database())")), tables


class CpuMeter:
    """CPU seconds spent over a window by the processes `pick` chooses, read from /proc every
    `every` seconds: each process counts from its first reading (from zero if it was born
    in the window) to its last."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pick, every: float = 2.0):
        self.pick, self.every = pick, every
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._read(born=False)
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()
        self._read(born=True)

    def seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)

    def _run(self):
        while not self.stop.wait(self.every):
            self._read(born=True)

    def _read(self, born: bool):
        for pid, cpu in processes_cpu(self.pick).items():
            self.first.setdefault(pid, 0.0 if born else cpu)
            self.last[pid] = cpu


def processes_cpu(pick) -> dict[int, float]:
    """{pid: user + system CPU seconds} of the processes for which pick(pid, ppid, cmdline)
    is true (pick may remember what it chose, to follow children)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended while we looked
        pid = int(entry.name)
        if pick(pid, int(fields[1]), cmdline):
            found[pid] = (int(fields[11]) + int(fields[12])) / CpuMeter.TICK
    return found


def server_picker(port: int):
    """The `tandem-server serve` on `port` and its worker processes."""
    chosen: set[int] = set()

    def pick(pid: int, ppid: int, cmdline: str) -> bool:
        if ppid in chosen or ("sync.server.cli" in cmdline and f"--port {port} " in cmdline):
            chosen.add(pid)
        return pid in chosen
    return pick


def postgres_picker(database: str):
    """PostgreSQL's backends connected to `database` (their process titles name it)."""
    return lambda _pid, _ppid, cmdline: cmdline.startswith("postgres:") and (
        f" {database} " in cmdline)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", metavar="ADMIN_URL", default=PG_DEFAULT,
                        help="a PostgreSQL account that may create databases")
    parser.add_argument("--laptops", type=int, default=300)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between syncs")
    parser.add_argument("--duration", type=float, default=180.0, help="measured seconds")
    parser.add_argument("--server-workers", type=int, default=3)
    parser.add_argument("--ops-per-sync", type=int, default=4)
    parser.add_argument("--threads", type=int, default=32, help="load generator threads")
    parser.add_argument("--quick", action="store_true",
                        help="a CI-sized smoke: 30 laptops every 5 s for 20 s, 2 workers")
    args = parser.parse_args()
    if args.quick:
        args.laptops, args.interval, args.duration, args.server_workers = 30, 5.0, 20.0, 2
    keyring.set_keyring(keyring.backends.fail.Keyring())
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    os.environ.update(HOME=str(work), XDG_DATA_HOME=str(work), XDG_CONFIG_HOME=str(work))
    template = shift_template(work)
    with fresh_database(work, "load", args.pg) as url:
        result = measure(work, url, template, args)
    print(json.dumps(result))


def measure(work: Path, url: str, template: list[dict], args) -> dict:
    import seeds
    from sync.server import agency_settings, directory

    engine = make_engine(url)
    migrate(engine)
    directory.import_directory(engine, seeds.DIRECTORY_DIR)
    shift = ShiftText(template)
    laptops = [Laptop(n, shift) for n in range(args.laptops)]
    with engine.begin() as conn:
        agency_settings.set_value(conn, "two_factor", "optional")  # a fleet with no phones
        for laptop in laptops:
            accounts.add_user(conn, laptop.username, "officer", [laptop.team], PASSWORD)
    try:
        with agency_server(url, work / "server.log", args.server_workers) as server_url:
            fleet = Fleet(server_url, laptops, args.ops_per_sync)
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(fleet.sign_in, laptops))
            before, tables_before = db_bytes(engine)
            health: list[float] = []
            stop = threading.Event()

            def probe():
                while not stop.wait(0.2):
                    started = time.perf_counter()
                    status, _, _ = fleet.send("GET", P.PREFIX + "/health", None, {})
                    if status == 200:
                        health.append((time.perf_counter() - started) * 1000)

            prober = threading.Thread(target=probe, daemon=True)
            prober.start()
            rng = random.Random(7)
            server_cpu = CpuMeter(server_picker(urlsplit(server_url).port))
            postgres_cpu = CpuMeter(postgres_picker(engine.url.database))
            with server_cpu, postgres_cpu:
                start, cpu_start = time.monotonic(), time.process_time()
                due = [(start + rng.uniform(0, args.interval), n) for n in range(len(laptops))]
                heapq.heapify(due)
                with ThreadPoolExecutor(max_workers=args.threads) as pool:
                    while True:
                        when, n = heapq.heappop(due)
                        if when >= start + args.duration:
                            break
                        time.sleep(max(0.0, when - time.monotonic()))
                        pool.submit(fleet.sync, laptops[n])
                        heapq.heappush(due, (when + args.interval, n))
                elapsed = time.monotonic() - start
                generator_cpu = time.process_time() - cpu_start
            stop.set()
            prober.join()
            after, tables_after = db_bytes(engine)
    finally:
        engine.dispose()
    every = [ms for values in fleet.latency.values() for ms in values]
    shifts = fleet.ops_pushed / len(template)
    p99, health_p99 = percentile(every, 99), percentile(health, 99)
    served = len(every) + len(health)
    if fleet.errors:
        print("errors (first 5):", *fleet.errors[:5], sep="\n  ", file=sys.stderr)
    return {
        "laptops": args.laptops, "sync_interval_s": args.interval,
        "server_workers": args.server_workers, "measured_s": round(elapsed, 1),
        "syncs": fleet.syncs, "syncs_skipped_still_running": fleet.skipped,
        "requests": len(every), "requests_per_s": round(len(every) / elapsed, 1),
        "requests_per_sync": round(len(every) / fleet.syncs, 2) if fleet.syncs else None,
        "p50_ms": round(statistics.median(every), 1), "p99_ms": round(p99, 1),
        "max_ms": round(max(every), 1),
        **{f"{name}_p99_ms": round(percentile(v, 99), 1) for name, v in fleet.latency.items()},
        "errors": len(fleet.errors),
        "ops_pushed": fleet.ops_pushed, "records_pulled": fleet.records_pulled,
        "ops_per_shift": len(template), "shifts_pushed": round(shifts, 1),
        "db_bytes_before": before, "db_bytes_after": after,
        "db_bytes_per_1000_shifts": round((after - before) / shifts * 1000) if shifts else None,
        "db_bytes_per_1000_shifts_by_table": {
            name: round((size - tables_before.get(name, 0)) / shifts * 1000)
            for name, size in sorted(tables_after.items(), key=lambda t: -t[1])
            if shifts and size > tables_before.get(name, 0)},
        "health_p50_ms": round(statistics.median(health), 1), "health_p99_ms": round(health_p99, 1),
        "ratio_p99_to_health_p99": round(p99 / health_p99, 2),
        "generator_cpu_s": round(generator_cpu, 1),
        "generator_cpu_ms_per_request": round(generator_cpu * 1000 / served, 2),
        "server_cpu_s": round(server_cpu.seconds(), 1),
        "server_cpu_ms_per_request": round(server_cpu.seconds() * 1000 / served, 2),
        "server_cpu_ms_per_sync": round(server_cpu.seconds() * 1000 / fleet.syncs, 2)
        if fleet.syncs else None,
        "postgres_cpu_s": round(postgres_cpu.seconds(), 1),
        "postgres_cpu_ms_per_request": round(postgres_cpu.seconds() * 1000 / served, 2),
    }


if __name__ == "__main__":
    main()
