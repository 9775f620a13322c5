"""The wire protocol both ends share: endpoints, limits, op results, scope, the sync hash.

Values travel in their stored form (ISO text for times, 0/1 for flags, JSON text for lists),
exactly as the laptop's outbox holds them, so neither end re-encodes what it did not change.
"""

import hashlib
import json
import math
import re
from typing import Any

from fieldapp.records import CLINICAL_ROLES, RECORD_TYPES, is_supervisor

VERSION = 1
PREFIX = "/v1"

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
}

# A conflict on this pseudo-field records a delete that met a concurrent edit.
DELETE_FIELD = "_deleted"

# A clock stamp (fieldapp/clock.py): 13-digit wall milliseconds, 5-digit counter, device id.
STAMP = re.compile(r"\d{13}-\d{5}-[!-~]{1,60}")


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


def may_read(role: str, table: str) -> bool:
    """Whether a role may hold every record of `table` (team scope comes on top). A clinical
    record may still reach another reader one by one, under a release that covers them
    (sync/server/disclosures.py)."""
    if table in PUSH_ONLY:
        return False
    if RECORD_TYPES[table].clinical:
        return role in CLINICAL_ROLES
    return role != "admin"


# Records only a supervisor (records.is_supervisor) may write: the sign-off of a shift.
SUPERVISOR_ONLY = frozenset({"shift_review"})


def may_write(role: str, table: str) -> bool:
    """Whether a role may push new records of `table` (team scope comes on top)."""
    return table not in SUPERVISOR_ONLY or is_supervisor(role)


def record_digest(table: str, record_id: str, version: int) -> int:
    raw = f"{table}\x1f{record_id}\x1f{version}".encode()
    return int.from_bytes(hashlib.sha256(raw).digest()[:8], "big")


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
