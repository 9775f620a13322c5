"""Which laptops this server talks to, while a fleet upgrades one laptop at a time.

Every answer names this server's app version and protocol and the oldest laptop version it
accepts (the TANDEM_MIN_APP_VERSION setting). A laptop request below that oldest version gets
426 `update_required`, saying which version to install; one speaking a newer protocol than
this server gets 409 `server_too_old`. Neither reaches the database, so nothing the laptop
sends is applied: it keeps its outbox until one side is updated. A request naming no version
comes from a release before the headers (protocol 1, `protocol.OLDEST_LAPTOP`). The health
check and the CAD integration (not a laptop) are not gated.
"""

import json

from fieldapp import __version__

from .. import protocol as P

GATED = P.PREFIX + "/"
NOT_GATED = {P.PREFIX + "/health"}


class VersionGate:
    """Laptops name their version and protocol in the X-Tandem-Version and X-Tandem-Protocol
    headers of every request (none: 0.1.0, protocol 1). Every answer names the server's, and
    the oldest laptop version it accepts in X-Tandem-Min-Version; an older laptop gets 426
    (code update_required), one speaking a newer protocol 409 (code server_too_old)."""

    def __init__(self, app, oldest: str = P.OLDEST_LAPTOP):
        self.app, self.oldest, self.oldest_parsed = app, oldest, P.parse_version(oldest)
        self.stated = [(P.VERSION_HEADER.lower().encode(), __version__.encode()),
                       (P.PROTOCOL_HEADER.lower().encode(), str(P.VERSION).encode()),
                       (P.MIN_VERSION_HEADER.lower().encode(), oldest.encode())]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def stating(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.stated]}
            await send(message)

        refusal = self.refusal(scope) if scope["path"].startswith(GATED) else None
        if refusal is None:
            return await self.app(scope, receive, stating)
        status, detail, code = refusal
        body = json.dumps({"detail": detail, "code": code, "min_version": self.oldest}).encode()
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        if status == 426:  # HTTP asks a 426 to name what to upgrade to
            headers.append((b"upgrade", f"Tandem/{self.oldest}".encode()))
        await stating({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def refusal(self, scope) -> tuple[int, str, str] | None:
        if scope["path"] in NOT_GATED:
            return None
        headers = dict(scope["headers"])
        version = headers.get(P.VERSION_HEADER.lower().encode(), b"").decode("latin-1")
        protocol = headers.get(P.PROTOCOL_HEADER.lower().encode(), b"1").decode("latin-1")
        try:
            laptop = P.parse_version(version or P.OLDEST_LAPTOP)
        except ValueError as e:
            return 400, f"{P.VERSION_HEADER}: {e}", "error"
        if not (protocol.isascii() and protocol.isdigit() and len(protocol) <= 6):
            return 400, f"{P.PROTOCOL_HEADER}: {protocol[:40]!r} is not a whole number", "error"
        if laptop < self.oldest_parsed:
            return (426, f"update Tandem to sync: this agency server accepts Tandem {self.oldest} "
                    f"or later, and this laptop runs {version or P.OLDEST_LAPTOP}",
                    P.UPDATE_REQUIRED)
        if int(protocol) > P.VERSION:
            return (409, f"the agency server must be updated to sync: it runs Tandem "
                    f"{__version__} (protocol {P.VERSION}), and this laptop speaks protocol "
                    f"{protocol}", P.SERVER_TOO_OLD)
        return None
