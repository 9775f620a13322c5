"""Leaving a session (signing out, switching user, closing the window) in seconds, with nothing
lost and nothing left behind.

In order: every open form saves its draft, every timer stops and a sync under way is
cancelled (no new work is queued), the window shows only this page, and the sign-out is
audited. If changes are waiting and the laptop has an agency server, they are sent, with the
count on screen, until SEND_SECONDS after the start at most. Then both workers end (their
connections close), the key is dropped, and `done` carries what the user must be told:
nothing when everything went, else how many changes stay on this laptop and that they go at
the user's next sign-in.
"""

from fieldapp import changes, lock

from .qt import QObject, QProgressBar, QTimer, QVBoxLayout, QWidget, Signal
from .widgets import WrappedLabel, button, centred, heading

SEND_SECONDS = 7  # saving and sending: the larger part of the 10 s a sign-out may take
STOP_SECONDS = 2  # then the workers have this long to end


def outbox_state(session) -> dict:
    """On the DB worker: the changes waiting to sync, and whether there is a server to take them."""
    status = changes.sync_status(session)
    return {"pending": status["pending"], "server": status["server"]}


def send_outbox(session, cancel):
    """On the network worker: push only (the engine loads here, as for any sync)."""
    from sync import engine
    return engine.push_outbox(session, cancel=cancel)


def changes_text(n: int) -> str:
    return f"{n} change{'s' if n != 1 else ''}"


class LeavingPage(QWidget):
    """What the window shows while leaving: what is happening, never a record."""

    def __init__(self):
        super().__init__()
        self.setObjectName("leavingPage")
        self.title = heading("Signing out")
        self.text = WrappedLabel()
        self.text.setObjectName("leavingText")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # moving: work under way, length unknown
        self.busy.setTextVisible(False)
        self.close_button = button("Close Tandem", name="closeNow", primary=True)
        self.close_button.hide()
        card = QWidget()
        card.setFixedWidth(560)
        v = QVBoxLayout(card)
        v.addWidget(self.title)
        v.addWidget(self.text)
        v.addWidget(self.busy)
        v.addWidget(self.close_button)
        centred(self, card)

    def say(self, text: str) -> None:
        self.text.setText(text)

    def finished(self, text: str) -> None:
        """The notice, with nothing left running."""
        self.busy.hide()
        self.text.setText(text)


class Leave(QObject):
    """One leaving of `window` (a MainWindow); `done(notice)` when it is over. The window's
    workers are closed and its session's key dropped before `done` fires. `wiped`: the
    agency revoked this laptop and its copy is gone; nothing is sent, `wiped` is the notice."""

    done = Signal(str)

    def __init__(self, window, closing: bool, wiped: str = ""):
        super().__init__(window)
        self.window, self.closing, self.wiped = window, closing, wiped
        self.tasks = window.tasks
        self.user = window.profile.username
        self.page = window.leaving_page
        self._cancel = None
        self._over = False
        self._deadline = None

    def start(self) -> None:
        w = self.window
        for view in w.views.values():
            flush = getattr(view, "flush_draft", None)
            if flush:
                flush()
        w.status.stop()  # its timers, and a sync under way is cancelled
        w.session_lock.stop()  # its event filter and idle timer
        for timer in w.findChildren(QTimer):  # no screen may queue work from here on
            timer.stop()
        self.page.title.setText("Closing Tandem" if self.closing else "Signing out")
        self.page.say("Saving your work…")
        w.show_page(self.page)
        self._deadline = QTimer(self, singleShot=True, interval=SEND_SECONDS * 1000,
                                timeout=self._give_up)
        self._deadline.start()
        if self.wiped:
            self._finish(0, notice=self.wiped)
            return
        self.tasks.db(lock.record_sign_out, "closed the app" if self.closing else None).run()
        self.tasks.db(outbox_state).success(self._counted).failure(
            lambda e: self._finish(None, str(e))).run()

    def _counted(self, state: dict) -> None:
        n = state["pending"]
        if not n:
            self._finish(0)
        elif not state["server"]:
            self._finish(n, "this laptop has no agency server yet")
        else:
            from sync.cancel import Cancel
            self._cancel = Cancel()
            self.page.say(f"Sending {changes_text(n)} to the agency server…")
            self.tasks.net(send_outbox, self._cancel).success(self._sent).failure(
                self._not_sent).run()

    def _sent(self, summary: dict) -> None:
        self._finish(summary["pending"], "the agency server did not take them all")

    def _not_sent(self, error: BaseException) -> None:
        from sync import failures
        if self._over:
            return
        failure = failures.classify(error)
        if failure is not None and failure.kind == "cancelled":
            why = f"the agency server did not answer within {SEND_SECONDS} seconds"
        elif failure is not None:
            why = failure.short
        else:
            why = f"the sync failed: {error}"
        if failure is not None and failure.kind == "revoked":  # the copy is wiped: nothing stays
            self._finish(0, notice=failure.advice)
            return
        self.tasks.db(changes.pending_ops).success(lambda n: self._finish(n, why)).failure(
            lambda e: self._finish(None, why)).run()

    def _give_up(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()  # the send fails at once (Cancelled), then we go on

    def _finish(self, left: int | None, why: str = "", notice: str = "") -> None:
        """`left`: changes still on this laptop (None: unknown); `why` they did not go."""
        if self._over:
            return
        self._over = True
        if self._deadline is not None:
            self._deadline.stop()
        if self._cancel is not None:
            self._cancel.cancel()
        self.tasks.close(STOP_SECONDS)
        lock.forget(self.window.session)
        if left is None:
            notice = f"Some changes may still be on this laptop ({why})."
        elif left:
            notice = (f"{changes_text(left)} {'stays' if left == 1 else 'stay'} on this laptop: "
                      f"{why}. {'It goes' if left == 1 else 'They go'} to the agency server "
                      f"when {self.user} next signs in on this laptop.")
        self.done.emit(notice)
