"""Why a sync did not happen, in words a crew can act on: the status bar's "Offline · …", and
the sign-in and Settings screens' messages.

Read from the exceptions the transport really raises: requests' (with urllib3's and the
socket's underneath, as their causes) for the network, the transport's own for the server's
refusals. Anything else is not a connection problem, and `classify` returns None for it.
"""

import errno
import ssl
from dataclasses import dataclass
from urllib.parse import urlparse

import requests
from urllib3.exceptions import NameResolutionError

from .cancel import Cancelled
from . import protocol as P
from .transport import (DeviceRevoked, NoServer, ServerTrouble, SignInRejected, SyncFailed,
                        VersionMismatch)


@dataclass(frozen=True)
class Failure:
    kind: str
    short: str  # after "Offline · " in the status bar
    advice: str  # what to do, in a sentence or two
    retry: bool  # a network condition that may pass by itself: try again soon

    @property
    def text(self) -> str:
        return f"{self.short[0].upper()}{self.short[1:]}. {self.advice}"


def classify(error: BaseException, server_url: str | None = None) -> Failure | None:
    """The failure `error` stands for, or None when it is not about reaching the server."""
    host = urlparse(server_url).hostname if server_url else None
    where = f" ({host})" if host else ""
    chain = list(_chain(error))
    if any(isinstance(e, Cancelled) for e in chain):
        return Failure("cancelled", "sync stopped", "It goes on at the next sync.", True)
    if isinstance(error, DeviceRevoked):
        return Failure("revoked", "this laptop was revoked",
                       "The agency revoked this laptop and its copy of your data was wiped. "
                       "Call agency IT.", False)
    if isinstance(error, VersionMismatch):  # its message says which side, and what version
        kind = "server_too_old" if error.code == P.SERVER_TOO_OLD else "too_old"
        return Failure(kind, str(error), "Your changes stay on this laptop until then.", False)
    if isinstance(error, SignInRejected) or (isinstance(error, SyncFailed)
                                             and error.code == "unauthorized"):
        return Failure("sign_in_rejected", "sign-in rejected: sign in online again",
                       "The agency server no longer accepts this laptop's sign-in. Sign out, "
                       "then sign in with the agency server's address filled in.", False)
    if isinstance(error, NoServer):
        return Failure("no_server", "no agency server set",
                       "Set the agency server's address in Settings, or sign in online.", False)
    if isinstance(error, ServerTrouble):
        return Failure("server_error", f"the agency server is in trouble (HTTP {error.status})",
                       "It answers but cannot serve now; Tandem keeps trying. If it lasts, "
                       "call agency IT.", True)
    if not any(isinstance(e, (requests.RequestException, OSError)) for e in chain):
        return None
    if any(isinstance(e, (requests.exceptions.SSLError, ssl.SSLError)) for e in chain):
        return Failure("tls", "TLS certificate problem",
                       f"The agency server{where} could not prove who it is (its certificate "
                       "was not accepted). Do not work around it: call agency IT.", False)
    if any(isinstance(e, NameResolutionError) or type(e).__name__ == "gaierror" for e in chain):
        return Failure("name_not_found", f"server name not found{where}",
                       "The laptop cannot look the server's name up: no network here, or a "
                       "wrong address in Settings.", True)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return Failure("refused", "agency server not answering (connection refused)",
                       "The server is down or the address is wrong. Tandem keeps working "
                       "and tries again; if it lasts, check the address in Settings or call "
                       "agency IT.", True)
    if any(isinstance(e, (requests.Timeout, TimeoutError)) for e in chain):
        return Failure("timed_out", "no answer in time (weak signal?)",
                       "The connection is too slow or was lost on the way. Tandem tries "
                       "again; better signal helps.", True)
    if any(isinstance(e, OSError) and e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH,
                                                  errno.ENETDOWN) for e in chain):
        return Failure("no_network", "no network",
                       "This laptop has no network connection. Tandem keeps working "
                       "offline and sends your changes when it is back.", True)
    return Failure("dropped", "the connection dropped",
                   "The connection to the agency server broke off. Tandem tries again.", True)


def _chain(error: BaseException):
    """`error` and everything it wraps: causes, contexts, urllib3's `reason`, exception args."""
    seen, todo = set(), [error]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
