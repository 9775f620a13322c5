"""The resource directory on the agency server: imports, and the changes laptops pull.

An import reads the HSDS files first, then writes in one transaction that locks the directory
version, so laptops keep getting the old directory until the new one is complete, and a
failure changes nothing. Each service is stored as its document with a content hash; only
services whose hash differs (or that appeared or went away) get a new version number, so a
re-import of the same data changes nothing and a laptop pulls only what changed.
"""

import json
from dataclasses import dataclass, field

from sqlalchemy import Engine, bindparam, insert, select, true, update

from fieldapp import service_docs
from fieldapp.hsds import Directory, DirectoryError, read_directory

from .tables import directory_service, meta

VERSION_KEY = "directory_version"


@dataclass
class ImportResult:
    directory: Directory
    version: int
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0


def import_directory(engine: Engine, path) -> ImportResult:
    """Make the HSDS directory at `path` the agency's directory; raises DirectoryError when
    it cannot be read (nothing is changed then)."""
    directory = read_directory(path)
    if not directory.tables["dir_service"]:
        rejected = len(directory.rejected)
        raise DirectoryError([f"{path}: no service could be read ({rejected} rejected rows)"])
    docs = service_docs.documents(directory.tables)
    hashes = {sid: service_docs.content_hash(doc) for sid, doc in docs.items()}
    with engine.begin() as conn:
        version = int(conn.execute(select(meta.c.value).where(meta.c.key == VERSION_KEY)
                                   .with_for_update()).scalar_one())
        stored = {r.service_id: (r.deleted, r.content_hash) for r in conn.execute(
            select(directory_service.c.service_id, directory_service.c.deleted,
                   directory_service.c.content_hash))}
        result = ImportResult(directory, version)
        result.added = sorted(sid for sid in docs if sid not in stored)
        revived = sorted(sid for sid in docs if sid in stored and stored[sid][0])
        result.changed = sorted(sid for sid in docs if sid in stored and not stored[sid][0]
                                and stored[sid][1] != hashes[sid])
        result.removed = sorted(sid for sid, (deleted, _) in stored.items()
                                if not deleted and sid not in docs)
        result.unchanged = len(docs) - len(result.added) - len(revived) - len(result.changed)
        result.added = sorted(result.added + revived)

        def row(sid):
            result.version += 1
            doc = docs.get(sid)
            return {"sid": sid, "seq": result.version, "deleted": doc is None,
                    "content_hash": hashes.get(sid),
                    "document": None if doc is None else json.dumps(
                        doc, ensure_ascii=False, separators=(",", ":"))}

        new = [row(sid) for sid in result.added if sid not in stored]
        rewritten = [row(sid) for sid in revived + result.changed + result.removed]
        if new:
            conn.execute(insert(directory_service).values(
                service_id=bindparam("sid"), seq=bindparam("seq"),
                deleted=bindparam("deleted"), content_hash=bindparam("content_hash"),
                document=bindparam("document")), new)
        if rewritten:
            conn.execute(update(directory_service)
                         .where(directory_service.c.service_id == bindparam("sid"))
                         .values(seq=bindparam("seq"), deleted=bindparam("deleted"),
                                 content_hash=bindparam("content_hash"),
                                 document=bindparam("document")), rewritten)
        if result.version != version:
            conn.execute(update(meta).where(meta.c.key == VERSION_KEY)
                         .values(value=str(result.version)))
    return result


def current_version(conn) -> int:
    return int(conn.scalar(select(meta.c.value).where(meta.c.key == VERSION_KEY)) or 0)


def _meta_value(key: str):
    return select(meta.c.value).where(meta.c.key == key).scalar_subquery()


_KNOWN = select(_meta_value(VERSION_KEY).label("version"),
                _meta_value("epoch").label("epoch")).subquery()
_PAGE = (select(directory_service.c.service_id, directory_service.c.seq,
                directory_service.c.deleted, directory_service.c.document)
         .where(directory_service.c.seq > bindparam("since"))
         .order_by(directory_service.c.seq).limit(bindparam("limit")).subquery())
# Every sync asks (built once): the page with the version and the epoch in one statement, one
# row with the page's columns empty when nothing changed.
_CHANGES = (select(_KNOWN.c.version, _KNOWN.c.epoch, *_PAGE.c)
            .select_from(_KNOWN.outerjoin(_PAGE, true())).order_by(_PAGE.c.seq))


def changes(conn, since: int, limit: int) -> dict:
    """Services changed after version `since`, oldest change first, at most `limit`:
    {"version", "services": [{"id", "seq", "deleted", "document"}], "cursor", "more",
    "epoch"} (the server's history generation, read with the version)."""
    found = conn.execute(_CHANGES, {"since": since, "limit": limit + 1}).all()
    rows = [r for r in found if r.service_id is not None]
    more = len(rows) > limit
    rows = rows[:limit]
    return {"version": int(found[0].version or 0), "epoch": found[0].epoch,
            "services": [{"id": r.service_id, "seq": r.seq, "deleted": bool(r.deleted),
                          "document": None if r.deleted else json.loads(r.document)}
                         for r in rows],
            "cursor": rows[-1].seq if rows else since, "more": more}


def summary_lines(result: ImportResult) -> list[str]:
    """What `tandem-server import-directory` prints: counts, then every rejected row and
    cleared value with its file, row and field."""
    s = result.directory.summary()
    read = (f"read {s['source']} ({s['layout']}): {s['services']} services, "
            f"{s['locations']} locations, {s['phones']} phones, {s['schedules']} schedules, "
            f"{s['organizations']} organizations, {s['taxonomy_terms']} taxonomy terms, "
            f"{s['rejected_rows']} rejected rows, {s['warnings']} warnings")
    stored = (f"directory version {result.version}: {len(result.added)} added, "
              f"{len(result.changed)} changed, {len(result.removed)} removed, "
              f"{result.unchanged} unchanged")
    lines = [read, stored]
    for kind, issues in (("rejected", result.directory.rejected),
                         ("warning", result.directory.warnings)):
        for i in issues:
            where = f"{i.file}" + (f" row {i.row}" if i.row is not None else "")
            lines.append(f"{kind}: {where}" + (f", field {i.field}" if i.field else "")
                         + f": {i.reason}")
    return lines
