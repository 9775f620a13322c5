"""The status bar: online or offline (and why, in words a crew can act on: sync.failures),
changes waiting to sync, last sync, conflicts; Sync now.

Counts are read on the DB worker, again after every change (the app's change signal); sync
runs on the network worker through ``sync.engine.run_sync(session)``, and what it wrote
reaches every open screen by the same signal. A first sync's progress (records of total)
comes from the engine on the network worker by a queued signal, so the UI thread only
reads it; so does a request that failed and is being asked again (the transport's
`on_retry`), which makes the bar say Offline and why at once, not after the last retry.
The sync engine (and requests) is imported on
the first sync, on the network worker, so it costs the window's start nothing.
"""

from fieldapp import changes
from sync.cancel import Cancel

from . import probe
from .context import Context
from .qt import QLabel, QStatusBar, Qt, QTimer, Signal
from .tasks import collection_paused
from .timefmt import local
from .widgets import ElidedLabel, button, set_state


def run_sync(session, cancel: Cancel | None = None, progress=None, retrying=None):
    """On the network worker: the sync engine is imported here, on its first use.
    `retrying(short, advice)` hears, in the status bar's words, why a request is being asked
    again."""
    from sync import engine, failures

    def heard(error: BaseException) -> None:
        if retrying is not None and (failure := failures.classify(error)) is not None:
            retrying(failure.short, failure.advice)
    with collection_paused():
        return engine.run_sync(session, cancel=cancel, progress=progress, retrying=heard)


OFFLINE_RETRY_SECONDS = 15
RESTORE_NOTICE_MS = 60_000


class SyncStatusBar(QStatusBar):
    """Always visible; refreshes its counts after every change (a save, a sync) and sync.

    Syncs when the window opens, then on a timer; while offline it tries every
    OFFLINE_RETRY_SECONDS, so changes leave soon after the connection returns.
    """

    conflicts_clicked = Signal()
    revoked = Signal(str)  # the agency revoked this laptop (its copy is wiped): what to say
    progressed = Signal(int, int)  # records of total a first sync has received (any thread)
    retrying = Signal(str, str)  # why a sync's request is asked again, and advice (any thread)

    def __init__(self):
        """Only the widgets (part of the window's frame, built while the key is derived);
        `start` begins counting and syncing once someone is signed in."""
        super().__init__()
        self.ctx: Context | None = None
        self.state = "offline"
        self.syncing = False
        self._cancel: Cancel | None = None
        self._stopped = False
        self._again = False  # sync again as soon as this one ends (the server moved)
        # Words that can be long (why it is offline, a first sync's count) give way on a narrow
        # screen, ending in "…" with the whole in their tooltip; they never widen the window.
        self.connection = ElidedLabel()
        self.pending = QLabel()
        self.last_sync = QLabel()
        self.progress = ElidedLabel()
        self.progress.hide()
        self.progressed.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)
        self.retrying.connect(self._show_retrying, Qt.ConnectionType.QueuedConnection)
        self.conflicts = button("", self.conflicts_clicked.emit, name="conflictsButton")
        self.conflicts.setFlat(True)
        self.sync_button = button("Sync now (F5)", self.sync_now, name="syncNow")
        self.addWidget(self.connection, 2)
        for w in (self.pending, self.last_sync):
            self.addWidget(w)
        self.addWidget(self.progress, 1)
        self.addPermanentWidget(self.conflicts)
        self.addPermanentWidget(self.sync_button)
        self._set_connection("offline", "Offline")

    def start(self, ctx: Context, auto_sync_seconds: int = 120) -> None:
        self.ctx = ctx
        ctx.changed.connect(lambda _tables: self.refresh())  # every write, so no polling
        self._online_interval_ms = auto_sync_seconds * 1000
        self._auto = QTimer(self, interval=self._online_interval_ms, timeout=self._auto_sync)
        if auto_sync_seconds:
            self._auto.start()
            QTimer.singleShot(0, self._auto_sync)  # sync once as soon as the window opens
        self.refresh()

    def stop(self) -> None:
        """The session is ending: no more counting or syncing, and a sync under way stops."""
        self._stopped = True
        if self.ctx is not None:
            self._auto.stop()
        if self._cancel is not None:
            self._cancel.cancel()

    def refresh(self) -> None:
        if not self._stopped:
            self.ctx.tasks.db(changes.sync_status).success(self._show_counts).run()

    def sync_now(self) -> None:
        if self.syncing or self._stopped:
            return
        self._start_sync(quiet=False)

    def server_changed(self) -> None:
        """The agency server's address changed (Settings): sync with it at once."""
        self.state = "offline"
        if self.syncing:  # still with the old address: stop it, then start afresh
            self._again = True
            self._cancel.cancel()
        else:
            self.sync_now()

    def _auto_sync(self) -> None:
        if not self.syncing and not self._stopped and self.state != "no_server":
            self._start_sync(quiet=True)

    def _start_sync(self, quiet: bool) -> None:
        self.syncing = True
        self.sync_button.setEnabled(False)
        self.sync_button.setText("Syncing…")
        self._cancel = Cancel()
        self.ctx.tasks.net(run_sync, self._cancel, self.progressed.emit,
                           self.retrying.emit).success(
            self._synced).failure(
            lambda e: self._sync_failed(e, quiet)).run()

    def _synced(self, summary: dict) -> None:
        """What the sync wrote has gone out on the change signal already (ui.tasks)."""
        probe.event("sync", ok=True, summary=summary)
        self._sync_done()
        self._auto.setInterval(self._online_interval_ms)
        self._set_connection("online", "Online")
        self.refresh()
        if summary.get("returned"):  # the server was restored or failed over (sync/giveback.py)
            n = summary["returned"]
            self.showMessage(f"The agency server had lost {n} record{'s' if n != 1 else ''} "
                             "this laptop held; they are back on it.", RESTORE_NOTICE_MS)

    def _sync_failed(self, error: BaseException, quiet: bool) -> None:
        from sync import failures  # loaded with the sync that failed
        probe.event("sync", ok=False, error=type(error).__name__, message=str(error))
        self._sync_done()
        failure = failures.classify(error)
        if failure is None:  # not about the connection: the laptop's disk, a bug, a refusal
            from . import errors
            said = errors.environment_message(error)  # the disk is full: not "Offline"
            self._set_connection("offline", f"Sync failed · {said}" if said
                                 else "Offline · last sync failed", said or str(error))
            if not quiet:
                errors.show(error, self.window())
        elif failure.kind == "cancelled":
            pass
        else:
            if failure.retry:
                self._auto.setInterval(min(self._online_interval_ms,
                                           OFFLINE_RETRY_SECONDS * 1000))
            state = "no_server" if failure.kind == "no_server" else "offline"
            self._set_connection(state, f"Offline · {failure.short}", failure.advice)
            if failure.kind == "revoked":
                self.revoked.emit(failure.advice)
            elif not quiet and not failure.retry:  # asked for, and only a person can fix it
                from fieldapp.errors import TandemError
                from . import errors
                errors.show(TandemError(failure.text), self.window())
        self.refresh()

    def _show_progress(self, received: int, total: int) -> None:
        if self.syncing:
            self.progress.setText(f"Receiving records: {received:,} of {total:,}")
            self.progress.show()

    def _show_retrying(self, short: str, advice: str) -> None:
        """A request failed and the sync asks again after a pause: offline until it gets
        through, said at once, not after every retry has run out."""
        if self.syncing:
            self._set_connection("offline", f"Offline · {short} · trying again", advice)

    def _sync_done(self) -> None:
        self.progress.hide()
        self.syncing = False
        self._cancel = None
        self.sync_button.setEnabled(True)
        self.sync_button.setText("Sync now (F5)")
        if self._again:
            self._again = False
            QTimer.singleShot(0, self, self.sync_now)

    def _set_connection(self, state: str, text: str, advice: str = "") -> None:
        self.state = state
        self.connection.setText(f"● {text}")
        self.connection.setToolTip(f"{text}. {advice}" if advice else text)
        set_state(self.connection, "sync", state)

    def _show_counts(self, counts: dict) -> None:
        n = counts["pending"]
        self.pending.setText(f"{n} change{'s' if n != 1 else ''} waiting to sync")
        last = counts["last_sync_at"]
        self.last_sync.setText(
            f"Last sync {local(last).strftime('%a %H:%M')}" if last
            else "Never synced")
        c = counts["conflicts"]
        self.conflicts.setText(f"{c} conflict{'s' if c != 1 else ''} to review" if c
                               else "No conflicts")
        set_state(self.conflicts, "attention", bool(c))
