"""The status bar: online or offline, changes waiting to sync, last sync, conflicts; Sync now.

Counts are read on the DB worker; sync runs on the network worker through
``sync.engine.run_sync(session)``. The sync engine (and requests) is imported on the first
sync, on the network worker, so it costs the window's start nothing.
"""

from fieldapp.timeutil import parse_iso

from .context import Context
from .qt import QLabel, QStatusBar, QTimer, Signal
from .tasks import collection_paused
from .widgets import button, set_state


def read_counts(session) -> dict:
    db = session.db
    return {
        "pending": db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0],
        "last_sync_at": db.execute("SELECT last_sync_at FROM sync_state WHERE id = 1").fetchone()[0],
        "conflicts": db.execute(
            "SELECT count(*) FROM conflict WHERE resolved_at IS NULL").fetchone()[0],
    }


def run_sync(session):
    """On the network worker: the sync engine is imported here, on its first use."""
    from sync import engine
    with collection_paused():
        return engine.run_sync(session)


def is_offline_error(error: BaseException) -> bool:
    import requests  # already loaded: the sync that failed imported it
    return isinstance(error, (ConnectionError, TimeoutError, OSError, requests.RequestException))


OFFLINE_RETRY_SECONDS = 15
RESTORE_NOTICE_MS = 60_000


class SyncStatusBar(QStatusBar):
    """Always visible; refreshes its counts after every local change and every few seconds.

    Syncs when the window opens, then on a timer; while offline it tries every
    OFFLINE_RETRY_SECONDS, so changes leave soon after the connection returns.
    """

    conflicts_clicked = Signal()

    def __init__(self):
        """Only the widgets (part of the window's frame, built while the key is derived);
        `start` begins counting and syncing once someone is signed in."""
        super().__init__()
        self.ctx: Context | None = None
        self.state = "offline"
        self.syncing = False
        self.connection = QLabel()
        self.pending = QLabel()
        self.last_sync = QLabel()
        self.conflicts = button("", self.conflicts_clicked.emit, name="conflictsButton")
        self.conflicts.setFlat(True)
        self.sync_button = button("Sync now (F5)", self.sync_now, name="syncNow")
        for w in (self.connection, self.pending, self.last_sync):
            self.addWidget(w)
        self.addPermanentWidget(self.conflicts)
        self.addPermanentWidget(self.sync_button)
        self._set_connection("offline", "Offline")

    def start(self, ctx: Context, auto_sync_seconds: int = 120) -> None:
        self.ctx = ctx
        ctx.changed.connect(lambda _table: self.refresh())
        self._timer = QTimer(self, interval=5000, timeout=self.refresh)
        self._timer.start()
        self._online_interval_ms = auto_sync_seconds * 1000
        self._auto = QTimer(self, interval=self._online_interval_ms, timeout=self._auto_sync)
        if auto_sync_seconds:
            self._auto.start()
            QTimer.singleShot(0, self._auto_sync)  # sync once as soon as the window opens
        self.refresh()

    def refresh(self) -> None:
        self.ctx.tasks.db(read_counts).success(self._show_counts).run()

    def sync_now(self) -> None:
        if self.syncing:
            return
        self._start_sync(quiet=False)

    def _auto_sync(self) -> None:
        if not self.syncing and self.state != "no_server":
            self._start_sync(quiet=True)

    def _start_sync(self, quiet: bool) -> None:
        self.syncing = True
        self.sync_button.setEnabled(False)
        self.sync_button.setText("Syncing…")
        self.ctx.tasks.net(run_sync).success(self._synced).failure(
            lambda e: self._sync_failed(e, quiet)).run()

    def _synced(self, result) -> None:
        self._sync_done()
        self._auto.setInterval(self._online_interval_ms)
        self._set_connection("online", "Online")
        if result.get("returned"):  # the server was restored or failed over (sync/giveback.py)
            n = result["returned"]
            self.showMessage(f"The agency server had lost {n} record{'s' if n != 1 else ''} "
                             "this laptop held; they are back on it.", RESTORE_NOTICE_MS)
        self.ctx.changed.emit("sync")

    def _sync_failed(self, error: BaseException, quiet: bool) -> None:
        from sync import transport
        self._sync_done()
        if isinstance(error, transport.NoServer):
            self._set_connection("no_server", "Offline · no agency server: sign in online")
        elif is_offline_error(error):
            self._auto.setInterval(min(self._online_interval_ms, OFFLINE_RETRY_SECONDS * 1000))
            self._set_connection("offline", "Offline")
        else:  # a version mismatch says which side to update, and to what
            why = str(error) if isinstance(error, transport.VersionMismatch) else "last sync failed"
            self._set_connection("offline", f"Offline · {why}")
            if not quiet:
                from . import errors
                errors.show(error, self.window())
        self.refresh()

    def _sync_done(self) -> None:
        self.syncing = False
        self.sync_button.setEnabled(True)
        self.sync_button.setText("Sync now (F5)")

    def _set_connection(self, state: str, text: str) -> None:
        self.state = state
        self.connection.setText(f"● {text}")
        set_state(self.connection, "sync", state)

    def _show_counts(self, counts: dict) -> None:
        n = counts["pending"]
        self.pending.setText(f"{n} change{'s' if n != 1 else ''} waiting to sync")
        last = counts["last_sync_at"]
        self.last_sync.setText(
            f"Last sync {parse_iso(last).astimezone().strftime('%a %H:%M')}" if last
            else "Never synced")
        c = counts["conflicts"]
        self.conflicts.setText(f"{c} conflict{'s' if c != 1 else ''} to review" if c
                               else "No conflicts")
        set_state(self.conflicts, "attention", bool(c))
