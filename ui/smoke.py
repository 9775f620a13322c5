"""`tandem smoke`: prove an installed or bundled app works, with no display and no network.

It runs the demo's whole path in a throwaway folder (the embedded agency server with its
migrations, the seed roster and directory, sign-in, an encrypted cache, a first sync), opens
the signed-in main window offscreen, waits until every screen's first data load is done,
renders it to an image, writes the month's report as a PDF, imports every module of the app
(those loaded on first use too: a bundle missing one of their libraries would fail only when a
user reached it), and exits 0. The last line is one JSON object with the phases' times.
"""

import importlib
import json
import os
import pkgutil
import shutil
import tempfile
import time
from pathlib import Path

from fieldapp import __version__, report
from fieldapp.timeutil import utc_now

PACKAGES = ("fieldapp", "sync", "ui", "seeds", "resources")
# Alembic's scripts, run by Alembic from files, not imported as modules
NOT_MODULES = ("sync.server.migrations",)


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
        pdf = report.write_report(session.db, utc_now().strftime("%Y-%m"), None, "pdf",
                                  data_dir / "report.pdf").read_bytes()
        imported, failed = _import_every_module()
        checked = time.perf_counter()
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
        result.update(report_pdf_bytes=len(pdf), modules_imported=imported,
                      failed_imports=failed,
                      ok=result["ok"] and pdf.startswith(b"%PDF-") and not failed)
    finally:
        server.stop()
        session.close()
    done = time.perf_counter()
    result.update(qt_ms=round((qt_ready - started) * 1000, 1),
                  demo_server_signin_sync_ms=round((demo_ready - qt_ready) * 1000, 1),
                  report_and_modules_ms=round((checked - demo_ready) * 1000, 1),
                  window_ms=round((done - checked) * 1000, 1),
                  total_ms=round((done - started) * 1000, 1))
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


def _import_every_module() -> tuple[int, dict[str, str]]:
    """How many modules of the app's packages imported, and each that did not, with why."""
    imported, failed = 0, {}
    for package in PACKAGES:
        for module in pkgutil.walk_packages(importlib.import_module(package).__path__,
                                            f"{package}."):
            if module.name.startswith(NOT_MODULES):
                continue
            try:
                importlib.import_module(module.name)
                imported += 1
            except Exception as e:  # noqa: BLE001 - named in the report, not raised
                failed[module.name] = f"{type(e).__name__}: {e}"
    return imported, failed
