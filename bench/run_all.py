"""The performance budget: run every benchmark in bench/ and write docs/benchmarks.md.

Each bench/bench_*.py runs in its own process, one after another (run it on an idle machine),
with the arguments in RUNS (a script not listed there runs once with none). The last line each
prints is its JSON result. The page puts every figure next to its target and its same-run
baseline ratio, with the machine it ran on and the command that reproduces it.

    python bench/run_all.py [--only NAME ...] [--quick] [--out docs/benchmarks.md]

--quick passes each benchmark's small-size arguments (QUICK) to check the pipeline itself;
its figures are not the budget.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("TANDEM_TEST_PG",
                    "postgresql+psycopg://tandem:tandem-test-only@127.0.0.1:54329/postgres")

# run name -> (script, arguments). Several runs may share a script.
RUNS = {
    "bench_ui": ("bench_ui.py", []),
    "bench_search": ("bench_search.py", []),
    "bench_import": ("bench_import.py", []),
    "bench_sync": ("bench_sync.py", []),
    "bench_sync_pg": ("bench_sync.py", ["--pg", PG]),
    "bench_load": ("bench_load.py", ["--pg", PG]),
    "bench_guessing": ("bench_guessing.py", ["--pg", PG]),
    "bench_request_cpu": ("bench_request_cpu.py", ["--pg", PG]),
}
QUICK = {
    "bench_search": ["--services", "2000", "--rounds", "1"],
    "bench_import": ["--services", "2000"],
    "bench_load": ["--pg", PG, "--quick"],
    "bench_review_queue": ["--shifts", "20", "--rounds", "2"],
    "bench_restore": ["--records", "500"],
    "bench_incremental": ["--records", "1000", "--rounds", "2"],
    "bench_guessing": ["--pg", PG, "--pulls", "60", "--rounds", "3"],
    "bench_request_cpu": ["--pg", PG, "--requests", "30", "--rounds", "1"],
}

# (run, JSON key, what it is, target, the key of its same-run baseline ratio or None).
FIGURES = [
    ("bench_ui", "signin_window_ms", "cold start to the first window (sign-in), 100,000 records "
     "(ms)", "≤ 2× bare window", "signin_ratio_to_bare_window"),
    ("bench_ui", "cold_start_ms", "cold start to a usable signed-in window, 100,000 records, "
     "password key derivation included (ms)", "≤ 2× bare window", "ratio_excluding_kdf"),
    ("bench_bundle", "bundle_mib", "desktop bundle on disk (MiB)", "< 150 MiB", None),
    ("bench_bundle", "cold_start_ms", "the bundled app: cold start to a usable window, on X, "
     "password key derivation excluded (ms)", "≤ 2× bare window", "ratio_to_bare_window"),
    ("bench_bundle", "deb_bytes", "the .deb a laptop downloads (bytes)", "—", None),
    ("bench_kdf", "guess_s", "one offline password guess with the shipped key derivation (s)",
     "≥ 0.25 s", "ratio_to_sha256"),
    ("bench_ui", "max_stall_ms", "event-loop stall during a long database job (ms)", "≤ 50 ms",
     None),
    ("bench_stall", "max_stall_ms_sync", "event-loop stall during a sync pulling 10,000 records "
     "(ms)", "≤ 50 ms", "ratio_sync_to_idle"),
    ("bench_stall", "max_stall_ms_directory", "event-loop stall during a 5,000-service directory "
     "pull (ms)", "≤ 50 ms", "ratio_directory_to_idle"),
    ("bench_search", "search_median_ms", "directory search as you type, median (ms)", "< 5 ms",
     "ratio_to_bare_fts5_p50"),
    ("bench_search", "search_p99_ms", "directory search as you type, p99 (ms)", "< 20 ms",
     "ratio_to_bare_fts5_p99"),
    ("bench_review_queue", "queue_ms", "the sergeant's review queue, 200 ended shifts (ms)",
     "< 100 ms", "ratio_queue_to_one_at_a_time"),
    ("bench_review_queue", "queue_statements", "SQL statements for the review queue, 200 shifts",
     "≤ 30", None),
    ("bench_import", "import_s", "directory import, 100,000 services (s)", "< 60 s",
     "ratio_import_to_bare_service_insert"),
    ("bench_sync", "push_ops_per_s", "sync push, SQLite server (ops/s)", "≥ 2,000 ops/s",
     "push_ratio_to_direct_insert"),
    ("bench_sync", "pull_records_per_s", "sync pull, SQLite server (records/s)",
     "≥ 10,000 records/s", "pull_ratio_to_direct_insert"),
    ("bench_sync", "pull_requests_per_10000_records", "requests to pull 10,000 records",
     "≤ 10", None),
    ("bench_sync", "pull_wire_bytes_per_record", "bytes on the wire per record pulled (gzip)",
     "—", None),
    ("bench_sync", "signin_to_synced_s", "sign-in to a synced laptop, SQLite (s)", "≤ 3 s", None),
    ("bench_link", "slow_first_sync_s", "first sync of 10,000 records over 100 ms round trip "
     "and 5 Mbit/s (s)", "≤ 15 s", "slow_ratio_to_direct"),
    ("bench_link", "stall_pull_pages_redone", "pages asked for twice, link stalling 5 s every "
     "20 s (blackouts during the sync: stall_blackouts_during_sync)", "≤ 1 per blackout", None),
    ("bench_link", "refuse_pull_pages_redone", "pages asked for twice, link refusing 5 s every "
     "20 s (blackouts during the sync: refuse_blackouts_during_sync)", "≤ 1 per blackout", None),
    ("bench_link", "stall_longest_silence_s", "longest a request went without a byte of its "
     "answer, link stalling 5 s every 20 s (s)", "< read timeout (120 s)", None),
    ("bench_incremental", "edit_sync_big_ms", "sync of 100 edited records, laptop holding "
     "10,000 (ms)", "≤ 1.2× the laptop holding 100", "edit_sync_ratio_big_to_small"),
    ("bench_incremental", "edit_sync_big_requests", "requests in that sync", "≤ 3", None),
    ("bench_incremental", "idle_sync_big_requests", "requests in a sync with nothing to do, "
     "laptop holding 10,000", "1", "idle_sync_ratio_big_to_small"),
    ("bench_sync_pg", "push_ops_per_s", "sync push, PostgreSQL server (ops/s)", "≥ 2,000 ops/s",
     "push_ratio_to_direct_insert"),
    ("bench_sync_pg", "pull_records_per_s", "sync pull, PostgreSQL server (records/s)",
     "≥ 10,000 records/s", "pull_ratio_to_direct_insert"),
    ("bench_restore", "giveback_then_rebuild_records_per_s", "after a restore: giving back "
     "10,000 records a laptop pulled, then its rebuild (records/s)", "—", "giveback_ratio_to_push"),
    ("bench_restore", "after_restore_nothing_lost_s", "after a restore: first sync of a laptop "
     "that lost nothing, 10,000 records (s)", "—", "nothing_lost_ratio_to_plain_pull"),
    ("bench_signout", "signout_online_s", "sign-out with 500 changes waiting, server up: sent "
     "first (s)", "< 10 s", "ratio_online_to_nothing_waiting"),
    ("bench_signout", "signout_refused_s", "sign-out with 500 changes waiting, server down (s)",
     "< 10 s", "ratio_refused_to_nothing_waiting"),
    ("bench_signout", "signout_silent_s", "sign-out with 500 changes waiting, server silent: "
     "the send cut off at its deadline (s)", "< 10 s", "ratio_silent_to_nothing_waiting"),
    ("bench_load", "requests_per_s", "fleet load: 300 laptops syncing every 30 s (requests/s)",
     "—", None),
    ("bench_load", "p99_ms", "fleet load, p99 latency of sync requests (ms)", "< 200 ms",
     "ratio_p99_to_health_p99"),
    ("bench_load", "errors", "fleet load, failed requests", "0", None),
    ("bench_request_cpu", "idle_pull_server_cpu_ms", "the server's CPU for an idle sync (one "
     "pull with its report, directory, roster and sums), PostgreSQL (ms)", "—",
     "ratio_idle_pull_to_health"),
    ("bench_request_cpu", "pull_server_cpu_ms", "the server's CPU for a sync's pull of a "
     "teammate's 40 ops, PostgreSQL (ms)", "—", "ratio_pull_to_health"),
    ("bench_request_cpu", "push_server_cpu_ms", "the server's CPU for a push of 4 ops, "
     "PostgreSQL (ms)", "—", "ratio_push_to_health"),
    ("bench_load", "db_bytes_per_1000_shifts", "database growth per 1,000 shifts (bytes)", "—",
     None),
    ("bench_guessing", "sqlite_burst_pull_p99_ms", "another user's pull p99 while a password "
     "guesser is held back, SQLite (ms)", "≤ 2× idle", "sqlite_ratio_burst_to_idle_p99"),
    ("bench_guessing", "postgresql_burst_pull_p99_ms", "another user's pull p99 while a "
     "password guesser is held back, PostgreSQL (ms)", "≤ 2× idle",
     "postgresql_ratio_burst_to_idle_p99"),
    ("bench_guessing", "sqlite_guesses_checked_401", "wrong guesses whose password was checked "
     "before the 429s (SQLite)", "5 (the lockout)", None),
]


def run(name: str, script: str, args: list[str]) -> tuple[dict | None, float, str]:
    """Run one benchmark; its last line's JSON (None if it failed), seconds, and the error."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.monotonic() - started
    lines = proc.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if proc.returncode == 0 and lines else None
    except json.JSONDecodeError:
        result = None
    error = "" if result is not None else (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return result, elapsed, error


def machine() -> str:
    import sqlite3

    import sqlcipher3

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor() or platform.machine())
    ram_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    conn = sqlcipher3.connect(":memory:")
    cipher = conn.execute("PRAGMA cipher_version").fetchone()[0]
    inner = conn.execute("SELECT sqlite_version()").fetchone()[0]
    conn.close()
    return (f"{cpu}, {os.cpu_count()} cores, {ram_kb / 1048576:.0f} GiB RAM; "
            f"{platform.platform(terse=True)}; Python {platform.python_version()}; "
            f"SQLCipher {cipher} (SQLite {inner}); Python's sqlite3 {sqlite3.sqlite_version}")


def command(script: str, args: list[str]) -> str:
    shown = ["PG_ADMIN_URL" if a == PG else a for a in args]
    return "`" + " ".join([".venv/bin/python", f"bench/{script}", *shown]) + "`"


def page(results: dict, runs: dict, quick: bool, load_average: str) -> str:
    def fmt(value) -> str:
        if isinstance(value, float):
            return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
        return f"{value:,}" if isinstance(value, int) else str(value)

    rows = ["| figure | result | target | baseline ratio (same run) | command |",
            "|---|---|---|---|---|"]
    for name, key, what, target, ratio_key in FIGURES:
        if name not in runs:
            continue
        result = results.get(name) or {}
        value = fmt(result[key]) if key in result else f"failed: {results.get(name + ':error')}"
        ratio = f"{ratio_key} {fmt(result[ratio_key])}" if ratio_key and ratio_key in result else "—"
        rows.append(f"| {what} | {value} | {target} | {ratio} | {command(*runs[name])} |")
    listed = {name for name, *_ in FIGURES}
    for name, run_args in runs.items():  # benchmarks with no row of their own: all keys
        if name not in listed:
            result = results.get(name)
            shown = json.dumps(result) if result else f"failed: {results.get(name + ':error')}"
            rows.append(f"| {name} (all keys) | {shown} | — | — | {command(*run_args)} |")
    note = ("\n**Quick run** (small sizes, to check the pipeline): these are not the budget's "
            "figures.\n" if quick else "")
    full = "\n".join(f"- `{name}`: `{json.dumps(results.get(name))}`" for name in runs)
    return f"""# Benchmarks

Written by `bench/run_all.py`, which runs each benchmark in `bench/` in its own process, one
after another, and reads the one JSON object each prints last. Every benchmark measures its
own baseline in the same run; the ratios are what to compare across machines. PG_ADMIN_URL is
a PostgreSQL account that may create databases (the test cluster `tests/run` starts).
{note}
Machine: {machine()}. Run on {date.today().isoformat()}; load average before the run:
{load_average}.

{chr(10).join(rows)}

Reproduce everything: `.venv/bin/python bench/run_all.py` (on an idle machine; about 15 minutes).

## Raw results

{full}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these (run names)")
    parser.add_argument("--quick", action="store_true", help="small sizes, to test the pipeline")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    runs = dict(RUNS)
    for script in sorted((ROOT / "bench").glob("bench_*.py")):  # new benchmarks join by name
        if script.name not in {s for s, _ in runs.values()}:
            runs[script.stem] = (script.name, [])
    if args.quick:
        runs = {name: (script, QUICK.get(name, a)) for name, (script, a) in runs.items()}
    if args.only:
        unknown = set(args.only) - set(runs)
        if unknown:
            raise SystemExit(f"no benchmark named {', '.join(sorted(unknown))}; "
                             f"one of {', '.join(runs)}")
        runs = {name: runs[name] for name in args.only}
    load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    results: dict = {}
    for name, (script, script_args) in runs.items():
        print(f"{name}: {command(script, script_args)} ...", flush=True)
        result, elapsed, error = run(name, script, script_args)
        results[name] = result
        if result is None:
            results[name + ":error"] = re.sub(r"\s+", " ", error)[:200]
        print(f"  {'ok' if result else 'FAILED: ' + error} in {elapsed:.0f} s", flush=True)
    args.out.write_text(page(results, runs, args.quick, load_average), encoding="utf-8")
    print(json.dumps({"benchmarks": len(runs), "failed": [n for n in runs if not results[n]],
                      "out": str(args.out)}))


if __name__ == "__main__":
    main()
