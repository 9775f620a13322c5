"""Why a sync did not happen, read from what really goes wrong: a port nobody listens on, a
server that never answers, a name that does not resolve, HTTPS to a plain-HTTP server, a
server that keeps failing or hangs up, a refused sign-in, a revoked laptop, an app too old.
Each is met for real and classified from the exception the transport raises. Also stopping a
sync from another thread, mid-request."""

import http.server
import socket
import threading
import time

import pytest

from fieldapp import changes, outreach
from sync import credentials, engine, failures
from sync import transport as T
from sync.cancel import Cancel, Cancelled
from sync.server import cli
from sync.server.embedded import serve_in_thread
from tests.ports import free_port


@pytest.fixture
def db_url(tmp_path):
    """The agency's database: SQLite is enough here (nothing of this is in the database)."""
    return f"sqlite:///{tmp_path / 'server' / 'agency.db'}"


def failure_of(url: str, **kw) -> failures.Failure:
    with pytest.raises(Exception) as raised:
        T.Transport(url, max_attempts=1, **kw).call("GET", "/health", auth=False)
    found = failures.classify(raised.value, url)
    assert found is not None, repr(raised.value)
    return found


@pytest.fixture
def silent():
    """A port that takes connections (the kernel's backlog) and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    yield f"http://127.0.0.1:{s.getsockname()[1]}"
    s.close()


def serve(handler) -> tuple[str, http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


class Unavailable(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class HangsUp(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args):
        pass


def test_a_port_nobody_listens_on_is_a_refused_connection():
    found = failure_of(f"http://127.0.0.1:{free_port()}")
    assert (found.kind, found.retry) == ("refused", True)
    assert found.short == "agency server not answering (connection refused)"


def test_a_server_that_never_answers_times_out(monkeypatch, silent):
    monkeypatch.setattr(T, "TIMEOUT", (2, 0.5))
    found = failure_of(silent)
    assert found.kind == "timed_out" and "weak signal" in found.short


def test_a_name_that_does_not_resolve_is_named():
    found = failure_of("https://tandem.no-such-agency.invalid")
    assert found.kind == "name_not_found"
    assert found.short == "server name not found (tandem.no-such-agency.invalid)"


def test_https_to_a_server_without_tls_is_a_tls_problem(agency):
    found = failure_of(agency.url.replace("http://", "https://"))
    assert (found.kind, found.retry) == ("tls", False)
    assert "call agency IT" in found.advice


def test_a_server_that_keeps_failing_is_in_trouble_not_gone():
    url, server = serve(Unavailable)
    try:
        found = failure_of(url)
    finally:
        server.shutdown()
    assert found.kind == "server_error" and "HTTP 503" in found.short


def test_a_server_that_hangs_up_dropped_the_connection():
    url, server = serve(HangsUp)
    try:
        found = failure_of(url)
    finally:
        server.shutdown()
    assert found.kind == "dropped"


def test_a_refused_sign_in_asks_for_an_online_sign_in(agency, laptop):
    officer = laptop("ofc.ramirez")
    credentials.save_refresh_token(officer, "a token this server never issued")
    with officer.db.atomic():  # and the access token ran out: the sync must refresh
        officer.db.execute("DELETE FROM access_token")
    with pytest.raises(T.SignInRejected) as raised:
        engine.run_sync(officer)
    found = failures.classify(raised.value)
    assert (found.kind, found.retry) == ("sign_in_rejected", False)
    assert found.short == "sign-in rejected: sign in online again"


def test_a_revoked_laptop_is_told_so(agency, laptop):
    officer = laptop("ofc.ramirez")
    assert cli.main(["--db", agency.db_url, "revoke-device", officer.device_id]) == 0
    with pytest.raises(T.DeviceRevoked) as raised:
        engine.run_sync(officer)
    assert failures.classify(raised.value).kind == "revoked"


def test_an_app_older_than_the_server_needs_is_told_to_update(agency, laptop):
    officer = laptop("ofc.ramirez")
    outreach.log_contact(officer, supplies=["water"])
    gated = serve_in_thread(agency.db_url, min_app_version="99.0")  # the server moved on
    try:
        with officer.db.atomic():
            officer.db.execute("UPDATE sync_state SET server_url = ?", [gated.url])
        with pytest.raises(T.VersionMismatch) as raised:
            engine.run_sync(officer)
    finally:
        gated.stop()
    found = failures.classify(raised.value)
    assert (found.kind, found.retry) == ("too_old", False)
    assert found.short.startswith("update Tandem to sync") and "99.0" in found.short
    assert changes.pending_ops(officer) == 1  # kept for the updated app to send


def test_a_cancelled_sync_stops_at_once_even_mid_request(silent):
    """Signing out must not wait for a server that never answers: cancel() cuts the request
    off (its socket is shut), and no retry follows."""
    cancel = Cancel()
    transport = T.Transport(silent, cancel=cancel)
    outcome = {}

    def call():
        started = time.monotonic()
        try:
            transport.call("GET", "/health", auth=False)
        except BaseException as e:  # noqa: BLE001 - the test reads what came out
            outcome["error"] = e
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.5)  # connected, and waiting for an answer
    cancel.cancel()
    worker.join(5)
    assert not worker.is_alive()
    assert isinstance(outcome["error"], Cancelled) and outcome["seconds"] < 2
    assert failures.classify(outcome["error"]).kind == "cancelled"
