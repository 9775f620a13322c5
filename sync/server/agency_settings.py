"""The agency's settings on the server: what `tandem-server settings` sets and every pull
delivers to laptops (declared in fieldapp/agency.py)."""

import json

from sqlalchemy import delete, insert, select, update

from fieldapp import agency
from fieldapp.timeutil import now_iso

from .tables import agency_setting


_ALL = select(agency_setting.c.key, agency_setting.c.value)  # every pull reads it: built once


def read(conn) -> dict:
    """Every setting's value in force: the agency's where set, else the default."""
    return agency.effective({key: json.loads(value) for key, value in conn.execute(_ALL)})


def set_value(conn, key: str, text: str):
    """Set `key` from command-line text; ValidationError says what is wrong. Returns the value."""
    value = agency.from_text(key, text)
    row = {"value": json.dumps(value), "updated_at": now_iso()}
    if conn.execute(update(agency_setting).where(agency_setting.c.key == key)
                    .values(**row)).rowcount == 0:
        conn.execute(insert(agency_setting).values(key=key, **row))
    return value


def unset(conn, key: str) -> None:
    """Back to the default."""
    agency.setting(key)
    conn.execute(delete(agency_setting).where(agency_setting.c.key == key))
