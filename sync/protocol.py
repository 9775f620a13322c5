"""The wire protocol both ends share: endpoints, limits, op results, scope, the sync hash.

Values travel in their stored form (ISO text for times, 0/1 for flags, JSON text for lists),
exactly as the laptop's outbox holds them, so neither end re-encodes what it did not change.
"""

import json
import math
import re
from typing import Any

import orjson

from fieldapp import __version__, record_sums
from fieldapp.records import CLINICAL_ROLES, RECORD_TYPES, is_supervisor

VERSION = 2  # 2: every request and answer names the versions at both ends (headers below)
PREFIX = "/v1"

# A fleet upgrades one laptop at a time, so every request names the laptop's app version and
# protocol, and every answer the server's, with the oldest laptop version the server accepts
# (its TANDEM_MIN_APP_VERSION setting). A laptop below that gets 426 and UPDATE_REQUIRED; a
# server speaking an older protocol than the laptop is refused by the laptop (SERVER_TOO_OLD).
# Either way nothing is sent: the outbox waits for the update.
VERSION_HEADER = "X-Tandem-Version"
PROTOCOL_HEADER = "X-Tandem-Protocol"
MIN_VERSION_HEADER = "X-Tandem-Min-Version"
LAPTOP_HEADERS = {VERSION_HEADER: __version__, PROTOCOL_HEADER: str(VERSION)}
FIRST_RELEASE = {1: "0.1.0", 2: "0.2.0"}  # the first release that spoke each protocol
OLDEST_LAPTOP = FIRST_RELEASE[1]  # what this server can serve; a laptop naming no version is it
UPDATE_REQUIRED, SERVER_TOO_OLD = "update_required", "server_too_old"  # error codes

PUSH_MAX_OPS = 500
PUSH_MAX_BYTES = 1 << 20  # one batch's JSON before gzip
REQUEST_MAX_BYTES = 8 << 20  # the server answers 413 above this, before or after gzip
PULL_PAGE = 2000
PULL_PAGE_MAX = 5000
DIRECTORY_PAGE = 500  # services per page of GET /directory (each with its whole document)
DIRECTORY_PAGE_MAX = 2000

# Per-op results. `deferred` is not final: an earlier op on the same record was rejected in
# this batch, so the op waits (a rejected op blocks only its own record).
APPLIED, DUPLICATE, CONFLICT, REJECTED, DEFERRED = (
    "applied", "duplicate", "conflict", "rejected", "deferred")
FINAL_RESULTS = (APPLIED, DUPLICATE, CONFLICT, REJECTED)

OP_KINDS = ("create", "patch", "append", "delete")

# Records pushed to the server but never pulled back to laptops.
PUSH_ONLY = frozenset({"audit_event"})
PULLED_TABLES = tuple(t for t in RECORD_TYPES if t not in PUSH_ONLY)

# The laptop cache's foreign keys: a pulled child needs its parent first.
PARENT_FIELDS = {
    "shift_event": ("shift_id", "shift"),
    "release_of_information": ("person_id", "person"),
    "clinical_note": ("encounter_id", "encounter"),
    "follow_up_attempt": ("follow_up_id", "follow_up"),
    "shift_review": ("shift_id", "shift"),
    "amendment": ("shift_id", "shift"),
    "crc_checkin": ("notice_id", "crc_notice"),
}

# A conflict on this pseudo-field records a delete that met a concurrent edit.
DELETE_FIELD = "_deleted"

# A clock stamp (fieldapp/clock.py): 13-digit wall milliseconds, 5-digit counter, device id.
STAMP = re.compile(r"\d{13}-\d{5}-[!-~]{1,60}")
# What a record id may be: printable ASCII, no spaces, at most 36 characters (a push's
# record_id is held to it; a field naming another record can name only such an id).
RECORD_ID = re.compile(r"[!-~]{1,36}")
# The server's history went back (a restore or a failover): a new generation, named by a new
# epoch. A request made with an older epoch gets 409 with this code; the laptop gives back
# what the server lost (sync/giveback.py), then pulls the new generation from cursor 0.
EPOCH_CHANGED = "epoch_changed"
OFFER_MAX_KEYS = 2000  # records a laptop asks about in one POST /recovery/offer
RETURN_MAX_RECORDS = 500  # records a laptop gives back in one POST /recovery/records
# Refresh tokens a laptop keeps after retiring them, newest first, and sends when the server
# does not know its current one (a restore took the server back to an older one).
EARLIER_TOKENS_MAX = 1000
UNKNOWN_TOKEN = "unknown_token"

# The server's answer about each record a laptop offers.
HELD = "held"  # the server holds this copy (or a newer one): nothing to give back
SEND = "send"  # the server lacks it or may hold less: give it back
GONE = "deleted"  # deleted on the server and its tombstone discarded (compact): drop it
OUT_OF_SCOPE = "out_of_scope"  # the server holds it, but this user may no longer hold it: drop it
NOT_YOURS = "not_yours"  # the server lacks it, and this user may not write it: keep it
# What the server did with each record given back (or REJECTED, with a reason).
RESTORED, MERGED, UNCHANGED = "restored", "merged", "unchanged"

def strict_json(text: str | bytes) -> Any:
    """JSON as RFC 8259 has it: NaN, Infinity and numbers too large for a float are refused
    (json.JSONDecodeError), since strict parsers on the other end refuse them too."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite)


def _no_constant(name: str):
    raise json.JSONDecodeError(f"{name} is not a JSON value (send null, or a finite number)",
                               name, 0)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise json.JSONDecodeError(f"{text} is out of range for a number", text, 0)
    return value


# orjson writes JSON in a tenth of the standard library's time: a record's stored fields, a
# pull's records, a push's results. Where it cannot (a lone surrogate, an integer past 64
# bits), the standard library writes it as before.
_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def json_text(value: Any) -> str:
    """`value` as compact JSON text, characters beyond ASCII written as themselves."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # a lone surrogate, an integer past 64 bits
        return _json_text(value)


def may_read(role: str, table: str) -> bool:
    """Whether a role may hold every record of `table` (team scope comes on top). A clinical
    record may still reach another reader one by one, under a release that covers them
    (sync/server/disclosures.py)."""
    if table in PUSH_ONLY or role == INTAKE_ROLE:
        return False
    if RECORD_TYPES[table].clinical:
        return role in CLINICAL_ROLES
    return role != "admin"


# Records only a supervisor (records.is_supervisor) may write: the sign-off of a shift.
SUPERVISOR_ONLY = frozenset({"shift_review"})
# CRC intake staff write the CRC's half of the clock, on the intake board, and nothing else;
# no one else writes it.
INTAKE_ROLE = "crc_intake"
INTAKE_ONLY = frozenset({"crc_checkin"})


def may_write(role: str, table: str) -> bool:
    """Whether a role may push new records of `table` (team scope comes on top)."""
    if role == INTAKE_ROLE or table in INTAKE_ONLY:
        return role == INTAKE_ROLE and table in INTAKE_ONLY
    return table not in SUPERVISOR_ONLY or is_supervisor(role)


record_digest = record_sums.digest  # the laptop's triggers compute it too


class SetHash:
    """Count and order-independent hash (sum of digests mod 2**64) of (table, id, version)."""

    def __init__(self):
        self.count = 0
        self.total = 0

    def add(self, table: str, record_id: str, version: int) -> None:
        self.count += 1
        self.total = (self.total + record_digest(table, record_id, version)) % (1 << 64)

    @property
    def hex(self) -> str:
        return f"{self.total:016x}"


def server_behind(headers) -> str | None:
    """What to tell the user when the server answering with `headers` speaks an older
    protocol than this laptop (or none: a release before the headers), else None. Such a server
    may not store what this laptop sends, so the laptop stops at the first answer."""
    stated = headers.get(PROTOCOL_HEADER, "1")
    protocol = int(stated) if stated.isascii() and stated.isdigit() else 1
    if protocol >= VERSION:
        return None
    server = headers.get(VERSION_HEADER, FIRST_RELEASE.get(protocol, "an older release"))
    return (f"the agency server must be updated to sync: it runs Tandem {server}, and this "
            f"laptop needs Tandem {FIRST_RELEASE[VERSION]} or later there")


def parse_version(text: str) -> tuple[int, ...]:
    """'0.2.0' -> (0, 2, 0); ValueError for anything but dot-separated whole numbers."""
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 4 or not all(
            p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
        raise ValueError(f"{text[:40]!r} is not a version like {__version__}")
    return tuple(int(p) for p in parts)
