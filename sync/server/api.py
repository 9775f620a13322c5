"""The agency server's HTTP API (FastAPI). Each request opens its own transaction; nothing
is kept in the process between requests, so several workers can serve one PostgreSQL.

Every malformed request gets a 4xx with a message, and every answer is in the OpenAPI
description (`_errors`): bodies over the limit 413 (checked before and after gzip), bad gzip
400, bad JSON (NaN and Infinity included) or bad shapes 422, bad tokens 401, revoked devices
403, too many failed sign-ins 429. A database that is busy or unreachable answers 503 so the
laptop retries.
"""

import asyncio
import json
import zlib
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware

from fieldapp.errors import ValidationError
from fieldapp.records import is_supervisor
from fieldapp.timeutil import now_iso, parse_iso, to_iso

from .. import protocol as P
from . import (accounts, agency_settings, change_log, directory, exchange, fleet, intake_web,
               integrations, login, passwords, recovery, restore)
from .db import make_engine, read_meta, reading, retried
from .logs import AccessLog
from .versions import VersionGate

try:  # PostgreSQL's COPY raises psycopg's own errors, which SQLAlchemy does not wrap
    from psycopg import DataError as CopyDataError
    from psycopg import IntegrityError as CopyIntegrityError
except ModuleNotFoundError:  # a server on SQLite alone (the desktop bundle's demo) has no psycopg
    CopyDataError, CopyIntegrityError = DataError, IntegrityError


# Identifiers, names and stamps are printable ASCII (no NUL, no space), so every database
# stores them as sent; free text is any Unicode but NUL (an unpaired surrogate gets 400).
_NAME = r"^[!-~]+$"
_TEXT = r"^[^\x00]*$"
JSON_INT_MAX = 2**53 - 1  # the largest integer every JSON parser reads exactly


def _a_json_integer(value):
    """JSON Schema's integer takes 3 and 3.0, not true, false or "3" (pydantic would)."""
    if isinstance(value, (bool, str)):
        raise ValueError(f"must be an integer, not {json.dumps(value)}")
    return value


JsonInt = Annotated[int, BeforeValidator(_a_json_integer)]
PENDING_MAX = 2**31 - 1  # a laptop's outbox count: the device table's integer column


class Op(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op_id: str = Field(min_length=1, max_length=64, pattern=_NAME)
    table: str = Field(min_length=1, max_length=64, pattern=r"^[a-z_]+$")
    record_id: str = Field(min_length=1, max_length=36, pattern=_NAME)
    kind: str = Field(min_length=1, max_length=16, pattern=r"^[a-z]+$")
    fields: dict[str, Any]
    base: dict[str, Any] = {}
    base_version: JsonInt = Field(ge=0, le=JSON_INT_MAX)
    hlc: str = Field(min_length=1, max_length=80, pattern=_NAME,
                     description="clock stamp: <13-digit ms>-<5-digit counter>-<device>")


class PushBody(BaseModel):
    """An op id that comes twice in a batch is one op: the second gets the first's result,
    as `duplicate`, like any op id the server has seen."""

    model_config = ConfigDict(extra="forbid")
    ops: list[Op] = Field(max_length=P.PUSH_MAX_OPS)


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=_NAME)
    password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, min_length=1, max_length=32, pattern=_NAME,
                             description="the 6-digit code of the user's authenticator app, "
                                         "or one of their recovery codes")
    device_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=_NAME)
    device_name: str = Field(default="", max_length=200, pattern=_TEXT)
    recovery: StrictBool = Field(
        default=False, description="also send this device's recovery secret, with which the "
                                   "laptop opens its copy after a password reset")


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=1024, description="the current password")
    new_password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, min_length=1, max_length=32, pattern=_NAME,
                             description="the authenticator app's code (or a recovery code), "
                                         "for a user who has one")


def _iso_time(value: str) -> str:
    """An ISO 8601 time in the server's form; a ValueError (422) names what is wrong."""
    try:
        return to_iso(parse_iso(value.strip().upper()))
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an ISO 8601 time") from None


# A time as a laptop sends it: checked as it is read, so a bad one is a 422 like any field.
IsoTime = Annotated[str, Field(max_length=40, json_schema_extra={"format": "date-time"}),
                    AfterValidator(_iso_time)]


class DeviceStatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sync: Literal["started", "finished"]
    pending_changes: JsonInt = Field(ge=0, le=PENDING_MAX,
                                     description="changes in this laptop's outbox")
    oldest_pending_at: IsoTime | None = Field(
        default=None, description="when the oldest of them was made (ISO 8601; no zone: UTC)")
    check: str | None = Field(default=None, max_length=16, pattern=r"^[a-z]+$",
                              description="how the finished sync's check ended")


class OutboxReport(BaseModel):
    """A laptop's fleet report folded into its push or pull (query parameters), as POST
    /device/status has it."""
    pending_changes: int | None = Field(default=None, ge=0, le=PENDING_MAX,
                                        description="the laptop's changes waiting to be sent")
    oldest_pending_at: IsoTime | None = Field(
        default=None, description="when the oldest of them was made (ISO 8601; no zone: UTC)")


class SyncReport(OutboxReport):
    """What a laptop folds into its pull (query parameters; see GET /pull)."""
    directory_since: int | None = Field(
        default=None, ge=0, le=JSON_INT_MAX,
        description="the laptop's directory version: the page carries the changes after it")
    roster: bool = Field(default=False, description="the page carries the team roster")
    summary: bool = Field(
        default=False, description="the last page carries the end-of-sync summary")
    have_count: int | None = Field(default=None, ge=0, le=JSON_INT_MAX,
                                   description="the laptop's record count, for the check")
    have_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$",
                                  description="the laptop's hash sum, for the check")


class EnrolBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=_NAME)
    password: str = Field(min_length=1, max_length=1024)


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=200, pattern=_NAME)
    next_refresh_token: str | None = Field(
        default=None, min_length=32, max_length=200, pattern=_NAME,
        description="the refresh token to rotate to: a random value the laptop made and "
                    "stored before asking, so that if the answer is lost it can ask again")
    earlier: list[Annotated[str, Field(min_length=1, max_length=200, pattern=_NAME)]] | None = (
        Field(default=None, max_length=P.EARLIER_TOKENS_MAX,
              description="after 401 unknown_token: the refresh tokens this laptop retired, "
                          "newest first; a database restored or failed over to before them "
                          "still knows one as current, and the sign-in resumes from it"))


class WipedBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=200, pattern=_NAME)


class FetchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[Annotated[str, Field(max_length=36, pattern=_NAME)]] = Field(
        max_length=P.PULL_PAGE_MAX)


class ErrorBody(BaseModel):
    """Every refusal other than a body that does not fit its schema (422)."""

    detail: str
    code: str = "error"
    epoch: str | None = None  # with 409 epoch_changed: the server's current history generation


_WHY = {
    400: "the body is not valid gzip, is nested too deep, or holds a value the database "
         "cannot store",
    401: "no, unknown, expired or revoked token; wrong user name, password or code",
    403: "this device was revoked: wipe its copy",
    409: "the request conflicts with what the server holds; epoch_changed: it was made in an "
         "older history generation (a restore or failover): give back, then pull from 0",
    410: "the pull cursor is older than the server keeps deletions for: pull from 0",
    413: f"the body is over {P.REQUEST_MAX_BYTES} bytes, before or after gzip",
    429: "too many failed sign-ins: wait Retry-After seconds",
    503: "the database is busy or unreachable: retry after Retry-After seconds",
}


def _errors(*statuses: int) -> dict:
    """The refusals a route may answer, for its OpenAPI description."""
    return {status: {"model": ErrorBody, "description": _WHY[status]}
            for status in (400, 413, 503, *statuses)}


class StrictJsonRequest(Request):
    """A request whose JSON body is parsed strictly (protocol.strict_json): NaN, Infinity
    and overflowing numbers are refused as bad JSON instead of reaching a record."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = P.strict_json(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    def get_route_handler(self):
        handler = super().get_route_handler()

        async def strict(request: Request):
            return await handler(StrictJsonRequest(request.scope, request.receive))
        return strict


class OfferKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: str = Field(min_length=1, max_length=64, pattern=_NAME)
    id: str = Field(min_length=1, max_length=36, pattern=_NAME)
    version: JsonInt = Field(ge=0, le=2**31)
    updated_hlc: str = Field(min_length=1, max_length=80, pattern=_NAME)
    confirmed: StrictBool  # the laptop had it from this server in the epoch it names (`known`)


class OfferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keys: list[OfferKey] = Field(max_length=P.OFFER_MAX_KEYS)


class GivenRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: str = Field(min_length=1, max_length=64, pattern=_NAME)
    id: str = Field(min_length=1, max_length=36, pattern=_NAME)
    deleted: StrictBool
    created_hlc: str = Field(min_length=1, max_length=80, pattern=_NAME)
    updated_hlc: str = Field(min_length=1, max_length=80, pattern=_NAME)
    author: str = Field(min_length=1, max_length=64, pattern=_NAME)
    device: str = Field(min_length=1, max_length=64, pattern=_NAME)
    fields: dict[str, Any]


class ReturnBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[GivenRecord] = Field(max_length=P.RETURN_MAX_RECORDS)


class ApiError(Exception):
    def __init__(self, status: int, detail: str, code: str = "error",
                 headers: dict | None = None, **extra):
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code
        self.headers, self.extra = headers, extra


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
    text = P.json_text(payload)
    if records is not None:
        text = f'{text[:-1]}{"," if payload else ""}"records":[{",".join(records)}]}}'
    return Response(text, media_type="application/json")


def create_app(db: str | Engine, min_app_version: str = P.OLDEST_LAPTOP) -> FastAPI:
    engine = make_engine(db) if isinstance(db, str) else db
    app = FastAPI(title="Tandem agency server", version=str(P.VERSION),
                  description="Sync and accounts for Tandem laptops. " + VersionGate.__doc__)
    app.router.route_class = StrictJsonRoute
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)
    app.add_middleware(BodyLimit)
    app.add_middleware(VersionGate, oldest=min_app_version)  # before a body is read
    app.add_middleware(AccessLog)  # outermost: logs 413s from BodyLimit too

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        if exc.code == "device_revoked":  # logged once the request's transaction is over
            await run_in_threadpool(log_wipe_order, exc.device_id)
        headers = {**({"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}),
                   **(exc.headers or {})}
        return JSONResponse({"detail": exc.detail, "code": exc.code, **exc.extra}, exc.status,
                            headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_request: Request, exc: RequestValidationError):
        """FastAPI's 422, less the values sent: a password one character too long, or a
        whole oversized field, is not sent back to be shown or logged wherever the answer
        goes. Where and what is wrong stay (loc, msg, type, ctx)."""
        return JSONResponse({"detail": jsonable_encoder(
            [{k: v for k, v in error.items() if k != "input"} for error in exc.errors()])}, 422)

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
    @app.exception_handler(CopyDataError)
    async def _bad_value(_request: Request, exc: Exception):
        why = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return JSONResponse({"detail": f"a value in the request cannot be stored: {why}",
                             "code": "error"}, 400)

    @app.exception_handler(IntegrityError)
    @app.exception_handler(CopyIntegrityError)
    async def _db_race(_request: Request, exc: IntegrityError):
        return JSONResponse({"detail": "a concurrent request changed the same rows; retry",
                             "code": "unavailable"}, 503, {"Retry-After": "1"})

    async def bearer(authorization: str = Header(default="")) -> str:
        """The access token (checked in the request's transaction); async, as it only reads
        a header: a plain function would cost every request a trip through the threadpool."""
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

    @app.get(f"{P.PREFIX}/health", responses=_errors())
    def health():
        with engine.connect() as conn:
            return {"status": "ok", "epoch": read_meta(conn, "epoch"), "protocol": P.VERSION}

    def address(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    async def refused(e: login.Refused) -> ApiError:
        """A refused sign-in; a throttled one is answered only after login.THROTTLED_DELAY_S,
        an idle coroutine here, so a guesser's burst slows to a crawl without using a thread."""
        if e.status == 429:
            await asyncio.sleep(login.THROTTLED_DELAY_S)
        headers = {"Retry-After": str(e.retry_after)} if e.retry_after else None
        return ApiError(e.status, e.detail, e.code, headers)

    @app.post(f"{P.PREFIX}/login", responses=_errors(401, 403, 429))
    async def sign_in(body: LoginBody, request: Request):
        """Check the password and second factor (throttled per account and address); with a
        device id, also register the device and issue a token chain. The first sign-in after
        enrolment also returns the user's recovery codes, once."""
        try:
            return await run_in_threadpool(
                login.sign_in, engine, username=body.username, password=body.password,
                code=body.code, device_id=body.device_id, device_name=body.device_name,
                address=address(request), recovery=body.recovery)
        except login.Refused as e:
            raise await refused(e) from None
        except accounts.DeviceRevoked as e:
            raise revoked(e) from None
        except accounts.AccountError as e:
            raise ApiError(401, str(e), "unauthorized") from None

    @app.post(f"{P.PREFIX}/two-factor/enrol", responses=_errors(401, 409, 429))
    async def enrol(body: EnrolBody, request: Request):
        """Start enrolling an authenticator app for a user who has none: the secret and its
        otpauth URI (for a QR code). The next sign-in with the app's code completes it."""
        try:
            return await run_in_threadpool(login.enrol, engine, username=body.username,
                                           password=body.password, address=address(request))
        except login.Refused as e:
            raise await refused(e) from None

    @app.post(f"{P.PREFIX}/refresh", responses=_errors(401, 403))
    def refresh(body: RefreshBody, request: Request):
        """Rotate the refresh token: a new access token and the next refresh token. A refresh
        token used before, presented again with another proposal, revokes its sign-in."""
        with engine.begin() as conn:
            try:
                return accounts.refresh(conn, body.refresh_token, body.next_refresh_token,
                                        agency_settings.read(conn)["offline_unlock_hours"],
                                        address(request), earlier=body.earlier or ())
            except accounts.DeviceRevoked as e:
                raise revoked(e) from None
            except accounts.TokenProblem as e:
                problem = e  # committed: a reused token's chain stays revoked
            except accounts.AccountError as e:
                raise ApiError(401, str(e), "unauthorized") from None
        raise ApiError(401, str(problem), problem.code)

    @app.post(f"{P.PREFIX}/wiped", responses=_errors(401, 409))
    def wiped(body: WipedBody):
        """A revoked laptop reports that it deleted its copy (signed by its refresh token)."""
        with engine.begin() as conn:
            try:
                return {"device_id": accounts.confirm_wipe(conn, body.refresh_token),
                        "recorded": True}
            except accounts.UnknownToken as e:
                raise ApiError(401, str(e)) from None
            except accounts.AccountError as e:  # not revoked: nothing to wipe
                raise ApiError(409, str(e)) from None

    # `epoch` (the epoch the laptop synced with) and `last_op` (the last op this server
    # confirmed to it) let the server refuse a request from another history generation (409
    # epoch_changed), and notice when it forgot changes (sync/server/restore.py).
    def optional_id():
        return Query(None, min_length=1, max_length=64, pattern=_NAME)

    @app.post(f"{P.PREFIX}/push", responses=_errors(401, 403, 409))
    def push(body: PushBody, report: Annotated[OutboxReport, Query()], request: Request,
             epoch: str | None = optional_id(), last_op: str | None = optional_id(),
             access_token: str = Depends(bearer)):
        """Apply ops once each; per-op results: applied, duplicate, conflict, rejected, deferred.
        The laptop may fold its fleet report (`pending_changes`, `oldest_pending_at`) in."""
        # each op's fields as validated (model_dump copies each again); not dict(op), which
        # first asks the model for a `keys` attribute, a failed lookup dearer than the copy
        ops = [dict(vars(op)) for op in body.ops]
        oldest = report.oldest_pending_at

        def apply():
            with engine.begin() as conn:
                caller = as_caller(conn, access_token)
                change_log.join_writers(conn)  # once, before the epoch is read, for the push too
                late = restore.check(conn, caller, epoch, last_op=last_op, ops=ops)
                if late:
                    return late
                results = exchange.push(conn, caller, ops, joined=True)
                if report.pending_changes is not None:
                    fleet.report(conn, caller, app_version(request), report.pending_changes,
                                 oldest, False, None)
                return results

        results = retried(apply)
        if isinstance(results, restore.Behind):
            raise _behind(results)
        return _json({"results": results, "server_time": now_iso()})

    @app.get(f"{P.PREFIX}/pull", responses=_errors(401, 403, 409, 410))
    def pull(report: Annotated[SyncReport, Query()], request: Request,
             after: int = Query(0, ge=0, le=JSON_INT_MAX),
             limit: int = Query(P.PULL_PAGE, ge=1, le=P.PULL_PAGE_MAX),
             epoch: str | None = optional_id(), last_op: str | None = optional_id(),
             access_token: str = Depends(bearer)):
        """Records the caller may see changed after the cursor `after`, oldest change first.
        A laptop may fold the rest of an idle sync into the page (SyncReport): its
        fleet report, the directory's changes, the roster, and on the last page the summary
        (read with the page), and the first page of a first sync how many records come (its
        progress); a last page with nothing in it whose summary equals the sums
        the laptop sent ends its sync as checked, so an idle sync is this one request."""
        oldest = report.oldest_pending_at
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            late = restore.check(conn, caller, epoch, last_op=last_op, after=after)
            if late is None:
                try:
                    page = exchange.pull(conn, caller, after, limit, sums=report.summary)
                except exchange.CursorExpired as e:
                    raise ApiError(410, str(e), "cursor_expired") from None
                if report.model_fields_set:
                    page.update(_extras(conn, caller, report, page, oldest,
                                        app_version(request)))
                return _json(page, page.pop("records"))
        raise _behind(late)

    def app_version(request: Request) -> str:
        """The laptop's version (its header, which the version gate has checked)."""
        return request.headers.get(P.VERSION_HEADER, P.OLDEST_LAPTOP)

    def _extras(conn, caller, report: SyncReport, page: dict, oldest: str | None,
                app_version: str) -> dict:
        extras = {}
        if report.directory_since is not None:
            extras["directory"] = directory.changes(conn, report.directory_since,
                                                    P.DIRECTORY_PAGE)
        if report.roster:
            extras["roster"] = accounts.roster(conn, caller)
        summary = page.get("summary")  # the last page's, read with it (exchange.pull)
        finished = (summary is not None and not page["records"] and not page["withdrawn"]
                    and (report.have_count, report.have_hash)
                    == (summary["count"], summary["hash"]))
        if report.pending_changes is not None:
            fleet.report(conn, caller, app_version, report.pending_changes, oldest, finished,
                         "ok" if finished else None)
            extras["reported"] = "finished" if finished else "started"
        return extras

    @app.post(f"{P.PREFIX}/recovery/offer", responses=_errors(401, 403, 409))
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

    @app.post(f"{P.PREFIX}/recovery/records", responses=_errors(401, 403, 409))
    def recovery_records(body: ReturnBody,
                         epoch: str = Query(min_length=1, max_length=64, pattern=_NAME),
                         access_token: str = Depends(bearer)):
        """Take back records the server lacks or holds at an older state, with their ids,
        fields, clock stamps and authors; one result per record: restored, merged,
        unchanged, deleted (compacted away) or rejected (with the reason)."""
        def take_back():
            with engine.begin() as conn:
                caller = as_caller(conn, access_token)
                late = restore.check(conn, caller, epoch, lock=True)
                return late or recovery.take_back(conn, caller,
                                                  [r.model_dump() for r in body.records])

        results = retried(take_back)
        if isinstance(results, restore.Behind):
            raise _behind(results)
        return _json({"results": results})

    @app.post(f"{P.PREFIX}/records", responses=_errors(401, 403))
    def records(body: FetchBody, access_token: str = Depends(bearer)):
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            return _json({}, exchange.fetch(conn, caller, body.ids))

    @app.get(f"{P.PREFIX}/summary", responses=_errors(401, 403))
    def summary(access_token: str = Depends(bearer)):
        """Count, order-independent hash and newest change_seq of what the caller may see."""
        with reading(engine) as conn:
            caller = as_caller(conn, access_token)
            return {**exchange.summary(conn, caller), "epoch": read_meta(conn, "epoch")}

    @app.get(f"{P.PREFIX}/manifest", responses=_errors(401, 403))
    def manifest(access_token: str = Depends(bearer)):
        """(table, id, version) of every record the caller may see, to repair a mismatch."""
        with reading(engine) as conn:
            caller = as_caller(conn, access_token)
            return _json({"records": exchange.manifest(conn, caller)})

    @app.get(f"{P.PREFIX}/conflicts", responses=_errors(401, 403))
    def conflicts(access_token: str = Depends(bearer)):
        with reading(engine) as conn:
            caller = as_caller(conn, access_token)
            return _json({"conflicts": exchange.conflicts_for(conn, caller)})

    @app.get(f"{P.PREFIX}/roster", responses=_errors(401, 403))
    def roster(access_token: str = Depends(bearer)):
        """Everyone on the caller's teams: username, display name, role, the teams shared
        with the caller, and the unit and vehicle each usually rides in."""
        with reading(engine) as conn:
            caller = as_caller(conn, access_token)
            return {"members": accounts.roster(conn, caller)}

    @app.get(f"{P.PREFIX}/directory", responses=_errors(401, 403))
    def directory_changes(since: int = Query(0, ge=0, le=JSON_INT_MAX),
                          limit: int = Query(P.DIRECTORY_PAGE, ge=1, le=P.DIRECTORY_PAGE_MAX),
                          access_token: str = Depends(bearer)):
        """Resource directory services changed after version `since` (reference data, the
        same for every role), with the current version and the server's epoch."""
        with reading(engine) as conn:
            as_caller(conn, access_token)
            return _json(directory.changes(conn, since, limit))

    def integration_source(x_integration_key: str = Header(default="")):
        """The integration a key belongs to; checked before the body, so a stranger learns
        nothing of what a valid body is (401 whatever was posted)."""
        with engine.begin() as conn:
            try:
                return integrations.authenticate(conn, x_integration_key)
            except integrations.IntegrationError as e:
                raise ApiError(401, str(e), "unauthorized") from None

    @app.post("/api/v1/cad/assignments", status_code=201, responses=_errors(401))
    def cad_assignment(body: integrations.CadCall, response: Response,
                       source=Depends(integration_source)):
        """CAD posts a call for service for the integration's team, in Tandem's shape or as a
        NENA EIDO (JSON, with `eidoVersion`); it reaches the units' laptops on their next sync.
        201 created; 200 when the incident was already posted; 422 naming each bad field."""
        def post():
            with engine.begin() as conn:
                return integrations.post_assignment(conn, source, body)

        try:
            result = retried(post)
        except ValidationError as e:  # the same 422 shape as a body that fails its schema
            raise RequestValidationError([
                {"type": "value_error", "loc": ("body", field), "msg": why, "input": None}
                for field, why in e.problems.items()]) from None
        if result["status"] == P.DUPLICATE:
            response.status_code = 200
        return result

    @app.post(f"{P.PREFIX}/password", responses={**_errors(401), 403: {
        "model": ErrorBody, "description": "device_revoked; wrong_password; "
        "second_factor_required; second_factor_wrong; throttled (wait Retry-After seconds)"}})
    async def change_password(body: PasswordBody, request: Request,
                              access_token: str = Depends(bearer)):
        """The signed-in user's new password: the current one and the authenticator's code
        are checked like a sign-in (throttled, audited), then the agency's rules (400
        `password_rules`, saying what to fix). The user's other sign-ins are revoked."""
        try:
            return await run_in_threadpool(
                passwords.change, engine, access_token, password=body.password,
                new_password=body.new_password, code=body.code, address=address(request))
        except passwords.Refused as e:
            if e.code == "throttled":
                await asyncio.sleep(login.THROTTLED_DELAY_S)
            raise ApiError(e.status, e.detail, e.code, {"Retry-After": str(e.retry_after)}
                           if e.retry_after else None) from None
        except accounts.DeviceRevoked as e:
            raise revoked(e) from None
        except accounts.AccountError as e:
            raise ApiError(401, str(e), "unauthorized") from None

    @app.post(f"{P.PREFIX}/device/status", responses=_errors(401, 403))
    def device_status(body: DeviceStatusBody, request: Request,
                      access_token: str = Depends(bearer)):
        """What this laptop says of itself at the start and end of a sync: its changes
        waiting and when the oldest was made (its version is the request's header)."""
        oldest = body.oldest_pending_at
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            fleet.report(conn, caller, app_version(request), body.pending_changes, oldest,
                         body.sync == "finished", body.check)
        return {"recorded": True}

    @app.get(f"{P.PREFIX}/fleet", responses=_errors(401, 403))
    def fleet_health(access_token: str = Depends(bearer)):
        """For a supervisor: their teams' laptops, each with its version, last contact, last
        good sync, unsynced changes and the oldest one's age, and flags (unsynced work older
        than `unsynced_alert_hours`, not heard from for `device_silent_days`)."""
        with engine.begin() as conn:
            caller = as_caller(conn, access_token)
            if not is_supervisor(caller.role) and caller.role != "admin":
                raise ApiError(403, "only supervisors see their teams' laptops", "forbidden")
            return fleet.for_supervisor(conn, caller)

    app.include_router(intake_web.router(engine))  # the CRC intake board (HTML)
    app.state.engine = engine
    return app
