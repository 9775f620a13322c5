"""A laptop's first sync of 10,000 records over a bad link, as a patrol car has, against the
same sync straight to the server in the same run.

The server runs as an agency runs it (`tandem-server serve`, one worker, SQLite); a writer
laptop pushes 10,000 encounters to it. Then one new laptop per case signs in (straight to
the server) and makes its first sync, timed:
  direct      straight to the server (the baseline);
  slow        through bench/linkproxy.py at 100 ms round trip and 5 Mbit/s (target <= 15 s);
  blackout    the same link going dark for 5 s every 20 s, the first time 1 s into the sync,
              once stalling (a dead zone: nothing moves, then everything resumes) and once
              refusing (the port closes and open connections are cut). The sync is run
              again, as the app would at its next sync, until it completes; target: at most
              one page asked for twice per blackout.
Pages are counted at the link: GET /pull requests, and those whose cursor was asked before.
Silences are the link's too: the longest a request went without a byte of its answer (before
the first, or between two), against the transport's read timeout. A last probe stalls one
request past a shortened timeout to show the message a crew would get. The last line
printed is one JSON object.
"""

import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keyring  # noqa: E402
import keyring.backends.fail  # noqa: E402
import requests  # noqa: E402

from agency_server import agency_server  # noqa: E402
from bench_sync import encounter  # noqa: E402
from fieldapp import changes  # noqa: E402
from linkproxy import LinkProxy  # noqa: E402
from sync import engine, failures, online  # noqa: E402
from sync import transport as T  # noqa: E402
from sync.server import accounts, agency_settings  # noqa: E402
from sync.server.db import make_engine, migrate  # noqa: E402

N = 10_000
RTT_S, RATE_BPS = 0.1, 5e6
BLACKOUT_S, BLACKOUT_EVERY_S, FIRST_BLACKOUT_S = 5.0, 20.0, 1.0
MAX_RUNS = 5  # syncs the blackout case may take, as the app's next syncs would
PASSWORD = secrets.token_urlsafe(16)  # throwaway accounts on a temporary server
USERS = ["ofc.writer", "ofc.direct", "ofc.slow", "ofc.stall", "ofc.refuse", "ofc.probe"]


def main() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    work = Path(tempfile.mkdtemp(prefix="bench-link-"))
    url = f"sqlite:///{work / 'agency.db'}"
    server_db = make_engine(url)
    migrate(server_db)
    with server_db.begin() as conn:
        agency_settings.set_value(conn, "two_factor", "optional")  # the bench has no phone
        for user in USERS:
            accounts.add_user(conn, user, "officer", ["mhst-1"], PASSWORD)
    server_db.dispose()
    with agency_server(url, work / "server.log") as server_url:
        writer = online.login(work / "writer", server_url, "ofc.writer", PASSWORD)
        with writer.db.atomic():
            for i in range(N):
                changes.create(writer, "encounter", encounter(i))
        assert engine.run_sync(writer)["check"] == "ok"
        host, port = server_url.rsplit("//", 1)[1].split(":")
        result = {"records": N, "link_rtt_ms": RTT_S * 1000, "link_mbit_per_s": RATE_BPS / 1e6,
                  "read_timeout_s": T.TIMEOUT[1]}
        result |= measure_direct(work, server_url)
        result |= measure_slow(work, server_url, host, int(port))
        for mode in ("stall", "refuse"):
            result |= measure_blackout(work, server_url, host, int(port), mode)
        result |= probe_timeout(work, server_url, host, int(port))
    result["slow_ratio_to_direct"] = round(
        result["slow_first_sync_s"] / result["direct_first_sync_s"], 1)
    result["slow_meets_15_s"] = result["slow_first_sync_s"] <= 15
    print(json.dumps(result))


def signed_in(work: Path, server_url: str, user: str):
    return online.login(work / user, server_url, user, PASSWORD)


def first_sync(session, url: str) -> tuple[dict, float]:
    started = time.perf_counter()
    summary = engine.run_sync(session, url)
    return summary, time.perf_counter() - started


def held(session) -> int:
    return session.db.execute("SELECT count(*) FROM encounter").fetchone()[0]


def pages(link: LinkProxy) -> tuple[int, int]:
    """(pull requests, those asking after a cursor already asked for: the first page of a
    sync carries more parameters than the rest, so pages are told apart by `after`)."""
    pulls = [parse_qs(urlparse(target).query).get("after", ["0"])[0]
             for target in link.targets("/pull")]
    return len(pulls), len(pulls) - len(set(pulls))


def measure_direct(work: Path, server_url: str) -> dict:
    laptop = signed_in(work, server_url, "ofc.direct")
    summary, elapsed = first_sync(laptop, server_url)
    assert summary["check"] == "ok" and held(laptop) == N, summary
    return {"direct_first_sync_s": round(elapsed, 2), "direct_requests": summary["requests"]}


def measure_slow(work: Path, server_url: str, host: str, port: int) -> dict:
    laptop = signed_in(work, server_url, "ofc.slow")
    with LinkProxy(host, port, rtt_s=RTT_S, rate_bps=RATE_BPS) as link:
        summary, elapsed = first_sync(laptop, link.url)
        requested, _ = pages(link)
    assert summary["check"] == "ok" and held(laptop) == N, summary
    return {"slow_first_sync_s": round(elapsed, 2), "slow_requests": summary["requests"],
            "slow_wire_bytes_received": summary["wire_bytes_received"],
            "pull_pages_needed": requested}


def measure_blackout(work: Path, server_url: str, host: str, port: int, mode: str) -> dict:
    laptop = signed_in(work, server_url, f"ofc.{mode}")
    errors: list[str] = []
    with LinkProxy(host, port, rtt_s=RTT_S, rate_bps=RATE_BPS, blackout_s=BLACKOUT_S,
                   blackout_every_s=BLACKOUT_EVERY_S, first_blackout_s=FIRST_BLACKOUT_S,
                   blackout_mode=mode) as link:
        started = time.perf_counter()
        for _ in range(MAX_RUNS):
            try:
                summary = engine.run_sync(laptop, link.url)
                break
            except requests.RequestException as e:
                failure = failures.classify(e, link.url)
                errors.append(failure.text if failure else repr(e))
        else:
            raise SystemExit(f"{mode}: no sync completed in {MAX_RUNS} runs: {errors}")
        ended = time.monotonic()
        elapsed = time.perf_counter() - started
        requested, redone = pages(link)
        blackouts = sum(1 for start, _ in link.blackouts if start < ended)
        silences = [r.silence_s for r in link.requests if r.silence_s is not None]
    assert summary["check"] == "ok" and held(laptop) == N, summary
    return {f"{mode}_first_sync_s": round(elapsed, 2),
            f"{mode}_sync_runs": len(errors) + 1,
            f"{mode}_failed_runs_said": errors,
            f"{mode}_blackouts_during_sync": blackouts,
            f"{mode}_pull_pages_requested": requested,
            f"{mode}_pull_pages_redone": redone,
            f"{mode}_at_most_one_page_redone_per_blackout": redone <= max(blackouts, 0),
            f"{mode}_longest_silence_s": round(max(silences), 2),
            f"{mode}_requests_past_read_timeout": sum(s > T.TIMEOUT[1] for s in silences)}


def probe_timeout(work: Path, server_url: str, host: str, port: int) -> dict:
    """What a crew reads when a request waits past its timeout: the link stalls for 3 s with
    the transport's read timeout cut to 1 s (the shipped one is TIMEOUT, 120 s)."""
    laptop = signed_in(work, server_url, "ofc.probe")
    tries = T.Transport.max_attempts
    shipped, T.TIMEOUT = T.TIMEOUT, (1, 1)
    try:
        with LinkProxy(host, port) as link:
            link.black_out(3)
            started = time.perf_counter()
            try:
                engine.run_sync(laptop, link.url, max_attempts=1)
                said, crew_read = "no timeout", ""
            except requests.RequestException as e:
                said = str(e)
                failure = failures.classify(e, link.url)
                crew_read = failure.text if failure else ""
            waited = time.perf_counter() - started
    finally:
        T.TIMEOUT = shipped
    return {"timeout_probe_waited_s": round(waited, 2), "timeout_message": said,
            "timeout_crew_reads": crew_read,
            # a connection that dies without a reset: every attempt waits the whole read
            # timeout, then backs off at most backoff_cap_s (the transport's defaults), and
            # no attempt begins past RETRY_WITHIN_S of the first
            "dead_link_worst_wait_s_from_constants": min(T.TIMEOUT[1] * tries + sum(
                min(T.Transport.backoff_cap_s, T.Transport.backoff_s * 2 ** a)
                for a in range(tries - 1)), T.RETRY_WITHIN_S + T.TIMEOUT[1])}


if __name__ == "__main__":
    main()
