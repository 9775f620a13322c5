"""What the laptop makes of answers that are not the agency server's usual JSON, from a real
HTTP server that answers as told: errors are told apart by type and status, never by words."""

import http.server
import json
import threading

import pytest
import requests

from sync import protocol as P
from sync import roster, transport
from tests.ports import free_port


@pytest.fixture
def answers():
    """A loopback HTTP server of this release; `answers[path] = (status, body)` says what it
    answers."""
    told: dict[str, tuple[int, bytes]] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = told.get(self.path.split("?")[0], (404, b"not here"))
            self.send_response(status)
            for name, value in P.LAPTOP_HEADERS.items():  # a server of this release
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    told["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield told
    server.shutdown()
    server.server_close()
    thread.join()


def link(answers) -> transport.Transport:
    return transport.Transport(answers["url"], max_attempts=2, sleep=lambda _s: None)


def test_an_answer_that_happens_to_hold_only_a_detail_is_an_answer(answers):
    answers["/v1/summary"] = (200, json.dumps({"detail": "all well"}).encode())
    assert link(answers).call("GET", "/summary", auth=False) == {"detail": "all well"}


def test_a_damaged_answer_is_asked_for_again_then_given_up(answers):
    answers["/v1/summary"] = (200, b'{"count": 3, "ha')
    t = link(answers)
    with pytest.raises(requests.ConnectionError, match="damaged"):
        t.call("GET", "/summary", auth=False)
    assert t.requests_made == 2


def test_a_refusal_carries_its_status_whatever_its_body(answers):
    answers["/v1/pull"] = (418, b"<html>teapot</html>")
    with pytest.raises(transport.SyncFailed) as refused:
        link(answers).call("GET", "/pull", auth=False)
    assert refused.value.status == 418 and refused.value.code is None


def test_a_422_is_said_as_where_and_what(answers):
    """FastAPI's list of problems reaches the sign-in screen as words, not a Python list."""
    answers["/v1/pull"] = (422, json.dumps({"detail": [
        {"type": "string_too_long", "loc": ["body", "password"],
         "msg": "String should have at most 1024 characters", "ctx": {"max_length": 1024}},
        {"type": "missing", "loc": ["query", "after"], "msg": "Field required"}]}).encode())
    with pytest.raises(transport.SyncFailed) as refused:
        link(answers).call("GET", "/pull", auth=False)
    assert str(refused.value) == ("GET /pull: 422 password: String should have at most 1024 "
                                  "characters; after: Field required")


def test_a_server_without_a_roster_leaves_the_laptops_as_it_is(answers, officer):
    t = link(answers)
    t.access_token = "a token"  # this server does not check it
    assert roster.pull_roster(officer, t) == (0, False)  # 404: an older server
    answers["/v1/roster"] = (409, json.dumps({"detail": "not 404 either", "code": "x"}).encode())
    with pytest.raises(transport.SyncFailed) as refused:
        roster.pull_roster(officer, t)
    assert refused.value.status == 409


def test_network_errors_are_retried_for_a_bounded_time_not_a_count(monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"  # a port nothing listens on: refused at once
    slept = []
    t = transport.Transport(url, max_attempts=6, sleep=slept.append)
    with pytest.raises(requests.ConnectionError):
        t.call("GET", "/summary", auth=False)
    assert t.requests_made == 6  # within the time allowed, every try is made

    monkeypatch.setattr(transport, "RETRY_WITHIN_S", 0.0)
    t = transport.Transport(url, max_attempts=6, sleep=slept.append)
    with pytest.raises(requests.ConnectionError):
        t.call("GET", "/summary", auth=False)
    assert t.requests_made == 1  # past it, no new try, whatever the count allows


def test_each_retry_is_heard_before_its_wait_with_why(answers):
    """The app says it is offline while a request is asked again, not once the tries run out:
    `on_retry` hears why before each wait, and never for the try that gives up."""
    heard, events = [], []
    t = transport.Transport(f"http://127.0.0.1:{free_port()}", max_attempts=3,
                            sleep=lambda s: events.append("wait"),
                            on_retry=lambda e: (heard.append(e), events.append("heard")))
    with pytest.raises(requests.ConnectionError):
        t.call("GET", "/summary", auth=False)
    assert events == ["heard", "wait", "heard", "wait"]
    assert all(isinstance(e, requests.ConnectionError) for e in heard)

    answers["/v1/summary"] = (503, b"restoring")
    heard.clear()
    t = transport.Transport(answers["url"], max_attempts=2, sleep=lambda _s: None,
                            on_retry=heard.append)
    with pytest.raises(transport.ServerTrouble):
        t.call("GET", "/summary", auth=False)
    assert [(type(e), e.status) for e in heard] == [(transport.ServerTrouble, 503)]
