"""HTTP to one agency server: HTTPS only (plain HTTP to this machine), gzip both ways,
retries with exponential backoff and full jitter for network errors, timeouts, 429 and 5xx
(network errors for at most RETRY_WITHIN_S of one request, however the jitter falls),
and the access token refreshed from the refresh token when it is about to run out (or the
server refuses it), not at every sync.

Every request names this laptop's version and protocol (protocol.LAPTOP_HEADERS); an answer
from a server speaking an older protocol, or a refusal of this laptop as too old, stops the
exchange before anything is sent (VersionMismatch).

The errors a caller can act on are its own types: SyncFailed (the server refused, with its
machine-readable `code`), NoServer, DeviceRevoked, VersionMismatch, SignInRejected; a
network failure is requests' own exception (`sync.failures` says which, in words a crew can
act on), but a timeout, which is NoAnswer: it names the request and what it waited for.
With a `cancel` (sync.cancel), another thread can stop it within moments, even mid-request.
"""

import gzip
import json
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter

from fieldapp.errors import TandemError

from . import protocol as P
from .cancel import Cancel, Cancelled

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
TIMEOUT = (10, 120)  # connect, read (seconds)
RETRY_WITHIN_S = 120.0  # no new try of a request after a network error past this
ACCESS_MARGIN_S = 60  # an access token with less left than this is refreshed first


class SyncFailed(TandemError):
    """The server refused a request for a reason retrying will not fix; `code` is the
    server's machine-readable reason (e.g. cursor_expired), when it gave one, and `status`
    the HTTP status it answered with."""

    def __init__(self, message: str, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.code, self.status = code, status


class NoServer(SyncFailed):
    """This cache has never signed in online, so there is nowhere to sync."""


class DeviceRevoked(SyncFailed):
    """The agency revoked this device; its copy has been wiped."""


class SignInRejected(SyncFailed):
    """The server no longer accepts this laptop's sign-in (its refresh token): the user must
    sign in online again."""


class ServerTrouble(requests.ConnectionError):
    """The server kept answering 5xx or 429 through every retry: reachable, not serving."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class NoAnswer(requests.Timeout):
    """A request waited past its timeout: says which request, what it asked for, and how
    long it waited (requests' own says only the host and the timeout). Its cause is
    requests' own timeout, so `failures.classify` reads it as before."""


class VersionMismatch(SyncFailed):
    """This laptop and the server cannot sync until one is updated; the message says which
    and to what version. Nothing was sent: the outbox waits, and the laptop works offline."""


@dataclass
class Transport:
    """HTTP to one agency server: retries with backoff and jitter, access-token refresh."""

    server_url: str
    http: requests.Session = field(default_factory=requests.Session)
    refresh_token: str | None = None
    access_token: str | None = None
    tokens: "RotatingTokens | None" = None  # keeps each rotated refresh token (credentials)
    max_attempts: int = 6
    backoff_s: float = 0.5
    backoff_cap_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    cancel: Cancel | None = None
    on_retry: Callable[[BaseException], None] | None = None  # hears why it asks again
    requests_made: int = 0
    bytes_received: int = 0  # JSON, after gzip is undone
    wire_bytes_received: int = 0  # as they crossed the network
    wire_bytes_sent: int = 0
    server_time: str | None = None
    access_expires: float | None = None  # time.time() when the access token runs out

    def __post_init__(self):
        self.server_url = check_server_url(self.server_url)
        if self.cancel is not None:
            adapter = _Abortable()
            self.http.mount("http://", adapter)
            self.http.mount("https://", adapter)
            self.cancel.on_cancel(adapter.abort)
            self.sleep = self.cancel.sleep

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.cancelled

    def call(self, method: str, path: str, *, body=None, params=None, auth: bool = True,
             may_refresh: bool = True) -> dict:
        """One request, retried. `may_refresh=False` (another thread's request: a refresh
        writes the rotated token to the cache, which only its own thread may use) raises
        RefreshNeeded where a new access token would be asked for."""
        refreshed, started = False, time.monotonic()
        for attempt in range(1, self.max_attempts + 1):
            if self.cancel is not None:
                self.cancel.check()
            if auth and (self.access_token is None or self.access_expires is not None
                         and self.access_expires - time.time() < ACCESS_MARGIN_S):
                if not may_refresh:
                    raise RefreshNeeded(f"{method} {path}")
                self._refresh()
            headers, data = {"Accept-Encoding": "gzip", **P.LAPTOP_HEADERS}, None
            if body is not None:
                raw = _body_text(body).encode()
                data = gzip.compress(raw, 5) if len(raw) > 4096 else raw
                headers["Content-Type"] = "application/json"
                if data is not raw:
                    headers["Content-Encoding"] = "gzip"
            if auth:
                headers["Authorization"] = f"Bearer {self.access_token}"
            try:
                self.requests_made += 1
                response = self.http.request(method, self.server_url + P.PREFIX + path,
                                             data=data, params=params, headers=headers,
                                             timeout=TIMEOUT)
                self.bytes_received += len(response.content)
                self.wire_bytes_received += response.raw.tell() if response.raw else 0
                self.wire_bytes_sent += len(data or b"")
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as e:
                if self.cancelled:
                    raise Cancelled("the sync was stopped") from e
                delay = self._delay(attempt)
                if (attempt == self.max_attempts
                        or time.monotonic() - started + delay > RETRY_WITHIN_S):
                    if isinstance(e, requests.Timeout):
                        raise NoAnswer(_waited(method, path, params, body, e, attempt,
                                               self.server_url)) from e
                    raise
                self._retrying(e)
                self.sleep(delay)
                continue
            if response.status_code == 401 and auth and not refreshed:
                if not may_refresh:
                    raise RefreshNeeded(f"{method} {path}")
                refreshed, self.access_token = True, None
                continue
            if (response.status_code == 429 and auth) or response.status_code >= 500:
                # a throttled sign-in (429 without auth) is the user's to wait for, not ours
                if attempt == self.max_attempts:
                    raise ServerTrouble(f"{self.server_url} kept answering "
                                        f"{response.status_code}", response.status_code)
                self._retrying(ServerTrouble(f"{self.server_url} answered "
                                             f"{response.status_code}", response.status_code))
                self._wait(attempt, response.headers.get("Retry-After"))
                continue
            try:
                payload = _payload(response)
            except Unreadable as e:
                if not response.ok:
                    raise SyncFailed(f"{method} {path}: {response.status_code} {e}",
                                     status=response.status_code) from None
                # a 200 whose body does not parse: cut off in transit, so ask again
                damaged = requests.ConnectionError(f"{path}: the answer arrived damaged")
                if attempt == self.max_attempts:
                    raise damaged from e
                self._retrying(damaged)
                self._wait(attempt)
                continue
            if behind := P.server_behind(response.headers):  # even a refusal: an older
                raise VersionMismatch(behind, P.SERVER_TOO_OLD)  # server refuses newer fields
            if response.ok:
                self.server_time = payload.get("server_time", self.server_time)
                return payload
            detail = _said(payload.get("detail", response.reason))
            if payload.get("code") == "device_revoked":
                raise DeviceRevoked(detail, status=response.status_code)
            if payload.get("code") in (P.UPDATE_REQUIRED, P.SERVER_TOO_OLD):
                raise VersionMismatch(detail, payload["code"], response.status_code)
            raise SyncFailed(f"{method} {path}: {response.status_code} {detail}",
                             payload.get("code"), response.status_code) from None
        raise AssertionError("unreachable")

    def _refresh(self) -> None:
        """A new access token. The refresh token rotates: with `tokens`, the next one is
        proposed and stored before asking, and kept once the server agrees, so a lost answer
        or a crash never leaves this laptop holding only a token the server retired."""
        proposed = None
        if self.tokens is not None:
            self.refresh_token, proposed = self.tokens.propose()
        if not self.refresh_token:
            raise SyncFailed("not signed in to the agency server: run 'tandem login'")
        body = {"refresh_token": self.refresh_token}
        if proposed:
            body["next_refresh_token"] = proposed
        try:
            try:
                answer = self.call("POST", "/refresh", auth=False, body=body)
            except SyncFailed as e:  # restored to an older token? offer the ones retired
                if e.code != P.UNKNOWN_TOKEN or self.tokens is None or not (
                        earlier := self.tokens.earlier()):
                    raise
                answer = self.call("POST", "/refresh", auth=False,
                                   body={**body, "earlier": earlier})
        except SyncFailed as e:
            if isinstance(e, (DeviceRevoked, VersionMismatch)):
                raise
            raise SignInRejected(f"the agency server refused this sign-in ({e}); "
                                 "sign in again online", e.code) from None
        self.access_token = answer["access_token"]
        self.access_expires = time.time() + float(answer.get("expires_in") or 0)
        if answer.get("refresh_token"):
            if self.tokens is not None:
                self.tokens.rotated(answer["refresh_token"])
            self.refresh_token = answer["refresh_token"]
        if self.tokens is not None:  # kept once the rotation is, so a crash finishes it
            self.tokens.keep_access(self.access_token, self.access_expires)

    def _retrying(self, why: BaseException) -> None:
        """Tell `on_retry` why the request failed, before waiting to ask again: the app says
        so at once rather than seeming online through every retry."""
        if self.on_retry is not None:
            self.on_retry(why)

    def _wait(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self._delay(attempt)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), self.backoff_cap_s))
        self.sleep(delay)

    def _delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_cap_s, self.backoff_s * 2 ** (attempt - 1)))


class JsonItems(list):
    """A body's list whose items are JSON texts already (the outbox keeps each op as JSON):
    written into the body as they are, not parsed and encoded again."""


def _body_text(body: dict) -> str:
    text = json.dumps({k: v for k, v in body.items() if not isinstance(v, JsonItems)},
                      ensure_ascii=False, separators=(",", ":"))
    for k, items in body.items():
        if isinstance(items, JsonItems):
            text = f'{text[:-1]}{"" if text == "{}" else ","}{json.dumps(k)}:[{",".join(items)}]}}'
    return text


def _waited(method: str, path: str, params, body, error: requests.Timeout, attempts: int,
            server_url: str) -> str:
    """'GET /pull (after 4000, limit 2000): no answer from <server> within the 120 s read
    timeout (1 try)'."""
    asked = [f"{k} {v}" for k, v in (params or {}).items() if k in ("after", "limit", "since")]
    asked += [f"{len(v)} {k}" for k, v in (body or {}).items() if isinstance(v, list)]
    connect, read = TIMEOUT
    waited = (f"could not connect to {server_url} within the {connect} s connect timeout"
              if isinstance(error, requests.ConnectTimeout)
              else f"no answer from {server_url} within the {read} s read timeout")
    what = f" ({', '.join(asked)})" if asked else ""
    tries = "1 try" if attempts == 1 else f"{attempts} tries"
    return f"{method} {path}{what}: {waited} ({tries})"


class RefreshNeeded(Exception):
    """A request that needs a new access token, made where none may be asked for: ask again
    on the session's own thread."""


class Unreadable(ValueError):
    """An answer whose body is not a JSON object (cut off in transit, or not from Tandem)."""


class RotatingTokens(Protocol):
    """Where a laptop keeps its refresh token while it rotates (sync/credentials.py)."""

    def propose(self) -> tuple[str | None, str]:
        """(the current token, the next one, stored before the server is asked)."""

    def rotated(self, token: str) -> None:
        """The server agreed: `token` is now the current one."""

    def keep_access(self, token: str, expires: float) -> None:
        """A new access token, good until `expires` (time.time()), for the next syncs."""


class _Abortable(HTTPAdapter):
    """Keeps every connection it opens, so that `abort` (from another thread) can shut their
    sockets: a read blocked on a silent server then ends at once instead of at its timeout."""

    def __init__(self):
        self._lock = threading.Lock()
        self._connections: list = []
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        pools = self.poolmanager.pool_classes_by_scheme
        self.poolmanager.pool_classes_by_scheme = {
            scheme: self._tracking(pool) for scheme, pool in pools.items()}

    def _tracking(self, pool_class):
        adapter = self

        class Tracking(pool_class):
            def _new_conn(self):
                conn = super()._new_conn()
                with adapter._lock:
                    adapter._connections.append(conn)
                return conn
        return Tracking

    def abort(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _said(detail) -> str:
    """A refusal's detail as words: a 422's list of problems as "where: what" each
    ("password: String should have at most 1024 characters"), anything else as it came."""
    if isinstance(detail, list) and all(isinstance(e, dict) and "msg" in e for e in detail):
        return "; ".join(": ".join(filter(None, [".".join(map(str, e.get("loc", [])[1:])),
                                                 str(e["msg"])])) for e in detail)
    return str(detail)


def _payload(response: requests.Response) -> dict:
    try:
        payload = response.json()
    except ValueError:
        raise Unreadable(f"unreadable answer: {response.text[:200]!r}") from None
    if not isinstance(payload, dict):
        raise Unreadable(f"an answer that is not an object: {str(payload)[:200]}")
    return payload


def check_server_url(url: str) -> str:
    """HTTPS always, plain HTTP only to this machine."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise TandemError(f"{url!r} is not a server address like https://tandem.agency.gov")
    if parsed.scheme == "http" and parsed.hostname not in LOCAL_HOSTS:
        raise TandemError(f"{url}: plain HTTP is allowed only to localhost; use https://")
    return url.rstrip("/")

