"""Laptop settings, each declared once with its type, default and limits.

Stored in the encrypted cache (table `setting`), per user; not synced.
"""

import json
from dataclasses import dataclass

from sqlite_utils import Database

from .errors import ValidationError


@dataclass(frozen=True)
class Setting:
    """A whole number from `minimum` to `maximum`, or, with `choices`, one of those words."""

    key: str
    default: int | str
    minimum: int
    maximum: int
    help: str
    choices: tuple[str, ...] = ()


SETTINGS = {s.key: s for s in [
    Setting("crc_target_minutes", 7, 1, 60,
            "CRC check-in target: arrival to hand-off, in minutes"),
    Setting("lock_after_minutes", 10, 1, 30,
            "lock the app after this many idle minutes (never more than 30)"),
    Setting("booking_baseline_minutes", 120, 1, 1440,
            "jail booking baseline for patrol time saved: arrival at the jail to back in "
            "service, in minutes (docs/metrics.md)"),
    Setting("theme", "system", 0, 0, "day or night colours, or follow the system's",
            ("system", "day", "night")),
]}


def get(db: Database, key: str) -> int | str:
    setting = SETTINGS[key]
    row = db.execute("SELECT value FROM setting WHERE key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else setting.default


def put(db: Database, key: str, value: int | str) -> None:
    setting = SETTINGS.get(key)
    if setting is None:
        raise ValidationError("setting", {key: "unknown setting"})
    if setting.choices:
        if value not in setting.choices:
            raise ValidationError("setting", {key: f"must be one of {', '.join(setting.choices)}"})
    elif isinstance(value, bool) or not isinstance(value, int) or not (
            setting.minimum <= value <= setting.maximum):
        raise ValidationError("setting", {
            key: f"must be a whole number from {setting.minimum} to {setting.maximum}"})
    with db.atomic():
        db["setting"].upsert({"key": key, "value": json.dumps(value)}, pk="key")
