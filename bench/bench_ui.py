"""Cold start of the desktop app to its first usable window, against a bare PySide6 window.

Each is started the same way (a fresh `python bench/bench_ui.py --child ...` process, offscreen,
with compiled bytecode cached as an installed app has it) and timed from just before the process
starts until the child says its window is usable:
- app: the app as `tandem app` starts it: the sign-in window, the username and password filled
  in and Sign in pressed on its first event-loop turn (a user who types instantly, so nothing
  hides behind typing), the real sign-in (scrypt key derivation, a cache holding 100,000
  records, the audit of the sign-in), the main window, and the home screen and the status bar
  loaded from the cache (every DB job done). The automatic sync is off: the window does not
  wait for it, and the sync has its own benchmark;
- signin: the sign-in window, the first window `tandem` shows, shown and through one event-loop turn;
- bare: a QMainWindow with one QTableWidget, shown, first event-loop turn.
Then, in the app, a long DB job (full scans of the 100,000 records) runs on the DB worker while
a 5 ms timer on the UI thread measures the longest gap between its ticks (max_stall_ms).

The password's key derivation (scrypt, deliberately >= 0.25 s per guess, see fieldapp/keys.py)
is part of signing in, not of starting: cold_start_ms includes it, kdf_ms is that derivation
alone (timed again in the same child once its window is up), and ratio_excluding_kdf is
(cold_start_ms - kdf_ms) / bare_window_ms, the figure the 2x target is read against. While
the key is derived (scrypt releases the GIL) the app imports the cache's stack and the main
window on a worker, then builds the main window's frame (header, screen stack, status bar:
nothing of the user's) on the idle UI thread, so that work is hidden behind the derivation, as
it is for a user signing in. Opening the cache, the sign-in's audit, the role's navigation and
home screen, its data and the first paint all come after the key, and are timed.

Last line: one JSON object (cold_start_ms, kdf_ms, bare_window_ms, ratio_to_bare_window,
ratio_excluding_kdf, signin_window_ms, signin_ratio_to_bare_window, sign_in_ms (Sign in pressed
to the main window built), max_stall_ms, long_job_ms, records).
"""

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "ofc.bench"
# A throwaway cache, made and opened in this run; the child processes inherit the password.
PASSWORD = os.environ.setdefault("TANDEM_BENCH_PASSWORD", secrets.token_urlsafe(16))
RECORDS = 100_000
RUNS = 5


def build_cache(data_dir: Path) -> int:
    """A cache with RECORDS synced records: people, their follow-ups, outreach contacts."""
    sys.path.insert(0, str(ROOT))
    from fieldapp.ids import new_id
    from fieldapp.session import Profile, create_cache

    session = create_cache(data_dir, Profile(USERNAME, "officer", ("mhst-1",), "Bench"), PASSWORD)
    meta = {"created_hlc": "0000000000001-00000-x", "updated_hlc": "0000000000001-00000-x",
            "author": USERNAME, "device": session.device_id, "server_version": 1, "deleted": 0}
    people = [new_id() for _ in range(RECORDS * 2 // 5)]
    db = session.db
    with db.atomic():
        db["person"].insert_all(({**meta, "id": p, "team": "mhst-1", "kind": "alias",
                                  "alias": f"client {n}"} for n, p in enumerate(people)),
                                batch_size=2000)
        db["follow_up"].insert_all(({**meta, "id": new_id(), "team": "mhst-1", "person_id": p,
                                     "reason": "post_crisis_check",
                                     "due_on": f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}",
                                     "priority": 1 + n % 3, "status": "open"}
                                    for n, p in enumerate(people[:RECORDS // 5])), batch_size=2000)
        db["outreach_contact"].insert_all(({**meta, "id": new_id(), "team": "mhst-1",
                                            "contacted_at": f"2026-{1 + n % 12:02d}-01T12:00:00.000Z",
                                            "services_offered": '["food"]', "supplies": '["water"]',
                                            "note": f"contact {n} near the wash"}
                                           for n in range(RECORDS * 2 // 5)), batch_size=2000)
    total = sum(db[t].count for t in ("person", "follow_up", "outreach_contact"))
    session.close()
    return total


def child_bare() -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableWidget

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setCentralWidget(QTableWidget(20, 5))
    window.resize(1366, 768)
    window.show()
    QTimer.singleShot(0, lambda: (print("READY", flush=True), app.quit()))
    app.exec()


def child_signin(data_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    from ui.app import Windows, application
    from ui.qt import QTimer
    from ui.theme import Theme

    app = application()
    windows = Windows(Path(data_dir), Theme(app))

    def ready():
        print("READY", flush=True)
        windows.sign_in.close()
        app.quit()

    QTimer.singleShot(0, ready)
    app.exec()


def child_app(data_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    from ui.app import Windows, application
    from ui.qt import QTimer
    from ui.theme import Theme

    app = application()
    windows = Windows(Path(data_dir), Theme(app), auto_sync_seconds=0)
    result = {}

    def sign_in():
        view = windows.sign_in
        view.username.setText(USERNAME)
        view.acknowledge.setChecked(True)
        view.password.setText(PASSWORD)
        started = time.perf_counter()

        def signed_in(_session):  # connected after the app's own slot: the main window is up
            result["sign_in_ms"] = (time.perf_counter() - started) * 1000
            ready()

        view.signed_in.connect(signed_in)
        view.button.click()
        QTimer.singleShot(100, failed)

    def failed():
        if windows.main is None and windows.sign_in.button.isEnabled():
            print(f"sign-in failed: {windows.sign_in.errors.general.text()}", file=sys.stderr)
            app.exit(1)
        elif windows.main is None:
            QTimer.singleShot(100, failed)

    def ready():
        if not windows.main.tasks.idle:
            QTimer.singleShot(1, ready)
            return
        print("READY", flush=True)
        from fieldapp import keys, paths
        started = time.perf_counter()
        keys.unwrap(keys.KeyStore(paths.cache_path(Path(data_dir), USERNAME)).load(), PASSWORD)
        result["kdf_ms"] = (time.perf_counter() - started) * 1000
        stall_test(windows.main)

    def stall_test(window):
        last = [time.perf_counter()]
        worst = [0.0]

        def tick():
            now = time.perf_counter()
            worst[0] = max(worst[0], (now - last[0]) * 1000)
            last[0] = now

        timer = QTimer(interval=5, timeout=tick)
        timer.start()
        job_started = time.perf_counter()

        def long_job(s):
            for _ in range(3):
                s.db.execute("SELECT count(*), max(length(note)) FROM outreach_contact "
                             "WHERE note LIKE '%wash%'").fetchone()
                s.db.execute("SELECT person_id, count(*) FROM follow_up GROUP BY person_id "
                             "ORDER BY 2 DESC LIMIT 5").fetchall()

        def done(_):
            timer.stop()
            result.update(max_stall_ms=worst[0],
                          long_job_ms=(time.perf_counter() - job_started) * 1000)
            print("RESULT " + json.dumps(result), flush=True)
            window.close()
            app.quit()

        window.tasks.db(long_job).success(done).run()

    QTimer.singleShot(0, sign_in)
    app.exec()


def time_child(args: list[str], env: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)
    ready_ms, extra = None, {}
    for line in proc.stdout:
        if line.startswith("READY") and ready_ms is None:
            ready_ms = (time.perf_counter() - started) * 1000
        elif line.startswith("RESULT "):
            extra = json.loads(line[len("RESULT "):])
    if proc.wait() != 0 or ready_ms is None:
        raise SystemExit(f"child {args} failed with exit code {proc.returncode}")
    return ready_ms, extra


def main() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        # Bytecode compiled once (by the warm-up runs) into a throwaway folder, for all three
        # children alike, as an installed app ships it; the source tree is left untouched.
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        data_dir = Path(tmp) / "data"
        env["HOME"] = tmp
        env["XDG_DATA_HOME"] = env["XDG_CONFIG_HOME"] = tmp
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        os.environ.update({k: env[k] for k in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME",
                                                "PYTHON_KEYRING_BACKEND")})
        records = build_cache(data_dir)
        for kind in ("bare", "signin", "app"):  # warm the OS file cache and compile bytecode
            time_child([kind, str(data_dir)], env)
        bare, signin, app, extras = [], [], [], []
        for _ in range(RUNS):
            bare.append(time_child(["bare"], env)[0])
            signin.append(time_child(["signin", str(data_dir)], env)[0])
            ms, extra = time_child(["app", str(data_dir)], env)
            app.append(ms)
            extras.append(extra)
    cold, base, first = statistics.median(app), statistics.median(bare), statistics.median(signin)
    kdf_ms = statistics.median(e["kdf_ms"] for e in extras)
    print(f"records {records}; app runs {[round(x) for x in app]} ms; "
          f"sign-in window runs {[round(x) for x in signin]} ms; "
          f"bare runs {[round(x) for x in bare]} ms; "
          f"key derivations {[round(e['kdf_ms']) for e in extras]} ms")
    print(json.dumps({
        "cold_start_ms": round(cold, 1), "kdf_ms": round(kdf_ms, 1),
        "bare_window_ms": round(base, 1),
        "ratio_to_bare_window": round(cold / base, 2),
        "ratio_excluding_kdf": round((cold - kdf_ms) / base, 2),
        "signin_window_ms": round(first, 1),
        "signin_ratio_to_bare_window": round(first / base, 2),
        "sign_in_ms": round(statistics.median(e["sign_in_ms"] for e in extras), 1),
        "max_stall_ms": round(max(e["max_stall_ms"] for e in extras), 1),
        "long_job_ms": round(statistics.median(e["long_job_ms"] for e in extras), 1),
        "records": records,
    }))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        {"bare": lambda: child_bare(), "signin": lambda: child_signin(sys.argv[3]),
         "app": lambda: child_app(sys.argv[3])}[sys.argv[2]]()
    else:
        main()
