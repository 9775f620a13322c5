"""The agency server's HTTP API (FastAPI). Each request opens its own transaction; nothing
is kept in the process between requests, so several workers can serve one PostgreSQL.

Every malformed request gets a 4xx with a message: bodies over the limit 413 (checked before
and after gzip), bad JSON 400, bad shapes 422, bad tokens 401, revoked devices 403. A database
that is busy or unreachable answers 503 so the laptop retries.
"""

import json
import zlib
from typing import Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware

from fieldapp.errors import ValidationError
from fieldapp.timeutil import now_iso

from .. import protocol as P
from . import accounts, directory, exchange, intake_web, integrations, recovery, restore
from .db import make_engine, read_meta
from .logs import AccessLog
from .versions import VersionGate


class Op(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op_id: str = Field(min_length=1, max_length=64)
    table: str = Field(min_length=1, max_length=64)
    record_id: str = Field(min_length=1, max_length=36)
    kind: str = Field(min_length=1, max_length=16)
    fields: dict[str, Any]
    base: dict[str, Any] = {}
    base_version: int = Field(ge=0)
    hlc: str = Field(min_length=1, max_length=80)


class PushBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ops: list[Op] = Field(max_length=P.PUSH_MAX_OPS)


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    device_id: str | None = Field(default=None, min_length=1, max_length=64)
    device_name: str = Field(default="", max_length=200)


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=200)


class FetchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] = Field(max_length=P.PULL_PAGE_MAX)


class OfferKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=36)
    version: int = Field(ge=0, le=2**31)
    updated_hlc: str = Field(min_length=1, max_length=80)
    confirmed: bool  # the laptop had it from this server in the epoch it names (`known`)


class OfferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keys: list[OfferKey] = Field(max_length=P.OFFER_MAX_KEYS)


class GivenRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=36)
    deleted: bool
    created_hlc: str = Field(min_length=1, max_length=80)
    updated_hlc: str = Field(min_length=1, max_length=80)
    author: str = Field(min_length=1, max_length=64)
    device: str = Field(min_length=1, max_length=64)
    fields: dict[str, Any]


class ReturnBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[GivenRecord] = Field(max_length=P.RETURN_MAX_RECORDS)


class ApiError(Exception):
    def __init__(self, status: int, detail: str, code: str = "error", **extra):
        super().__init__(detail)
        self.status, self.detail, self.code, self.extra = status, detail, code, extra


def _behind(late: restore.Behind) -> ApiError:
    """409: the caller's epoch is not the server's; the answer names the current one."""
    return ApiError(409, late.reason, P.EPOCH_CHANGED, epoch=late.epoch)


class BodyLimit:
    """ASGI middleware: refuse bodies over the limit (413) and unpack gzip bodies (bounded)."""

    def __init__(self, app, limit: int = P.REQUEST_MAX_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _plain(send, 413, f"request body over {self.limit} bytes")
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await _plain(send, 413, f"request body over {self.limit} bytes")
        if headers.get(b"content-encoding", b"").lower() == b"gzip":
            try:
                unpacker = zlib.decompressobj(wbits=31)
                body = unpacker.decompress(body, self.limit + 1)
                if len(body) > self.limit or unpacker.unconsumed_tail:
                    return await _plain(send, 413, f"request body over {self.limit} bytes unpacked")
            except zlib.error:
                return await _plain(send, 400, "request body is not valid gzip")
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"]
                                          if k not in (b"content-encoding", b"content-length")]
                     + [(b"content-length", str(len(body)).encode())]}
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _plain(send, status: int, detail: str) -> None:
    payload = json.dumps({"detail": detail, "code": "error"}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def _json(payload, records: list[str] | None = None) -> Response:
    """A JSON response; `records` (wire JSON texts from exchange) go in as its "records"."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    if records is not None:
        text = f'{text[:-1]}{"," if payload else ""}"records":[{",".join(records)}]}}'
    return Response(text, media_type="application/json")


def create_app(db: str | Engine, min_app_version: str = P.OLDEST_LAPTOP) -> FastAPI:
    engine = make_engine(db) if isinstance(db, str) else db
    app = FastAPI(title="Tandem agency server", version=str(P.VERSION),
                  description="Sync and accounts for Tandem laptops. " + VersionGate.__doc__)
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)
    app.add_middleware(BodyLimit)
    app.add_middleware(VersionGate, oldest=min_app_version)  # before a body is read
    app.add_middleware(AccessLog)  # outermost: logs 413s from BodyLimit too

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        if exc.code == "device_revoked":  # logged once the request's transaction is over
            await run_in_threadpool(log_wipe_order, exc.device_id)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": exc.detail, "code": exc.code, **exc.extra}, exc.status,
                            headers)

    @app.exception_handler(OperationalError)
    async def _db_busy(_request: Request, exc: OperationalError):
        return JSONResponse({"detail": "the database is busy or unreachable; retry later",
                             "code": "unavailable"}, 503, {"Retry-After": "1"})

    @app.exception_handler(UnicodeEncodeError)
    async def _bad_text(_request: Request, exc: UnicodeEncodeError):
        return JSONResponse({"detail": "a text value is not valid Unicode (an unpaired "
                             f"surrogate such as \\u{ord(exc.object[exc.start]):04x}); "
                             "send UTF-8 text", "code": "error"}, 400)

    @app.exception_handler(DataError)
    async def _bad_value(_request: Request, exc: DataError):
        return JSONResponse({"detail": "a value in the request cannot be stored: "
                             f"{str(exc.orig).splitlines()[0]}", "code": "error"}, 422)

    @app.exception_handler(IntegrityError)
    async def _db_race(_request: Request, exc: IntegrityError):
        return JSONResponse({"detail": "a concurrent request changed the same rows; retry",
                             "code": "unavailable"}, 503, {"Retry-After": "1"})

    def bearer(authorization: str = Header(default="")) -> str:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise ApiError(401, "missing 'Authorization: Bearer <access token>' header")
        return value

    def revoked(e: accounts.DeviceRevoked) -> ApiError:
        error = ApiError(403, f"{e}; wipe this device's copy", "device_revoked")
        error.device_id = e.device_id
        return error

    def log_wipe_order(device_id: str) -> None:
        with engine.begin() as conn:
            accounts.record_wipe(conn, device_id, "told", "the server ordered a wipe")

    def as_caller(conn, access_token: str) -> accounts.Caller:
        try:
            return accounts.authenticate(conn, access_token)
        except accounts.DeviceRevoked as e:
            raise revoked(e) from None
        except accounts.AccountError as e:
            raise ApiError(401, str(e), "unauthorized") from None

    @app.get(f"{P.PREFIX}/health")
    def health():
        with engine.connect() as conn:
            return {"status": "ok", "epoch": read_meta(conn, "epoch"), "protocol": P.VERSION}

    @app.post(f"{P.PREFIX}/login")
    def login(body: LoginBody):
        """Check a password; with a device id, also register the device and issue tokens."""
        with engine.begin() as conn:
            try:
                user = accounts.check_password(conn, body.username, body.password)
                out = {"profile": accounts.profile(user), "epoch": read_meta(conn, "epoch")}
                if body.device_id:
                    out.update(accounts.sign_in(conn, user, body.device_id, body.device_name))
            except accounts.DeviceRevoked as e:
                raise revoked(e) from None
            except accounts.AccountError as e:
                raise ApiError(401, str(e), "unauthorized") from None
        return out

    @app.post(f"{P.PREFIX}/refresh")
    def refresh(body: RefreshBody):
        with engine.begin() as conn:
            try:
                return accounts.refresh(conn, body.refresh_token)
            except accounts.DeviceRevoked as e:
                raise revoked(e) from None
            except accounts.AccountError as e:
                raise ApiError(401, str(e), "unauthorized") from None

    @app.post(f"{P.PREFIX}/wiped")
    def wiped(body: RefreshBody):
        """A revoked laptop reports that it deleted its copy (signed by its refresh token)."""
        with engine.begin() as conn:
            try:
                return {"device_id": accounts.confirm_wipe(conn, body.refresh_token),
                        "recorded": True}
            except accounts.AccountError as e:
                raise ApiError(401 if "unknown" in str(e) else 409, str(e)) from None

    # `epoch` (the epoch the laptop synced with) and `last_op` (the last op this server
    # confirmed to it) let the server refuse a request from another history generation (409
    # epoch_changed), and notice when it forgot changes (sync/server/restore.py).
    def optional_id():
        return Query(None, min_length=1, max_length=64)

    @app.post(f"{P.PREFIX}/push")
    def push(body: PushBody, epoch: str | None = optional_id(),
             last_op: str | None = optional_id(), access_token: str = Depends(bearer)):
        """Apply ops once each; per-op results: applied, duplicate, conflict, rejected, deferred."""
        ops = [op.model_dump() for op in body.ops]
        if len({op["op_id"] for op in ops}) != len(ops):
            raise ApiError(422, "an op_id appears twice in this batch")
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            late = restore.check(conn, caller, epoch, last_op=last_op, ops=ops, lock=True)
            if late is None:
                results = exchange.push(conn, caller, ops)
        if late:
            raise _behind(late)
        return _json({"results": results, "server_time": now_iso()})

    @app.get(f"{P.PREFIX}/pull")
    def pull(after: int = Query(0, ge=0, le=2**62),
             limit: int = Query(P.PULL_PAGE, ge=1, le=P.PULL_PAGE_MAX),
             epoch: str | None = optional_id(), last_op: str | None = optional_id(),
             access_token: str = Depends(bearer)):
        """Records the caller may see changed after the cursor `after`, oldest change first."""
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            late = restore.check(conn, caller, epoch, last_op=last_op, after=after)
            if late is None:
                try:
                    page = exchange.pull(conn, caller, after, limit)
                    return _json(page, page.pop("records"))
                except exchange.CursorExpired as e:
                    raise ApiError(410, str(e), "cursor_expired") from None
        raise _behind(late)

    @app.post(f"{P.PREFIX}/recovery/offer")
    def recovery_offer(body: OfferBody, known: str | None = optional_id(),
                       access_token: str = Depends(bearer)):
        """What the server wants of records a laptop holds (`known`: the epoch its copy comes
        from): held, send, deleted, out_of_scope or not_yours, one answer per record."""
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            answer = recovery.offer(conn, caller, known, [k.model_dump() for k in body.keys])
        if isinstance(answer, restore.Behind):
            raise _behind(answer)
        return _json(answer)

    @app.post(f"{P.PREFIX}/recovery/records")
    def recovery_records(body: ReturnBody, epoch: str = Query(min_length=1, max_length=64),
                         access_token: str = Depends(bearer)):
        """Take back records the server lacks or holds at an older state, with their ids,
        fields, clock stamps and authors; one result per record: restored, merged,
        unchanged, deleted (compacted away) or rejected (with the reason)."""
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            late = restore.check(conn, caller, epoch, lock=True)
            if late is None:
                results = recovery.take_back(conn, caller,
                                             [r.model_dump() for r in body.records])
        if late:
            raise _behind(late)
        return _json({"results": results})

    @app.post(f"{P.PREFIX}/records")
    def records(body: FetchBody, access_token: str = Depends(bearer)):
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            return _json({}, exchange.fetch(conn, caller, body.ids))

    @app.get(f"{P.PREFIX}/summary")
    def summary(access_token: str = Depends(bearer)):
        """Count, order-independent hash and newest change_seq of what the caller may see."""
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            return {**exchange.summary(conn, caller), "epoch": read_meta(conn, "epoch")}

    @app.get(f"{P.PREFIX}/manifest")
    def manifest(access_token: str = Depends(bearer)):
        """(table, id, version) of every record the caller may see, to repair a mismatch."""
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            return _json({"records": exchange.manifest(conn, caller)})

    @app.get(f"{P.PREFIX}/conflicts")
    def conflicts(access_token: str = Depends(bearer)):
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            return _json({"conflicts": exchange.conflicts_for(conn, caller)})

    @app.get(f"{P.PREFIX}/roster")
    def roster(access_token: str = Depends(bearer)):
        """Everyone on the caller's teams: username, display name, role, the teams shared
        with the caller, and the unit and vehicle each usually rides in."""
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            return {"members": accounts.roster(conn, caller)}

    @app.get(f"{P.PREFIX}/directory")
    def directory_changes(since: int = Query(0, ge=0, le=2**62),
                          limit: int = Query(P.DIRECTORY_PAGE, ge=1, le=P.DIRECTORY_PAGE_MAX),
                          access_token: str = Depends(bearer)):
        """Resource directory services changed after version `since` (reference data, the
        same for every role), with the current version and the server's epoch."""
        with engine.begin() as conn:
            as_caller(conn, access_token)
            return _json({**directory.changes(conn, since, limit),
                          "epoch": read_meta(conn, "epoch")})

    @app.post("/api/v1/cad/assignments", status_code=201)
    def cad_assignment(body: integrations.CadCall, response: Response,
                       x_integration_key: str = Header(default="")):
        """CAD posts a call for service for the integration's team, in Tandem's shape or as a
        NENA EIDO (JSON, with `eidoVersion`); it reaches the units' laptops on their next sync.
        201 created; 200 when the incident was already posted; 422 naming each bad field."""
        with engine.begin() as conn:
            try:
                source = integrations.authenticate(conn, x_integration_key)
            except integrations.IntegrationError as e:
                raise ApiError(401, str(e), "unauthorized") from None
            try:
                result = integrations.post_assignment(conn, source, body)
            except ValidationError as e:
                raise ApiError(422, str(e), "invalid") from None
        if result["status"] == P.DUPLICATE:
            response.status_code = 200
        return result

    app.include_router(intake_web.router(engine))  # the CRC intake board (HTML)
    app.state.engine = engine
    return app
