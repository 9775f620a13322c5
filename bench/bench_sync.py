"""Sync throughput against a real local server (uvicorn + SQLite), each figure also as a ratio
to inserting the same rows straight into the server database in the same run.

Push: 10,000 encounters (each also writes its audit event, so 20,000 ops) in batches of 500.
Pull: a second laptop of the same team signs in and pulls the 10,000 encounters.
The last line printed is one JSON object.
"""

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keyring  # noqa: E402
import keyring.backends.fail  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from fieldapp import changes  # noqa: E402
from sync import client  # noqa: E402
from sync.server import accounts  # noqa: E402
from sync.server.db import make_engine, migrate  # noqa: E402
from sync.server.embedded import serve_in_thread  # noqa: E402
from sync.server.tables import record  # noqa: E402

N = 10_000
BATCH = 500
PASSWORD = "bench password 1"


def encounter(i: int) -> dict:
    return {"team": "mhst-1", "started_at": "2026-05-01T10:00:00.000Z",
            "presenting_situation": "welfare_check", "disposition": "referred",
            "place": f"{100 + i} N Stone Ave", "lat": 32.22, "lon": -110.97,
            "police_note": f"Subject calm, agreed to referral; contact #{i}.",
            "connected_to_care": 1}


def baseline_insert(directory: Path, rows: list[dict]) -> float:
    """Rows per second inserting the pushed rows directly into a fresh server database."""
    engine = make_engine(f"sqlite:///{directory / 'baseline.db'}")
    migrate(engine)
    start = time.perf_counter()
    for at in range(0, len(rows), BATCH):
        with engine.begin() as conn:
            conn.execute(insert(record), rows[at:at + BATCH])
    elapsed = time.perf_counter() - start
    engine.dispose()
    return len(rows) / elapsed


def main() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    url = f"sqlite:///{work / 'server' / 'agency.db'}"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        accounts.add_user(conn, "ofc.a", "officer", ["mhst-1"], PASSWORD)
        accounts.add_user(conn, "ofc.b", "officer", ["mhst-1"], PASSWORD)
    server = serve_in_thread(url)
    try:
        writer = client.login(work / "a", server.url, "ofc.a", PASSWORD)
        with writer.db.atomic():
            for i in range(N):
                changes.create(writer, "encounter", encounter(i))
        ops = writer.db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        start = time.perf_counter()
        pushed = client.run_sync(writer, batch_size=BATCH)
        push_s = time.perf_counter() - start
        assert pushed["pushed"] == ops and pushed["check"] == "ok", pushed

        start = time.perf_counter()
        reader = client.login(work / "b", server.url, "ofc.b", PASSWORD)
        login_s = time.perf_counter() - start
        start = time.perf_counter()
        pulled = client.run_sync(reader)
        pull_s = time.perf_counter() - start
        assert pulled["pulled"] == N and pulled["check"] == "ok", pulled

        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(record.select()).mappings()]
        base_rows_per_s = baseline_insert(work, rows)
    finally:
        server.stop()
    push_ops_per_s = ops / push_s
    pull_records_per_s = N / pull_s
    pull_requests = pulled["requests"]
    result = {
        "encounters": N, "push_ops": ops, "push_batch_ops": BATCH,
        "push_ops_per_s": round(push_ops_per_s),
        "push_requests": pushed["requests"],
        "pull_records_per_s": round(pull_records_per_s),
        "pull_requests_per_10000_records": round(pull_requests * 10_000 / N, 1),
        "pull_json_bytes_per_record": round(pulled["bytes_received"] / N, 1),
        "signin_s": round(login_s, 3),
        "signin_to_synced_s": round(login_s + pull_s, 3),
        "baseline_direct_insert_rows_per_s": round(base_rows_per_s),
        "push_ratio_to_direct_insert": round(push_ops_per_s / base_rows_per_s, 3),
        "pull_ratio_to_direct_insert": round(pull_records_per_s / base_rows_per_s, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
