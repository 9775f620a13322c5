"""HTTP to one agency server: HTTPS only (plain HTTP to this machine), gzip both ways,
retries with exponential backoff and full jitter for network errors, timeouts, 429 and 5xx,
and the access token refreshed from the refresh token when it runs out.

Every request names this laptop's version and protocol (protocol.LAPTOP_HEADERS); an answer
from a server speaking an older protocol, or a refusal of this laptop as too old, stops the
exchange before anything is sent (VersionMismatch).

The errors a caller can act on are its own types: SyncFailed (the server refused, with its
machine-readable `code`), NoServer, DeviceRevoked, VersionMismatch.
"""

import gzip
import json
import random
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlparse

import requests

from fieldapp.errors import TandemError

from . import protocol as P

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
TIMEOUT = (10, 120)  # connect, read (seconds)


class SyncFailed(TandemError):
    """The server refused a request for a reason retrying will not fix; `code` is the
    server's machine-readable reason (e.g. cursor_expired), when it gave one."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


class NoServer(SyncFailed):
    """This cache has never signed in online, so there is nowhere to sync."""


class DeviceRevoked(SyncFailed):
    """The agency revoked this device; its copy has been wiped."""


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
    max_attempts: int = 6
    backoff_s: float = 0.5
    backoff_cap_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    requests_made: int = 0
    bytes_received: int = 0  # JSON, after gzip is undone
    wire_bytes_received: int = 0  # as they crossed the network
    wire_bytes_sent: int = 0
    server_time: str | None = None

    def __post_init__(self):
        self.server_url = check_server_url(self.server_url)

    def call(self, method: str, path: str, *, body=None, params=None, auth: bool = True) -> dict:
        refreshed = False
        for attempt in range(1, self.max_attempts + 1):
            if auth and self.access_token is None:
                self._refresh()
            headers, data = {"Accept-Encoding": "gzip", **P.LAPTOP_HEADERS}, None
            if body is not None:
                raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
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
                    requests.exceptions.ContentDecodingError):
                if attempt == self.max_attempts:
                    raise
                self._wait(attempt)
                continue
            if response.status_code == 401 and auth and not refreshed:
                refreshed, self.access_token = True, None
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == self.max_attempts:
                    raise requests.ConnectionError(
                        f"{self.server_url} kept answering {response.status_code}")
                self._wait(attempt, response.headers.get("Retry-After"))
                continue
            payload = _payload(response)
            if response.ok and "detail" in payload and len(payload) == 1:
                # a 200 whose body does not parse: cut off in transit, so ask again
                if attempt == self.max_attempts:
                    raise requests.ConnectionError(f"{path}: the answer arrived damaged")
                self._wait(attempt)
                continue
            if response.ok and (behind := P.server_behind(response.headers)):
                raise VersionMismatch(behind, P.SERVER_TOO_OLD)
            if response.ok:
                self.server_time = payload.get("server_time", self.server_time)
                return payload
            detail = payload.get("detail", response.reason)
            if payload.get("code") == "device_revoked":
                raise DeviceRevoked(str(detail))
            if payload.get("code") in (P.UPDATE_REQUIRED, P.SERVER_TOO_OLD):
                raise VersionMismatch(str(detail), payload["code"])
            raise SyncFailed(f"{method} {path}: {response.status_code} {detail}",
                             payload.get("code")) from None
        raise AssertionError("unreachable")

    def _refresh(self) -> None:
        if not self.refresh_token:
            raise SyncFailed("not signed in to the agency server: run 'tandem login'")
        try:
            self.access_token = self.call("POST", "/refresh", auth=False,
                                          body={"refresh_token": self.refresh_token}
                                          )["access_token"]
        except SyncFailed as e:
            if isinstance(e, (DeviceRevoked, VersionMismatch)):
                raise
            raise SyncFailed(f"the agency server refused this sign-in ({e}); "
                             "sign in again with 'tandem login'") from None

    def _wait(self, attempt: int, retry_after: str | None = None) -> None:
        delay = random.uniform(0, min(self.backoff_cap_s, self.backoff_s * 2 ** (attempt - 1)))
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), self.backoff_cap_s))
        self.sleep(delay)


def _payload(response: requests.Response) -> dict:
    try:
        payload = response.json()
    except ValueError:
        return {"detail": f"unreadable answer: {response.text[:200]!r}"}
    return payload if isinstance(payload, dict) else {"detail": str(payload)[:200]}


def check_server_url(url: str) -> str:
    """HTTPS always, plain HTTP only to this machine."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise TandemError(f"{url!r} is not a server address like https://tandem.agency.gov")
    if parsed.scheme == "http" and parsed.hostname not in LOCAL_HOSTS:
        raise TandemError(f"{url}: plain HTTP is allowed only to localhost; use https://")
    return url.rstrip("/")

