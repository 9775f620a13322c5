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


def read_tables(db: Database) -> dict[str, list[dict]]:
    """The laptop's dir_* tables as rows."""
    out = {}
    for table in TABLES:
        cursor = db.execute(f"SELECT * FROM {table}")
        columns = [c[0] for c in cursor.description]
        out[table] = [dict(zip(columns, row)) for row in cursor]
    return out


def apply_changes(db: Database, changes: dict[str, dict | None], *, full: bool,
                  source: str = "") -> dict:
    """Put changed service documents (None: the service was removed) into the laptop's
    directory; with `full`, the documents are the whole directory. One transaction, and
    only differences are written (replace_directory); returns what changed."""
    current = {} if full else documents(read_tables(db))
    for sid, doc in changes.items():
        if doc is None:
            current.pop(sid, None)
        else:
            current[sid] = doc
    zone = laptop_directory.directory_info(db)["timezone"]
    return laptop_directory.replace_directory(
        db, merge(current.values(), source, "agency server"), zone)
