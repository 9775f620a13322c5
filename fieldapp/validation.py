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
        if f.max_len is not None and len(value) > f.max_len:
            raise ValueError(f"too long ({len(value)} characters; at most {f.max_len})")
        _check_storable(value)
        if f.choices is not None and value not in f.choices:
            if len(f.choices) > 20:
                raise ValueError(f"{value!r} is not one of the {len(f.choices)} allowed codes "
                                 f"({', '.join(f.choices[:3])} …)")
            raise ValueError(f"must be one of {', '.join(f.choices)}")
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
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, (str, dict)) for v in value):
            raise ValueError("must be a list of text items")
        if len(value) > LIST_MAX_ITEMS:
            raise ValueError(f"too many items ({len(value)}; at most {LIST_MAX_ITEMS})")
        if any(isinstance(v, str) and len(v) > TEXT_MAX for v in value):
            raise ValueError(f"an item is longer than {TEXT_MAX} characters")
        for text in _texts(value):  # JSON would keep a NUL, escaped, for exports to carry
            _check_storable(text)
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


def _texts(value):
    """Every text in a JSON value, keys included; walked without recursion, since an item
    may nest as deep as JSON allows."""
    waiting = [value]
    while waiting:
        value = waiting.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            waiting.extend(value)
            waiting.extend(value.values())
        elif isinstance(value, (list, tuple)):
            waiting.extend(value)


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
