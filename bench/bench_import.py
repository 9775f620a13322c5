"""Import time for a 100,000-service HSDS directory into an encrypted cache (target < 60 s).

Reported: reading the CSVs, loading the cache, and an identical re-import (which writes
nothing). Baseline in the same run: a bare executemany of the same service rows into an
empty table, the cheapest possible write of the data.

    python bench/bench_import.py [--services N]
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from directory_data import write_directory

from fieldapp.directory import replace_directory
from fieldapp.hsds import read_directory
from fieldapp.store import open_cache


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_directory(Path(tmp) / "hsds", args.services)
        db = open_cache(Path(tmp) / "cache.db", os.urandom(32))

        started = time.perf_counter()
        directory = read_directory(folder)
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        result = replace_directory(db, directory)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        again = replace_directory(db, read_directory(folder))
        reimport_s = time.perf_counter() - started

        rows = [tuple(r.values()) for r in directory.tables["dir_service"]]
        db.execute("CREATE TEMP TABLE bare_service AS SELECT * FROM dir_service WHERE 0")
        started = time.perf_counter()
        with db.atomic():
            db.conn.executemany(f"INSERT INTO bare_service VALUES ({', '.join('?' * len(rows[0]))})",
                                rows)
        bare_s = time.perf_counter() - started
        db.close()
    assert len(result["added"]) == args.services and again["rows_written"] == {}
    print(json.dumps({
        "services": args.services, "rows": sum(len(t) for t in directory.tables.values()),
        "rejected_rows": len(directory.rejected),
        "read_s": round(read_s, 2), "load_s": round(load_s, 2),
        "import_s": round(read_s + load_s, 2), "reimport_identical_s": round(reimport_s, 2),
        "bare_service_insert_s": round(bare_s, 3),
        "ratio_import_to_bare_service_insert": round((read_s + load_s) / bare_s, 1),
    }))


if __name__ == "__main__":
    main()
