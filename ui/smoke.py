"""`tandem smoke`: prove an installed or bundled app works, with no display and no network.

It runs the demo's whole path in a throwaway folder (the embedded agency server with its
migrations, the seed roster and directory, sign-in, an encrypted cache, a first sync), opens
the signed-in main window offscreen, waits until every screen's first data load is done,
renders it to an image, and exits 0. The last line is one JSON object with the phases' times.
"""

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from fieldapp import __version__


def run(data_dir: Path | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()
    folder = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="tandem-smoke-"))
    try:
        return _run(folder, started)
    finally:
        if data_dir is None:
            shutil.rmtree(folder, ignore_errors=True)


def _run(data_dir: Path, started: float) -> int:
    from sync import demo

    from .app import application
    from .mainwindow import MainWindow
    from .qt import QTimer
    from .theme import Theme

    app = application()
    qt_ready = time.perf_counter()
    session, server = demo.start(data_dir, port=0)  # a free port: never a running demo's
    demo_ready = time.perf_counter()
    result = {"version": __version__, "ok": False}
    try:
        window = MainWindow(session, Theme(app), auto_sync_seconds=0)
        window.show()

        def ready():
            if not window.tasks.idle:
                QTimer.singleShot(5, ready)
                return
            image = window.grab().toImage()
            result.update(ok=not image.isNull() and image.width() > 0,
                          window_width=image.width(), window_height=image.height(),
                          screen=window.current_key)
            window.closed.connect(app.quit)  # after leaving: the changes sent, workers ended
            window.close()

        QTimer.singleShot(0, ready)
        QTimer.singleShot(60_000, app.quit)  # a hung load fails the smoke instead of hanging it
        app.exec()
    finally:
        server.stop()
        session.close()
    done = time.perf_counter()
    result.update(qt_ms=round((qt_ready - started) * 1000, 1),
                  demo_server_signin_sync_ms=round((demo_ready - qt_ready) * 1000, 1),
                  window_ms=round((done - demo_ready) * 1000, 1),
                  total_ms=round((done - started) * 1000, 1))
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1
