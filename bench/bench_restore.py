"""What a restore costs the laptops, against a real local server (`tandem-server serve` in its
own process, embedded SQLite), each figure as a ratio to the ordinary sync of the same
records in the same run.

A writer pushes 10,000 encounters (and their 10,000 audit events) after the nightly backup; a
second laptop pulls them; the server is restored from the backup (`tandem-server restore`,
server running). The second laptop's next sync gives the 10,000 encounters back and then
pulls the new generation: giveback_records_per_s, as a ratio to the writer's push. A third
laptop that pulled the same records holds nothing the server still lacks: its first sync
after the restore offers 10,000 records, gives none back and pulls them again, as a ratio to
its own plain first pull. The last line printed is one JSON object.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keyring  # noqa: E402
import keyring.backends.fail  # noqa: E402

from agency_server import agency_server  # noqa: E402
from bench_sync import BATCH, PASSWORD, encounter  # noqa: E402
from fieldapp import changes  # noqa: E402
from sync import engine, online  # noqa: E402
from sync.server import accounts, agency_settings, restore  # noqa: E402
from sync.server.db import make_engine, migrate  # noqa: E402

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="encounters lost (10,000)")
    n = parser.parse_args().records
    keyring.set_keyring(keyring.backends.fail.Keyring())
    work = Path(tempfile.mkdtemp(prefix="bench-restore-"))
    url = f"sqlite:///{work / 'server' / 'agency.db'}"
    server_db = make_engine(url)
    migrate(server_db)
    with server_db.begin() as conn:
        for name in ("ofc.writer", "ofc.puller", "ofc.third"):
            accounts.add_user(conn, name, "officer", ["mhst-1"], PASSWORD)
        agency_settings.set_value(conn, "two_factor", "optional")  # the bench has no phone
    server_db.dispose()
    with agency_server(url, work / "server.log") as server_url:
        writer, puller, third = (online.login(work / name, server_url, name, PASSWORD)
                                 for name in ("ofc.writer", "ofc.puller", "ofc.third"))
        for session in (writer, puller, third):
            engine.run_sync(session)
        nightly = restore.backup(url, work / "nightly.db")["backup"]
        with writer.db.atomic():
            for i in range(n):
                changes.create(writer, "encounter", encounter(i))
        pushed = engine.run_sync(writer, batch_size=BATCH)
        push_ops_per_s = pushed["pushed"] / pushed["push_s"]
        engine.run_sync(puller)
        start = time.perf_counter()
        first = engine.run_sync(third)
        plain_pull_s = time.perf_counter() - start
        assert first["pulled"] == n, first

        restore.restore(url, nightly)
        start = time.perf_counter()
        back = engine.run_sync(puller)
        giveback_s = time.perf_counter() - start
        assert back["returned"] == n and back["check"] == "ok", back
        start = time.perf_counter()
        again = engine.run_sync(third)
        nothing_lost_s = time.perf_counter() - start
        assert again["returned"] == 0 and again["check"] == "ok", again
    giveback_per_s = n / giveback_s
    print(json.dumps({
        "backend": "sqlite", "records": n, "push_ops_per_s": round(push_ops_per_s),
        "giveback_then_rebuild_records_per_s": round(giveback_per_s),
        "giveback_requests": back["requests"],
        "giveback_ratio_to_push": round(giveback_per_s / push_ops_per_s, 3),
        "plain_first_pull_s": round(plain_pull_s, 2),
        "after_restore_nothing_lost_s": round(nothing_lost_s, 2),
        "nothing_lost_ratio_to_plain_pull": round(nothing_lost_s / plain_pull_s, 2),
    }))


if __name__ == "__main__":
    main()
