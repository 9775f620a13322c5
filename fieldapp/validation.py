"""Checking and normalising a record's values before they are stored.

Every problem is collected, then raised together as one ValidationError, so a form can mark
every bad field at once and nothing is written until all of them are right.
"""

import json
import math
import re
from datetime import date, datetime

from .errors import ValidationError
from .records import Field, RecordType, TEXT_MAX
from .timeutil import parse_iso, to_iso

LIST_MAX_ITEMS = 100
STORED_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


def normalise(record: RecordType, values: dict, *, partial: bool) -> dict:
    """Return the values as they are stored (ISO text, 0/1, JSON lists), or raise.

    With `partial`, only the given fields are checked (a patch); otherwise every
    required field must be present (a create).
    """
    problems: dict[str, str] = {}
    stored: dict = {}
    fields = record.fields_by_name
    for name, value in values.items():
        f = fields.get(name)
        if f is None:
            problems[name] = "unknown field"
        elif value is None or (isinstance(value, str) and f.type is not str
                               and value.strip() == ""):
            if f.required:
                problems[name] = "required"
            else:
                stored[name] = None
        else:
            try:
                stored[name] = _convert(f, value)
            except ValueError as why:
                problems[name] = str(why)
    if not partial:
        problems.update((name, "required") for name in record.required_names
                        if name not in values)
    if problems:  # unknown fields first, then in the record's order
        order = {name: at for at, name in enumerate(record.field_names)}
        raise ValidationError(record.table, dict(sorted(
            problems.items(), key=lambda problem: order.get(problem[0], -1))))
    return stored


def _convert(f: Field, value):
    if f.type is str:
        if not isinstance(value, str):
            raise ValueError(f"must be text, not {type(value).__name__}")
        if f.required and not value.strip():
            raise ValueError("required")
        _check_text(value, f.max_len, f.choices)
        return value
    if f.type is bool:
        if isinstance(value, bool) or value in (0, 1):
            return int(value)
        raise ValueError("must be true or false")
    if f.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, not {value!r}")
        _check_range(f, value)
        return value
    if f.type is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, not {value!r}")
        try:
            number = float(value)
        except OverflowError:  # a whole number past any float (JSON's have no limit)
            raise ValueError("must be a finite number, not one that large") from None
        if not math.isfinite(number):
            raise ValueError(f"must be a finite number, not {value!r}")
        _check_range(f, number)
        return number
    if f.type is list:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"must be a list, not {type(value).__name__}")
        if len(value) > LIST_MAX_ITEMS:
            raise ValueError(f"too many items ({len(value)}; at most {LIST_MAX_ITEMS})")
        for at, item in enumerate(value, 1):
            try:
                _check_item(f, item)
            except ValueError as why:
                raise ValueError(f"item {at}: {why}") from None
        return json.dumps(list(value), ensure_ascii=False)
    if f.type is datetime:
        if isinstance(value, datetime):
            try:
                return to_iso(value)
            except OverflowError:
                raise ValueError(f"{value} is out of range once in UTC") from None
        if isinstance(value, str):
            try:
                if STORED_TIME.fullmatch(value):  # as stored already (what laptops send)
                    datetime.fromisoformat(value[:-1])  # a real time: not 2026-02-30
                    return value
                return to_iso(parse_iso(value))
            except (ValueError, OverflowError):  # OverflowError: out of range once in UTC
                raise ValueError(f"must be a date and time like 2026-11-21T14:05:00Z, not {value!r}") from None
        raise ValueError("must be a date and time")
    if f.type is date:
        if isinstance(value, datetime):
            raise ValueError("must be a date, not a date and time")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                raise ValueError(f"must be a date like 2026-11-21, not {value!r}") from None
        raise ValueError("must be a date")
    raise AssertionError(f"unhandled field type {f.type}")


def _check_storable(text: str) -> None:
    """Refuse what no database keeps as sent: a NUL (PostgreSQL refuses it; a paste can
    carry one, unseen) or an unpaired surrogate. Refused here, before the change is queued,
    rather than by the server after it, and said with the text before it."""
    at = text.find("\x00")
    if at < 0:
        if text.isascii():  # known without reading the text: most text is
            return
        try:
            text.encode()
            return
        except UnicodeEncodeError as e:
            at = e.start
    before = text[max(0, at - 20):at]
    raise ValueError("contains a NUL character or an unpaired surrogate (not valid text; "
                     "a paste can bring one, unseen) "
                     + (f"after {before!r}" if before else "at the start") + ": retype that part")


def _check_item(f: Field, item) -> None:
    """One item of a list field, held to what its readers expect (records.Field.item_keys):
    a code, an id or a username as text, or a flat object of the field's keys."""
    if f.item_keys is None:
        if not isinstance(item, str):
            raise ValueError(f"must be text, not {_kind(item)}")
        _check_text(item, f.max_len or TEXT_MAX, f.choices)
        return
    keys = f.item_keys
    if not isinstance(item, dict):
        raise ValueError(f"must be an object with {', '.join(keys)}, not {_kind(item)}")
    unknown = [str(k) for k in item if k not in keys]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (an item has {', '.join(keys)})")
    if not isinstance(item.get(keys[0]), str) or not item[keys[0]].strip():
        raise ValueError(f"needs its {keys[0]} as text")
    for key, v in item.items():
        if isinstance(v, str):
            try:
                _check_text(v, f.max_len or TEXT_MAX)
            except ValueError as why:
                raise ValueError(f"{key} {why}") from None
        elif v is not None and not _finite_number(v):
            raise ValueError(f"{key} must be text, a number or null, not {_kind(v)}")


def _check_text(text: str, max_len: int | None, choices: tuple[str, ...] | None = None) -> None:
    if max_len is not None and len(text) > max_len:
        raise ValueError(f"too long ({len(text)} characters; at most {max_len})")
    _check_storable(text)
    if choices is not None and text not in choices:
        if len(choices) > 20:
            raise ValueError(f"{text!r} is not one of the {len(choices)} allowed codes "
                             f"({', '.join(choices[:3])} …)")
        raise ValueError(f"must be one of {', '.join(choices)}")


def _finite_number(v) -> bool:
    """A number JSON and both databases keep as sent: no NaN, no infinity, no whole number
    past what a float holds exactly."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return abs(v) <= 2**53 if isinstance(v, int) else math.isfinite(v)


def _kind(value) -> str:
    """A JSON value's kind, as a message names it."""
    if isinstance(value, (bool, type(None))):
        return "true or false" if isinstance(value, bool) else "null"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "an object", list: "a list", tuple: "a list", str: "text"}.get(
        type(value), type(value).__name__)


def _check_range(f: Field, value) -> None:
    if f.minimum is not None and value < f.minimum:
        raise ValueError(f"must be at least {f.minimum:g}")
    if f.maximum is not None and value > f.maximum:
        raise ValueError(f"must be at most {f.maximum:g}")


def stored_to_python(record: RecordType, row: dict) -> dict:
    """Turn a stored row back into Python values (lists, bools); times stay ISO text."""
    out = dict(row)
    for f in record.fields:
        v = out.get(f.name)
        if v is None:
            continue
        if f.type is list:
            out[f.name] = json.loads(v)
        elif f.type is bool:
            out[f.name] = bool(v)
    if "deleted" in out:
        out["deleted"] = bool(out["deleted"])
    return out
