"""Form drafts, saved as they are typed, so a crash or a flat battery loses nothing.

A draft lives only in the encrypted cache (table `draft`) and never syncs: it becomes a record,
with its outbox op, when the user saves the form. Saving a draft is one small upsert so it can
run on every pause in typing.
"""

import json

from .session import Session
from .timeutil import now_iso

DRAFT_MAX_BYTES = 200_000


def save_draft(session: Session, key: str, kind: str, body: dict) -> None:
    text = json.dumps(body, ensure_ascii=False)
    if len(text.encode()) > DRAFT_MAX_BYTES:
        raise ValueError(f"draft {key} is larger than {DRAFT_MAX_BYTES} bytes")
    with session.db.atomic():
        session.db.execute(
            "INSERT INTO draft (key, kind, body, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            [key, kind, text, now_iso()])


def load_draft(session: Session, key: str) -> dict | None:
    row = session.db.execute("SELECT body FROM draft WHERE key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else None


def discard_draft(session: Session, key: str) -> None:
    with session.db.atomic():
        session.db.execute("DELETE FROM draft WHERE key = ?", [key])


def drafts(session: Session, kind: str | None = None) -> list[dict]:
    """Drafts to reopen after a restart, newest first."""
    sql = "SELECT key, kind, body, updated_at FROM draft"
    params = []
    if kind:
        sql += " WHERE kind = ?"
        params.append(kind)
    return [{**r, "body": json.loads(r["body"])}
            for r in session.db.query(sql + " ORDER BY updated_at DESC", params)]
