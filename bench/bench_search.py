"""Directory search latency as you type, on 100,000 services in an encrypted cache.

Each query in a fixed list of keystroke prefixes and words runs through
fieldapp.directory.search (match, rank, then each result's phones, address, hours today,
capacity) and, in the same run on the same table, through a bare FTS5 MATCH with the same
expression, ORDER BY rank LIMIT 50: what a plain FTS5 search pays. Targets: median < 5 ms,
p99 < 20 ms, at most 2x the bare query.

Search does less ranking than the bare query on purpose (one or two letters match names
only; otherwise name matches come first, in the index's shortest-name-first order), so its
ratio can be below 1. Each query runs at its own instant, a second after the last, as the
clock moves under someone typing, so no remembered opening hours carry from one to the next. The *_3plus_letters keys compare the two on queries of three letters or more.

    python bench/bench_search.py [--services N] [--rounds R]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from directory_data import write_directory

from fieldapp import directory
from fieldapp.hsds import read_directory
from fieldapp.store import open_cache

TYPED = ["shelter", "crisis line", "food pantry", "detox", "mental health", "youth shelter",
         "legal aid", "naloxone", "showers laundry", "veterans housing"]
AT = datetime(2026, 11, 23, 12, 0, tzinfo=timezone(timedelta(hours=-7)))
LIMIT = 50


def keystrokes(phrases: list[str]) -> list[str]:
    """Every prefix a person types on the way to each phrase ("s", "sh", ... "shelter")."""
    return [p[:i] for p in phrases for i in range(1, len(p) + 1) if not p[:i].endswith(" ")]


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    queries = keystrokes(TYPED)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_cache(Path(tmp) / "cache.db", os.urandom(32))
        directory.replace_directory(db, read_directory(write_directory(Path(tmp) / "hsds",
                                                                       args.services)))
        bare_sql = "SELECT rowid FROM dir_fts WHERE dir_fts MATCH ? ORDER BY rank LIMIT ?"
        ours, bare, long_ours, long_bare = [], [], [], []
        found = 0
        at = AT
        for _ in range(args.rounds):
            for query in queries:
                at += timedelta(seconds=1)
                expression = directory.match_expression(directory.tokens(query))
                started = time.perf_counter()
                db.execute(bare_sql, [expression, LIMIT]).fetchall()
                bare.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                found += len(directory.search(db, query, at=at, limit=LIMIT))
                ours.append((time.perf_counter() - started) * 1000)
                if len(query.replace(" ", "")) >= 3:
                    long_ours.append(ours[-1])
                    long_bare.append(bare[-1])
        typo_ms = []
        for typo in ["shleter", "pantyr", "detxo", "laudnry"]:
            started = time.perf_counter()
            results = directory.search(db, typo, at=AT, limit=LIMIT)
            typo_ms.append((time.perf_counter() - started) * 1000)
            assert results.corrected_query, typo
        db.close()
    median, p99 = statistics.median(ours), percentile(ours, 99)
    bare_median, bare_p99 = statistics.median(bare), percentile(bare, 99)
    print(json.dumps({
        "services": args.services, "queries": len(ours), "results_returned": found,
        "search_median_ms": round(median, 3), "search_p99_ms": round(p99, 3),
        "bare_fts5_median_ms": round(bare_median, 3), "bare_fts5_p99_ms": round(bare_p99, 3),
        "ratio_to_bare_fts5_p50": round(median / bare_median, 2),
        "ratio_to_bare_fts5_p99": round(p99 / bare_p99, 2),
        "search_median_ms_3plus_letters": round(statistics.median(long_ours), 3),
        "bare_fts5_median_ms_3plus_letters": round(statistics.median(long_bare), 3),
        "search_p99_ms_3plus_letters": round(percentile(long_ours, 99), 3),
        "bare_fts5_p99_ms_3plus_letters": round(percentile(long_bare, 99), 3),
        "typo_fallback_max_ms": round(max(typo_ms), 3),
    }))


if __name__ == "__main__":
    main()
