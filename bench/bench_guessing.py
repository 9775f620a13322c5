"""A password guesser against one account while another user syncs: the guesses get 429 after
the agency's limit, and the other user's pull p99 stays within 2x its idle p99.

A real `tandem-server serve` process (one worker) on SQLite, and on PostgreSQL with --pg. Per
database: the reader's pull p99 idle and while GUESSERS threads send wrong passwords for
another account as fast as the server answers, in alternating rounds. The ratio is the figure
(same run, same machine); the guess counts show where the 429s began.

    python bench/bench_guessing.py [--pg URL] [--pulls 300] [--rounds 6] [--guessers 4]

Prints one JSON object last.
"""

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.agency_server import agency_server  # noqa: E402
from sync.server import accounts, agency_settings  # noqa: E402
from sync.server.db import make_engine, migrate  # noqa: E402

PASSWORD = secrets.token_urlsafe(16)  # throwaway accounts on a throwaway database
TEAM = "mhst-1"


def setup(db_url: str, records: int) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    with engine.begin() as conn:
        agency_settings.set_value(conn, "two_factor", "optional")  # the guesser has no code
        accounts.add_user(conn, "ofc.target", "officer", [TEAM], PASSWORD, actor="bench")
        accounts.add_user(conn, "ofc.reader", "officer", [TEAM], PASSWORD, actor="bench")
    engine.dispose()


def sign_in(url: str, name: str) -> str:
    answer = requests.post(f"{url}/v1/login", timeout=60, json={
        "username": name, "password": PASSWORD, "device_id": f"bench-{uuid.uuid4().hex[:8]}"})
    answer.raise_for_status()
    return answer.json()["access_token"]


def seed(url: str, token: str, records: int) -> None:
    """The reader's team has `records` outreach contacts, so a pull carries a real page."""
    ops = [{"op_id": str(uuid.uuid4()), "table": "outreach_contact",
            "record_id": str(uuid.uuid4()), "kind": "append", "base": {}, "base_version": 0,
            "hlc": f"{int(time.time() * 1000):013d}-{i % 100000:05d}-bench",
            "fields": {"team": TEAM, "contacted_at": "2026-11-01T10:00:00Z",
                       "note": f"contact {i}"}} for i in range(records)]
    for start in range(0, len(ops), 500):
        requests.post(f"{url}/v1/push", json={"ops": ops[start:start + 500]}, timeout=120,
                      headers={"Authorization": f"Bearer {token}"}).raise_for_status()


def pulls(url: str, token: str, count: int) -> list[float]:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    took = []
    for _ in range(count):
        started = time.perf_counter()
        answer = http.get(f"{url}/v1/pull", params={"after": 0, "limit": 2000}, timeout=120)
        took.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return took


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def guess(url: str, stop: threading.Event, go: threading.Event, statuses: list) -> None:
    http = requests.Session()
    while not stop.is_set():
        if not go.wait(0.1):
            continue
        answer = http.post(f"{url}/v1/login", timeout=120, json={
            "username": "ofc.target", "password": f"guess-{uuid.uuid4().hex[:6]}"})
        statuses.append(answer.status_code)


def measure(db_url: str, label: str, args) -> dict:
    """Rounds of idle pulls and pulls under the burst, alternating, so the machine's other
    load weighs on both alike. The burst starts with the account's allowed failures (each an
    argon2 check, as any sign-in is); the pulls under it are timed once the account is
    locked, which is the state a guesser holds it in."""
    setup(db_url, args.records)
    with tempfile.TemporaryDirectory() as folder, \
            agency_server(db_url, Path(folder) / "server.log") as url:
        seed(url, sign_in(url, "ofc.target"), args.records)
        token = sign_in(url, "ofc.reader")
        pulls(url, token, 20)  # warm up
        stop, go, statuses = threading.Event(), threading.Event(), []
        guessers = [threading.Thread(target=guess, args=(url, stop, go, statuses))
                    for _ in range(args.guessers)]
        for g in guessers:
            g.start()
        go.set()
        started = time.perf_counter()
        while statuses.count(401) < args.limit and time.perf_counter() - started < 300:
            time.sleep(0.05)
        locked_after_s = time.perf_counter() - started
        idle, burst = [], []
        per_round = max(1, args.pulls // args.rounds)
        for _ in range(args.rounds):
            go.clear()
            time.sleep(1.5)  # answers in flight come back
            idle += pulls(url, token, per_round)
            go.set()
            time.sleep(0.5)
            burst += pulls(url, token, per_round)
        stop.set()
        for g in guessers:
            g.join(120)
        right = requests.post(f"{url}/v1/login", timeout=60, json={
            "username": "ofc.target", "password": PASSWORD})
    first_429 = statuses.index(429) if 429 in statuses else None
    return {f"{label}_idle_pull_p99_ms": round(p99(idle), 1),
            f"{label}_burst_pull_p99_ms": round(p99(burst), 1),
            f"{label}_idle_pull_p50_ms": round(statistics.median(idle), 1),
            f"{label}_burst_pull_p50_ms": round(statistics.median(burst), 1),
            f"{label}_ratio_burst_to_idle_p99": round(p99(burst) / p99(idle), 2),
            f"{label}_guesses": len(statuses),
            f"{label}_guesses_checked_401": statuses.count(401),
            f"{label}_guesses_refused_429": statuses.count(429),
            f"{label}_first_429_at_guess": first_429,
            f"{label}_locked_after_s": round(locked_after_s, 1),
            f"{label}_right_password_while_locked": right.status_code}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL account that may create databases")
    parser.add_argument("--pulls", type=int, default=300)
    parser.add_argument("--guessers", type=int, default=4)
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    args.limit = 5  # the agency's default signin_lockout_failures
    result = {"pulls": args.pulls, "guessers": args.guessers, "records_per_pull": args.records}
    with tempfile.TemporaryDirectory() as folder:
        result.update(measure(f"sqlite:///{folder}/agency.db", "sqlite", args))
    if args.pg:
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        name = f"tandem_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            db = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
            result.update(measure(db, "postgresql", args))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
