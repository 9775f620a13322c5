"""Signing out (which is also how a crew switches user), from the click to the sign-in screen,
and the longest stall of a 5 ms UI timer meanwhile.

The real app (ui.app.Windows, offscreen) signs out of a user's session four ways:
- nothing waiting (the baseline): nothing to send, so only the drafts, the audit and the
  workers' end;
- PENDING changes waiting and the agency server up (`tandem-server serve` in its own process):
  they are sent first;
- the same with the server down (connection refused): the notice says what stays;
- the same with a server that takes the connection and never answers: the send is cut off at
  the deadline (ui/signout.py SEND_SECONDS).
Each is timed from `sign_out()` to the sign-in screen; the issue's bound is 10 s.

Last line: one JSON object (signout_*_s, max_stall_ms_*, ratio_*_to_nothing_waiting, pending).
"""

import json
import os
import secrets
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PENDING = 500
PASSWORD = os.environ.setdefault("TANDEM_BENCH_PASSWORD", secrets.token_urlsafe(16))


class StallMeter:
    """A 5 ms timer on the UI thread; the largest gap between its ticks is the stall."""

    def __init__(self):
        from ui.qt import QTimer
        self.timer = QTimer(interval=5, timeout=self._tick)
        self.worst = 0.0
        self.last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def start(self) -> None:
        self.worst, self.last = 0.0, time.perf_counter()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return self.worst * 1000


def spin(app, condition, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.001)


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import keyring
    import keyring.backends.fail
    keyring.set_keyring(keyring.backends.fail.Keyring())

    from agency_server import agency_server

    from fieldapp import outreach
    from sync import online
    from sync.server import accounts
    from sync.server.db import make_engine, migrate
    from ui.app import Windows, application
    from ui.theme import Theme

    app = application()
    theme = Theme(app)
    work = Path(tempfile.mkdtemp(prefix="bench-signout-"))
    db_url = f"sqlite:///{work / 'agency.db'}"
    engine = make_engine(db_url)
    migrate(engine)
    with engine.begin() as conn:
        accounts.add_user(conn, "ofc.bench", "officer", ["mhst-1"], PASSWORD)
    engine.dispose()
    meter = StallMeter()
    out: dict = {}

    def sign_out(name: str, session) -> str:
        """Open the window on `session` (as `tandem demo` does), then sign out; the notice."""
        windows = Windows(work / "laptop", theme, session, auto_sync_seconds=0)
        main = windows.main
        spin(app, lambda: main.tasks.idle)
        told = []
        main.signed_out.connect(told.append)
        meter.start()
        started = time.perf_counter()
        main.sign_out()
        spin(app, lambda: bool(told) and windows.sign_in is not None)
        out[f"signout_{name}_s"] = round(time.perf_counter() - started, 3)
        out[f"max_stall_ms_{name}"] = round(meter.stop(), 1)
        windows.sign_in.close()
        return told[0]

    def laptop(url: str | None, pending: int):
        session = online.login(work / "laptop", server_url, "ofc.bench", PASSWORD)
        with session.db.atomic():
            for _ in range(pending):
                outreach.log_contact(session, supplies=["water"])
            if url:
                session.db.execute("UPDATE sync_state SET server_url = ? WHERE id = 1", [url])
        return session

    with agency_server(db_url, work / "server.log") as server_url:
        from sync import engine as sync_engine
        first = online.login(work / "laptop", server_url, "ofc.bench", PASSWORD)
        sync_engine.run_sync(first)
        first.close()
        sign_out("nothing_waiting", laptop(None, 0))
        notice = sign_out("online", laptop(None, PENDING))
        if notice:
            raise SystemExit(f"changes were left behind online: {notice}")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
        refused = sign_out("refused", laptop(dead, PENDING))
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        try:
            never = sign_out("silent", laptop(f"http://127.0.0.1:{silent.getsockname()[1]}",
                                              PENDING))
        finally:
            silent.close()
    if "connection refused" not in refused or "did not answer" not in never:
        raise SystemExit(f"unexpected notices: {refused!r} {never!r}")
    base = out["signout_nothing_waiting_s"]
    print(json.dumps({
        **out, "pending": PENDING,
        "ratio_online_to_nothing_waiting": round(out["signout_online_s"] / base, 2),
        "ratio_refused_to_nothing_waiting": round(out["signout_refused_s"] / base, 2),
        "ratio_silent_to_nothing_waiting": round(out["signout_silent_s"] / base, 2),
        "worst_signout_s": max(out[k] for k in out if k.startswith("signout_")),
    }))


if __name__ == "__main__":
    main()
