"""Record ids: UUIDv7, made on the laptop, so records can be created offline and sort by time."""

import uuid6


def new_id() -> str:
    return str(uuid6.uuid7())
