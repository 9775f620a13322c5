"""Structured logs: JSON lines on stderr (journald, a container runtime or a log shipper reads
them), and one access line per request.

An access line holds the method, the path (never the query string), the status and the
duration, nothing else: no headers (tokens), no bodies (records), no client address.
"""

import json
import logging
import time

ACCESS = logging.getLogger("tandem.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and any `extra` fields."""

    BUILTIN = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
        "message", "color_message"}  # uvicorn's ANSI-coloured copy of msg

    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
                "level": record.levelname.lower(), "logger": record.name,
                "msg": record.getMessage()}
        line.update({k: v for k, v in vars(record).items() if k not in self.BUILTIN})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


JsonFormatter.converter = time.gmtime


def config(level: str) -> dict:
    """A logging dictConfig: every logger (ours, uvicorn's) as JSON lines on stderr. Given to
    uvicorn as log_config, so each worker process sets it up the same way."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {name: {"handlers": [], "propagate": True, "level": level.upper()}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


class AccessLog:
    """ASGI middleware: log one line per HTTP request once its response has started."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not ACCESS.isEnabledFor(logging.INFO):
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500  # if the app fails before it answers

        async def send_and_note(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            ACCESS.info("request", extra={
                "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
