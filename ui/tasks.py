"""Background work, Anki-taskman style: ``tasks.db(fn, ...).success(cb).failure(cb).run()``.

Two workers, each a thread fed by a queue (datasette style):
- the DB worker owns its own Session (sqlite connections belong to the thread that opened them)
  and runs everything that reads or writes the cache, one job at a time, in order;
- the network worker owns another Session and runs sync, so a slow server never holds up a save.
Each job runs ``fn(session, *args, **kwargs)``; its result or exception comes back to the UI
thread through a queued signal, where the callbacks run, and with it the tables the job wrote
(`Session.take_changed`), which `on_changes` hands to the app's one change signal. The UI
thread never waits on a job; closing waits a bounded time (signing out takes seconds).
"""

import gc
import queue
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable

from fieldapp.session import Session

from .qt import QObject, Qt, Signal

Callback = Callable[[Any], None]

_gc_lock = threading.Lock()
_gc_pausers = 0


@contextmanager
def collection_paused():
    """Run a job that builds large structures (a sync, a directory pull) with the cyclic garbage
    collector's automatic passes off. A full pass walks every live object while holding the GIL,
    over 100 ms with a pulled directory in memory, and the UI thread waits for it; the job's
    garbage is freed by reference counting anyway, and any cycles at the next pass."""
    global _gc_pausers
    with _gc_lock:
        _gc_pausers += 1
        gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0:
                gc.enable()


class Op:
    """One job: build it, attach callbacks, then ``run()`` it on its worker."""

    def __init__(self, tasks: "Tasks", worker: "Worker", fn: Callable, args, kwargs):
        self._tasks, self._worker = tasks, worker
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.on_success: Callback | None = None
        self.on_failure: Callback | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.changed: frozenset[str] = frozenset()

    def success(self, cb: Callback) -> "Op":
        self.on_success = cb
        return self

    def failure(self, cb: Callback) -> "Op":
        self.on_failure = cb
        return self

    def run(self) -> "Op":
        self._tasks._submit(self._worker, self)
        return self


class Worker:
    """A thread with a queue and, once started, a Session of its own."""

    def __init__(self, name: str, opener: Callable[[], Session] | None, done: Callable[[Op], None]):
        self._opener, self._done = opener, done
        self._queue: queue.Queue[Op | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def put(self, op: Op) -> None:
        self._queue.put(op)

    def stop(self) -> None:
        """No job after those queued; the thread ends when they are done."""
        self._queue.put(None)

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the thread to end; True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        session: Session | None = None
        try:
            while (op := self._queue.get()) is not None:
                try:
                    if session is None and self._opener is not None:
                        session = self._opener()
                    op.result = op.fn(session, *op.args, **op.kwargs)
                except BaseException as e:  # handed to the UI thread, never swallowed
                    op.error = _as_told(session, e)
                if session is not None:
                    op.changed = session.take_changed()
                self._done(op)
        finally:
            if session is not None:
                session.close()
                session.data_key = b""


def _as_told(session: Session | None, error: BaseException) -> BaseException:
    """The error as the user is told it: a page of the cache found damaged is said plainly
    (and the cache marked to be rebuilt at the next sign-in), not as a bug."""
    if session is None:
        return error
    from fieldapp import cache_rebuild  # with the cache's driver: not for the sign-in window
    damaged = cache_rebuild.damage_met(session, error)
    if damaged is None:
        return error
    damaged.__cause__ = error
    return damaged


class _Relay(QObject):
    """Lives in the UI thread; a signal emitted from a worker is delivered here, queued."""

    finished = Signal(object)


class Tasks:
    """The app's two workers. `session` is only used to open each worker's own connection.
    `on_changes(tables)` hears of every job that wrote to the cache, after its callbacks."""

    def __init__(self, session: Session | None, on_error: Callable[[BaseException], None],
                 on_changes: Callable[[frozenset[str]], None] | None = None):
        opener = session.reopen if session is not None else None
        self._on_error = on_error
        self._on_changes = on_changes
        self._relay = _Relay()
        self._relay.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._pending = 0
        self._closed = False
        self._db = Worker("tandem-db", opener, self._relay.finished.emit)
        self._net = Worker("tandem-net", opener, self._relay.finished.emit)

    def db(self, fn: Callable, *args, **kwargs) -> Op:
        """A job for the DB worker: ``fn(db_session, *args, **kwargs)``."""
        return Op(self, self._db, fn, args, kwargs)

    def net(self, fn: Callable, *args, **kwargs) -> Op:
        """A job for the network worker: ``fn(net_session, *args, **kwargs)``."""
        return Op(self, self._net, fn, args, kwargs)

    @property
    def idle(self) -> bool:
        """No job queued, running, or waiting for its callback."""
        return self._pending == 0

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, timeout: float = 30.0) -> bool:
        """Accept no more work; the workers finish what is queued (a draft being saved must
        land) and end, closing their connections. Waits up to `timeout` s in all for that (a
        network job should be cancelled first); True if both have ended."""
        if not self._closed:
            self._closed = True
            self._db.stop()
            self._net.stop()
        deadline = time.monotonic() + timeout
        return all([self._db.join(max(0.0, deadline - time.monotonic())),
                    self._net.join(max(0.0, deadline - time.monotonic()))])

    def _submit(self, worker: Worker, op: Op) -> None:
        if self._closed:
            raise RuntimeError("the app is closing; no new work is accepted")
        self._pending += 1
        worker.put(op)

    def _deliver(self, op: Op) -> None:
        self._pending -= 1
        if self._closed:
            return
        if op.error is None:
            if op.on_success:
                op.on_success(op.result)
        elif op.on_failure:
            op.on_failure(op.error)
        else:
            self._on_error(op.error)
        if op.changed and self._on_changes is not None and not self._closed:
            self._on_changes(op.changed)
