"""The desktop app's event loop while it syncs: the longest stall of a 5 ms UI timer.

A real agency server (uvicorn on SQLite, sync/server/embedded.py) runs in its own process, as
it does in the field, so its work does not count against the app. It holds ENCOUNTERS
encounters written and pushed by a partner's laptop. In this process the real app (MainWindow,
signed in through an online login, on the follow-ups screen) then, with a QTimer ticking every
5 ms on the UI thread:
- idle: does nothing for IDLE_S seconds (the baseline: the same timer's largest gap);
- sync: "Sync now" pulls the ENCOUNTERS records (sync.engine.run_sync on the network worker);
- directory: the server imports a DIRECTORY_SERVICES-service HSDS directory, then "Sync now"
  brings it into the laptop (sync.engine.pull_directory inside that sync).
Each phase is timed until the sync is done and every callback and refresh it caused has run.

Last line: one JSON object (max_stall_ms_idle, max_stall_ms_sync, max_stall_ms_directory,
sync_ms, directory_sync_ms, records_pulled, directory_services, ratio_sync_to_idle, ...).
Target: max_stall_ms_sync and max_stall_ms_directory <= 50.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

ENCOUNTERS = 10_000
DIRECTORY_SERVICES = 5_000
IDLE_S = 1.5
TEAM = "mhst-1"
PASSWORD = os.environ.setdefault("TANDEM_BENCH_PASSWORD", secrets.token_urlsafe(16))


def server_process(work: Path) -> None:
    """The agency server and the partner's laptop that fills it; commands on stdin."""
    from bench_sync import encounter
    from directory_data import write_directory

    from fieldapp import changes
    from sync import engine, online
    from sync.server import accounts
    from sync.server import directory as server_directory
    from sync.server.db import make_engine
    from sync.server.embedded import start_local_server

    server = start_local_server(work / "server")
    server_db = make_engine(server.db_url)
    with server_db.begin() as conn:
        accounts.add_user(conn, "ofc.partner", "officer", [TEAM], PASSWORD)
        accounts.add_user(conn, "ofc.stall", "officer", [TEAM], PASSWORD)
    partner = online.login(work / "partner", server.url, "ofc.partner", PASSWORD)
    with partner.db.atomic():
        for i in range(ENCOUNTERS):
            changes.create(partner, "encounter", encounter(i))
    engine.run_sync(partner)
    partner.close()
    print(f"URL {server.url}", flush=True)
    for line in sys.stdin:
        if line.strip() == "directory":
            folder = write_directory(work / "hsds", DIRECTORY_SERVICES)
            server_directory.import_directory(server_db, folder)
            print("DONE", flush=True)
        elif line.strip() == "stop":
            break
    server_db.dispose()
    server.stop()


class StallMeter:
    """A 5 ms QTimer on the UI thread; the largest gap between two of its ticks."""

    def __init__(self):
        from ui.qt import QTimer
        self.timer = QTimer(interval=5, timeout=self._tick)
        self.worst_ms = 0.0
        self.last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst_ms = max(self.worst_ms, (now - self.last) * 1000)
        self.last = now

    def start(self) -> None:
        self.worst_ms, self.last = 0.0, time.perf_counter()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        self._tick()
        return self.worst_ms


def main() -> None:
    import keyring
    import keyring.backends.fail
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    keyring.set_keyring(keyring.backends.fail.Keyring())
    work = Path(tempfile.mkdtemp(prefix="bench-stall-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    server = subprocess.Popen([sys.executable, __file__, "--server", str(work)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = server.stdout.readline()
        if not line.startswith("URL "):
            raise SystemExit(f"the server process failed: {line!r}")
        result = measure(work, line.split()[1], server)
    finally:
        if server.poll() is None:
            server.stdin.write("stop\n")
            server.stdin.flush()
            server.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


def measure(work: Path, url: str, server: subprocess.Popen) -> dict:
    from sync import online
    from ui.app import application
    from ui.mainwindow import MainWindow
    from ui.qt import QTimer
    from ui.theme import Theme

    app = application()
    session = online.login(work / "laptop", url, "ofc.stall", PASSWORD)
    window = MainWindow(session, Theme(app), auto_sync_seconds=0)
    window.show()
    window.show_screen("followups")
    meter = StallMeter()
    out: dict = {}

    def wait(condition, then) -> None:
        """Call `then` once `condition()` holds, checking on the event loop."""
        QTimer.singleShot(5, lambda: then() if condition() else wait(condition, then))

    def settled() -> bool:
        return not window.status.syncing and window.tasks.idle

    def phase(name: str, action, then) -> None:
        meter.start()
        started = time.perf_counter()
        action()

        def finished():
            out[f"max_stall_ms_{name}"] = round(meter.stop(), 1)
            out[f"{name}_ms"] = round((time.perf_counter() - started) * 1000, 1)
            then()
        wait(settled, finished)

    def idle_phase():
        meter.start()
        QTimer.singleShot(int(IDLE_S * 1000), lambda: (
            out.__setitem__("max_stall_ms_idle", round(meter.stop(), 1)), sync_phase()))

    def sync_phase():
        phase("sync", window.status.sync_now, directory_phase)

    def directory_phase():
        server.stdin.write("directory\n")
        server.stdin.flush()
        if server.stdout.readline().strip() != "DONE":
            raise SystemExit("the server could not import the directory")
        phase("directory", window.status.sync_now, app.quit)

    wait(settled, idle_phase)
    app.exec()
    check = session.reopen()
    pulled = check.db.execute("SELECT count(*) FROM encounter").fetchone()[0]
    services = check.db.execute("SELECT count(*) FROM dir_service").fetchone()[0]
    check.close()
    window.close()
    if pulled != ENCOUNTERS or services != DIRECTORY_SERVICES:
        raise SystemExit(f"sync incomplete: {pulled} encounters, {services} services")
    return {
        "max_stall_ms_idle": out["max_stall_ms_idle"],
        "max_stall_ms_sync": out["max_stall_ms_sync"],
        "max_stall_ms_directory": out["max_stall_ms_directory"],
        "ratio_sync_to_idle": round(out["max_stall_ms_sync"] / out["max_stall_ms_idle"], 2),
        "ratio_directory_to_idle": round(
            out["max_stall_ms_directory"] / out["max_stall_ms_idle"], 2),
        "sync_ms": out["sync_ms"], "directory_sync_ms": out["directory_ms"],
        "records_pulled": pulled, "directory_services": services,
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--server"]:
        server_process(Path(sys.argv[2]))
    else:
        main()
