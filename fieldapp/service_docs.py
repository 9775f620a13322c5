"""The resource directory as one self-contained document per service.

The agency server keeps the directory this way so that a laptop pulls only the services that
changed. A service's document holds its own row and every row it shows: its organization,
locations and their addresses, phones, schedules, taxonomy terms (with their parents, so a
category filter still finds children) and capacity. A row two services share (a location)
is in both documents, so changing it changes both. The union of the documents is the
directory again; rows that belong to no service are not carried.
"""

import hashlib
import json
from collections import defaultdict

from sqlite_utils import Database

from . import directory as laptop_directory
from .directory import KEYS
from .hsds import TABLES, Directory


def documents(tables: dict[str, list[dict]]) -> dict[str, dict]:
    """Service id -> {dir_* table: [rows]}, rows in key order."""
    by_id = {t: {r["id"]: r for r in tables.get(t, [])} for t in (
        "dir_organization", "dir_location", "dir_service_at_location", "dir_taxonomy_term")}
    sals = defaultdict(list)
    for sal in tables.get("dir_service_at_location", []):
        sals[sal["service_id"]].append(sal)
    services_at = defaultdict(set)  # location id -> services there
    for sal in tables.get("dir_service_at_location", []):
        services_at[sal["location_id"]].add(sal["service_id"])
    services_of = defaultdict(set)  # organization id -> its services
    for service in tables.get("dir_service", []):
        if service.get("organization_id"):
            services_of[service["organization_id"]].add(service["id"])
    addresses = defaultdict(list)
    for address in tables.get("dir_address", []):
        addresses[address["location_id"]].append(address)

    owned = defaultdict(lambda: defaultdict(list))  # service id -> table -> rows
    for table in ("dir_phone", "dir_schedule"):
        for row in tables.get(table, []):
            for sid in _owners(row, by_id["dir_service_at_location"], services_at, services_of):
                owned[sid][table].append(row)
    for table in ("dir_service_term", "dir_capacity"):
        for row in tables.get(table, []):
            owned[row["service_id"]][table].append(row)

    docs = {}
    for service in tables.get("dir_service", []):
        sid = service["id"]
        org = by_id["dir_organization"].get(service.get("organization_id") or "")
        places = [by_id["dir_location"][s["location_id"]] for s in sals[sid]
                  if s["location_id"] in by_id["dir_location"]]
        doc = {"dir_service": [service], "dir_organization": [org] if org else [],
               "dir_service_at_location": sals[sid], "dir_location": places,
               "dir_address": [a for p in places for a in addresses[p["id"]]],
               "dir_taxonomy_term": _terms(owned[sid]["dir_service_term"],
                                           by_id["dir_taxonomy_term"]),
               **{t: owned[sid][t] for t in ("dir_phone", "dir_schedule", "dir_service_term",
                                             "dir_capacity")}}
        docs[sid] = {t: _in_key_order(t, doc[t]) for t in TABLES}
    return docs


def _owners(row: dict, sals: dict, services_at: dict, services_of: dict) -> set[str]:
    """The services a phone or schedule belongs to: its own service, else its
    service-at-location's, else the services at its location, else its organization's."""
    if row.get("service_id"):
        return {row["service_id"]}
    if row.get("service_at_location_id"):
        sal = sals.get(row["service_at_location_id"])
        return {sal["service_id"]} if sal else set()
    if row.get("location_id"):
        return services_at.get(row["location_id"], set())
    return services_of.get(row.get("organization_id") or "", set())


def _terms(links: list[dict], terms: dict) -> list[dict]:
    picked = {}
    for link in links:
        term = terms.get(link["term_id"])
        while term is not None and term["id"] not in picked:
            picked[term["id"]] = term
            term = terms.get(term.get("parent_id") or "")
    return list(picked.values())


def _in_key_order(table: str, rows: list[dict]) -> list[dict]:
    unique = {tuple(r[k] for k in KEYS[table]): r for r in rows}
    return [unique[k] for k in sorted(unique)]


def content_hash(doc: dict) -> str:
    """A hash of the document's content, the same for the same rows whatever their order."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def merge(docs, source: str = "", layout: str = "") -> Directory:
    """The directory made of these documents (each shared row once)."""
    tables = {t: {} for t in TABLES}
    for doc in docs:
        for table in TABLES:
            for row in doc.get(table, []):
                tables[table][tuple(row[k] for k in KEYS[table])] = row
    return Directory(tables={t: list(rows.values()) for t, rows in tables.items()},
                     source=source, layout=layout)




def apply_changes(db: Database, changes: dict[str, dict | None], *, full: bool,
                  source: str = "") -> dict:
    """Put changed service documents (None: the service was removed) into the laptop's
    directory, in one transaction; returns what changed in its search (as replace_directory).
    With `full`, the documents are the whole directory and replace it. Otherwise only these
    services' rows are read and written: a row they no longer show goes unless a service
    that did not change shows it, so the directory stays the union of every service's
    document."""
    zone = laptop_directory.directory_info(db)["timezone"]
    if full:
        docs = [doc for doc in changes.values() if doc is not None]
        return laptop_directory.replace_directory(db, merge(docs, source, "agency server"), zone)
    ids = sorted(changes)
    with db.atomic():
        before_tables = laptop_directory.service_tables(db, ids)
        words = laptop_directory.search_words(before_tables, zone)
        before = _rows_by_key(documents(before_tables).values())
        after = _rows_by_key(doc for doc in changes.values() if doc is not None)
        counts = {table: _write(db, table, after[table]) for table in TABLES}
        for table in _SHOWN_BY_OTHERS_LAST:
            gone = [key for key, row in before[table].items()
                    if key not in after[table] and not _shown_elsewhere(db, table, row, ids)]
            where = " AND ".join(f"{k} = ?" for k in KEYS[table])
            db.conn.executemany(f"DELETE FROM {table} WHERE {where}", gone)
            counts[table] -= len(gone)
        changed = laptop_directory.reindex_services(db, ids, zone, words)
        laptop_directory.count_rows(db, counts)
    return changed


# Rows one service owns first, then those other services may show too (a location, its
# addresses and phones, an organization, a taxonomy term).
_SHOWN_BY_OTHERS_LAST = ("dir_service", "dir_service_at_location", "dir_service_term",
                         "dir_capacity", "dir_phone", "dir_schedule", "dir_location",
                         "dir_address", "dir_organization", "dir_taxonomy_term")


def _rows_by_key(docs) -> dict[str, dict[tuple, dict]]:
    rows = {t: {} for t in TABLES}
    for doc in docs:
        for table in TABLES:
            for row in doc.get(table, []):
                rows[table][tuple(row[k] for k in KEYS[table])] = row
    return rows


def _write(db: Database, table: str, rows: dict[tuple, dict]) -> int:
    """Write the rows that differ from the stored ones; returns how many keys are new."""
    columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})").fetchall()]
    first = KEYS[table][0]
    stored = {tuple(r[k] for k in KEYS[table]): tuple(r.get(c) for c in columns)
              for r in laptop_directory.rows_where(db, table, first,
                                                   sorted({key[0] for key in rows}))}
    incoming = {key: tuple(row.get(c) for c in columns) for key, row in rows.items()}
    db.conn.executemany(
        f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})",
        [values for key, values in sorted(incoming.items()) if stored.get(key) != values])
    return sum(1 for key in incoming if key not in stored)


def _shown_elsewhere(db: Database, table: str, row: dict, changed: list[str]) -> bool:
    """Whether a row the `changed` services no longer show is in the document of a service
    that did not change, by the rules of `documents` (and `_owners`)."""
    def exists(sql: str, key) -> bool:
        return db.execute(sql, [key, json.dumps(changed)]).fetchone() is not None

    others = "(SELECT value FROM json_each(?))"
    at_location = ("SELECT 1 FROM dir_service_at_location WHERE location_id = ? "
                   f"AND service_id NOT IN {others} LIMIT 1")
    of_organization = f"SELECT 1 FROM dir_service WHERE organization_id = ? AND id NOT IN {others}"
    if table == "dir_location":
        return exists(at_location, row["id"])
    if table == "dir_address":
        return exists(at_location, row["location_id"])
    if table == "dir_organization":
        return exists(of_organization, row["id"])
    if table in ("dir_phone", "dir_schedule"):
        if row.get("service_id") or row.get("service_at_location_id"):
            return False  # one service's own
        if row.get("location_id"):
            return exists(at_location, row["location_id"])
        return bool(row.get("organization_id")) and exists(of_organization,
                                                            row["organization_id"])
    if table == "dir_taxonomy_term":  # a term shows while a service links it or a term below it
        return exists(f"""
            WITH RECURSIVE below(id) AS (
                SELECT ? UNION SELECT t.id FROM dir_taxonomy_term t JOIN below
                ON t.parent_id = below.id)
            SELECT 1 FROM dir_service_term WHERE term_id IN below
            AND service_id NOT IN {others} LIMIT 1""", row["id"])
    return False  # a service's own rows: the service itself, its locations' links, terms, capacity
