"""The laptop's copy of the resource directory: loading an HSDS import, and searching it.

Loading happens in one transaction, so the old directory stays in service (to this and every
other connection) until the new one is complete, and a failure leaves it untouched. Rows are
compared with what is there and only differences are written: a re-import of identical data
writes nothing. Each service gets a search document and a card (everything a result shows,
as JSON); the card's hash tells which services changed, and only those are re-indexed.

Search is SQLite FTS5 with prefix matching as you type: services whose name matches first,
shortest name first, then the rest by bm25 (name 10, taxonomy terms 4, description 1). A
search reads the index and one card per result. Each service's number (the index rowid)
starts with the word count of its name, so the index already holds names in that order and
the name tier reads its first results without scoring every match: for a name, where every
matching word occurs once, bm25 orders by exactly that length.

When a query matches nothing, a word that is not in the index is replaced by indexed words
one edit away ("shleter" -> "shelter"), found through a table of one-letter deletions (the
SymSpell idea) rather than by scanning the vocabulary, or left out when there are none
("detox tonight" -> "detox"); the results say what was searched.
"""

import hashlib
import itertools
import json
import math
import re
import sys
import unicodedata
from collections import defaultdict
from datetime import UTC, datetime

from sqlite_utils import Database

from . import opening_hours
from .errors import TandemError
from .hsds import TABLES, Directory

KEYS = {table: ("id",) for table in TABLES} | {"dir_service_term": ("service_id", "term_id")}
FLAGS_TAXONOMY = "tandem-flags"
LE_DROPOFF = "le-dropoff"
TWENTY_FOUR_SEVEN = "24-7"
UNLISTED = ("inactive", "defunct")
FUZZY_MIN_LENGTH = 4
BULK_ROWS = 5000
EARTH_KM = 6371.0088
PHONE_FIELDS = ("number", "extension", "type", "description")
# HSDS 3.0 phone types (RFC 6350: text (SMS), voice, fax, cell, video, pager, textphone) in the
# order a crew wants them; a type outside the list (a directory's "hotline") or none is taken
# for a voice line. Only the first three kinds are numbers to call by voice.
PHONE_ORDER = ("voice", "cell", "", "textphone", "video", "pager", "text", "fax")
NOT_FOR_VOICE = frozenset({"textphone", "video", "pager", "text", "fax"})
RANKED_PREFIX = 3  # a lone word shorter than this matches names only
RANK_BITS = 32  # dir_doc.n = (words in the name << RANK_BITS) + a sequence number


class Results(list):
    """Search results (dicts), with the corrected query when a typo was fixed."""
    corrected_query: str | None = None


# ---- loading ----------------------------------------------------------------------------


def replace_directory(db: Database, directory: Directory,
                      timezone_name: str = opening_hours.DEFAULT_ZONE) -> dict:
    """Make `directory` the laptop's directory; returns what changed.

    {"added": [service ids], "changed": [...], "removed": [...], "unchanged": n,
     "rows_written": {table: n}}. The hash that finds changed services is over the rows as
    the reader gives them (fixed key order), so it is only compared between imports.
    """
    opening_hours.parse_zone(timezone_name)  # fail before touching anything
    cache_size = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute("PRAGMA cache_size = -131072")  # 128 MB while the b-trees take 100,000s of rows
    try:
        return _replace(db, directory, timezone_name)
    finally:
        db.execute(f"PRAGMA cache_size = {int(cache_size)}")


def _replace(db: Database, directory: Directory, timezone_name: str) -> dict:
    with db.atomic():
        written = {t: _sync_table(db, t, directory.tables.get(t, [])) for t in TABLES}
        docs = _documents(directory.tables, timezone_name)
        added, changed, removed, unchanged = _sync_documents(db, docs)
        if added or changed or removed:
            _rebuild_fuzzy(db)
        _put_meta(db, {"timezone": timezone_name,
                       "summary": json.dumps({k: v for k, v in directory.summary().items()
                                              if k != "source"}, sort_keys=True)})
    return {"added": added, "changed": changed, "removed": removed, "unchanged": unchanged,
            "rows_written": {t: n for t, n in written.items() if n}}


def _sync_table(db: Database, table: str, rows: list[dict]) -> int:
    """Write the differences between `rows` and the table; returns rows written or deleted."""
    columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})").fetchall()]
    key_at = [columns.index(k) for k in KEYS[table]]
    existing = {tuple(r[i] for i in key_at): r
                for r in db.execute(f"SELECT {', '.join(columns)} FROM {table}")}
    incoming = {}
    for row in rows:
        values = tuple(row.get(c) for c in columns)
        incoming[tuple(values[i] for i in key_at)] = values
    gone = [k for k in existing if k not in incoming]
    # In key order, so a first load appends to the primary-key b-tree instead of splitting it.
    new = [incoming[k] for k in sorted(incoming) if existing.get(k) != incoming[k]]
    where = " AND ".join(f"{k} = ?" for k in KEYS[table])
    db.conn.executemany(f"DELETE FROM {table} WHERE {where}", gone)
    # A bulk load builds secondary indexes once, sorted, instead of one random insert per row
    # (inside the transaction, so a failure still leaves the old indexes and rows).
    rebuild = len(new) > BULK_ROWS and len(new) > len(existing)
    indexes = db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                         "AND sql IS NOT NULL", [table]).fetchall() if rebuild else []
    for (sql,) in indexes:
        db.execute("DROP INDEX " + sql.split()[2])
    marks = ", ".join("?" * len(columns))
    db.conn.executemany(f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                        new)
    for (sql,) in indexes:
        db.execute(sql)
    return len(gone) + len(new)


def _documents(tables: dict[str, list[dict]], zone: str) -> dict[str, dict]:
    """One search document and result card per service; the hash of the card (everything a
    result shows) tells which services changed."""
    orgs = {o["id"]: o for o in tables["dir_organization"]}
    locations = {loc["id"]: loc for loc in tables["dir_location"]}
    terms = {t["id"]: t for t in tables["dir_taxonomy_term"]}
    by = defaultdict(lambda: defaultdict(list))
    for sal in sorted(tables["dir_service_at_location"], key=lambda r: r["id"]):
        by["sal"][sal["service_id"]].append(sal)
    for address in sorted(tables["dir_address"],
                          key=lambda a: (a["address_type"] == "postal", a["id"])):
        by["address"][address["location_id"]].append(address)
    for name, table in (("phone", "dir_phone"), ("schedule", "dir_schedule")):
        for row in tables[table]:
            for link in ("service_id", "service_at_location_id", "location_id"):
                if row.get(link):
                    by[name, link][row[link]].append(row)
    for link in tables["dir_service_term"]:
        if link["term_id"] in terms:
            by["term"][link["service_id"]].append(terms[link["term_id"]])
    for capacity in sorted(tables["dir_capacity"], key=lambda c: c["id"]):
        by["capacity"][capacity["service_id"]].append(capacity)

    docs = {}
    for service in tables["dir_service"]:
        sid = service["id"]
        sals = by["sal"][sid]
        places = [locations[s["location_id"]] for s in sals if s["location_id"] in locations]
        schedules = _linked(by, "schedule", sid, sals, places)
        service_terms = sorted(by["term"][sid], key=lambda t: (t["name"], t["id"]))
        org = orgs.get(service.get("organization_id") or "")
        flags = {t.get("code") for t in service_terms if t.get("taxonomy") == FLAGS_TAXONOMY}
        point = next(((p["latitude"], p["longitude"]) for p in places
                      if p.get("latitude") is not None), (None, None))
        always = TWENTY_FOUR_SEVEN in flags or opening_hours.always_open(
            opening_hours.rules(schedules, zone))
        card = json.dumps({
            "id": sid, "name": service["name"], "alternate_name": service.get("alternate_name"),
            "organization": org and org["name"], "description": service.get("description"),
            "eligibility": service.get("eligibility_description"),
            "status": service.get("status"), "alert": service.get("alert"),
            "url": service.get("url"), "email": service.get("email"),
            "phones": [{k: p.get(k) for k in PHONE_FIELDS}
                       for p in _linked(by, "phone", sid, sals, places)],
            "places": [{"name": p.get("name"), "latitude": p.get("latitude"),
                        "longitude": p.get("longitude"),
                        "address": _address_text(by["address"][p["id"]][:1])} for p in places],
            "schedules": [{k: r.get(k) for k in opening_hours.COLUMNS} for r in schedules],
            "categories": [t["name"] for t in service_terms if t.get("taxonomy") != FLAGS_TAXONOMY],
            "capacity": [{"unit": c.get("unit"), "available": c.get("available"),
                          "maximum": c.get("maximum"), "description": c.get("description"),
                          "as_of": c.get("updated")} for c in by["capacity"][sid]],
            "twenty_four_seven": bool(always), "le_dropoff": LE_DROPOFF in flags,
        }, separators=(",", ":"))
        docs[sid] = {
            "hash": hashlib.sha256(card.encode()).hexdigest(), "card": card,
            "name": service["name"],
            "listed": int((service.get("status") or "active") not in UNLISTED),
            "always_open": int(always), "le_dropoff": int(LE_DROPOFF in flags),
            "latitude": point[0], "longitude": point[1],
            "text": (_join(service["name"], service.get("alternate_name")),
                     _join(*(t["name"] for t in service_terms)),
                     _join(service.get("description"), org and org["name"],
                           *(p.get("name") for p in places))),
        }
    return docs


def _address_text(addresses: list[dict]) -> str | None:
    if not addresses:
        return None
    a = addresses[0]
    place = " ".join(p for p in (", ".join(p for p in (a.get("city"), a.get("state_province"))
                                           if p), a.get("postal_code")) if p)
    return ", ".join(p for p in (a.get("address_1"), a.get("address_2"), place) if p) or None


def _linked(by, kind: str, sid: str, sals: list[dict], places: list[dict]) -> list[dict]:
    """A service's own phones or schedules (its own and its service-at-locations'), else
    those of its locations."""
    rows = list(by[kind, "service_id"][sid])
    for sal in sals:
        rows += by[kind, "service_at_location_id"][sal["id"]]
    if not rows:
        for place in places:
            rows += [r for r in by[kind, "location_id"][place["id"]] if not r.get("service_id")]
    return sorted({r["id"]: r for r in rows}.values(), key=lambda r: r["id"])


def _join(*parts) -> str:
    return " ".join(p for p in parts if p)


def _sync_documents(db: Database, docs: dict[str, dict], only: list[str] | None = None):
    """Write the search documents and cards that changed (of the services `only`, when
    given: the others stay as they are). A service is numbered in the bucket of its name's
    word count (see the module docstring); one whose name changed length, or that a cache
    from before this numbering holds, moves to its bucket."""
    if only is None:
        held = db.execute("SELECT n, service_id, content_hash FROM dir_doc")
    else:
        held = [r for chunk in _chunks(only) for r in db.execute(
            f"SELECT n, service_id, content_hash FROM dir_doc WHERE service_id IN "
            f"({', '.join('?' * len(chunk))})", chunk)]
    existing = {sid: (n, digest) for n, sid, digest in held}
    removed = [sid for sid in existing if sid not in docs]
    added = [sid for sid in docs if sid not in existing]
    changed = [sid for sid in docs if sid in existing and existing[sid][1] != docs[sid]["hash"]]
    bucket = {sid: _rank_bucket(doc) for sid, doc in docs.items()}
    moved = {sid for sid in docs
             if sid in existing and existing[sid][0] >> RANK_BITS != bucket[sid]}
    rewrite = sorted(set(changed) | moved)
    stale = [(existing[sid][0],) for sid in removed + rewrite]
    db.conn.executemany("DELETE FROM dir_fts WHERE rowid = ?", stale)
    db.conn.executemany("DELETE FROM dir_doc WHERE n = ?", stale)
    db.conn.executemany("DELETE FROM dir_card WHERE n = ?", stale)
    next_n = {}
    numbered = [(existing[sid][0], sid) for sid in rewrite if sid not in moved]
    for sid in sorted([*added, *moved], key=lambda sid: (bucket[sid], docs[sid]["name"], sid)):
        if bucket[sid] not in next_n:  # after the last number in use in the bucket
            top = db.execute("SELECT max(n) FROM dir_doc WHERE n >= ? AND n < ?",
                             [bucket[sid] << RANK_BITS, (bucket[sid] + 1) << RANK_BITS]
                             ).fetchone()[0]
            next_n[bucket[sid]] = (top or bucket[sid] << RANK_BITS) + 1
        n = next_n[bucket[sid]]
        next_n[bucket[sid]] = n + 1
        numbered.append((n, sid))
    db.conn.executemany(
        "INSERT INTO dir_doc (n, service_id, content_hash, name, listed, always_open, le_dropoff,"
        " latitude, longitude) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(n, sid, d["hash"], d["name"], d["listed"], d["always_open"], d["le_dropoff"],
          d["latitude"], d["longitude"]) for n, sid in numbered for d in (docs[sid],)])
    db.conn.executemany("INSERT INTO dir_card (n, card) VALUES (?, ?)",
                        [(n, docs[sid]["card"]) for n, sid in numbered])
    db.conn.executemany(
        "INSERT INTO dir_fts (rowid, name, terms, description) VALUES (?, ?, ?, ?)",
        [(n, *docs[sid]["text"]) for n, sid in numbered if docs[sid]["listed"]])
    return sorted(added), sorted(changed), sorted(removed), len(docs) - len(added) - len(changed)


def _rank_bucket(doc: dict) -> int:
    """The words in a service's name (and alternate name): the first part of its number."""
    return min(len(tokens(doc["text"][0])), 255)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _rebuild_fuzzy(db: Database) -> None:
    """File every indexed word under itself and each of its one-letter deletions."""
    rows = []
    for word, docs in db.execute("SELECT term, doc FROM dir_fts_vocab"):
        if len(word) >= FUZZY_MIN_LENGTH and word.isalpha():
            rows += [(variant, word, docs) for variant in _deletions(word) | {word}]
    db.execute("DELETE FROM dir_fuzzy")
    db.conn.executemany("INSERT OR IGNORE INTO dir_fuzzy (variant, word, docs) VALUES (?, ?, ?)",
                        rows)


def _refile_words(db: Database, words: set[str]) -> None:
    """_rebuild_fuzzy for these words only: each filed again as the index now holds it (or
    not at all, when no document has it any more)."""
    words = [w for w in words if len(w) >= FUZZY_MIN_LENGTH and w.isalpha()]
    db.conn.executemany("DELETE FROM dir_fuzzy WHERE word = ?", [(w,) for w in words])
    rows = []
    for word in words:
        for (docs,) in db.execute("SELECT doc FROM dir_fts_vocab WHERE term = ?", [word]):
            rows += [(variant, word, docs) for variant in _deletions(word) | {word}]
    db.conn.executemany("INSERT OR IGNORE INTO dir_fuzzy (variant, word, docs) VALUES (?, ?, ?)",
                        rows)


# ---- a few services at a time (a sync's directory changes) -------------------------------


def service_tables(db: Database, service_ids) -> dict[str, list[dict]]:
    """The rows these services show, read from the laptop's tables: each service, its
    organization, service-at-locations, locations and their addresses, the phones and
    schedules tied to any of those, its taxonomy terms with their parents, its capacity."""
    ids = sorted(set(service_ids))
    out = {t: [] for t in TABLES}
    out["dir_service"] = rows_where(db, "dir_service", "id", ids)
    orgs = sorted({r["organization_id"] for r in out["dir_service"] if r["organization_id"]})
    out["dir_organization"] = rows_where(db, "dir_organization", "id", orgs)
    out["dir_service_at_location"] = rows_where(db, "dir_service_at_location", "service_id", ids)
    sals = sorted({r["id"] for r in out["dir_service_at_location"]})
    places = sorted({r["location_id"] for r in out["dir_service_at_location"]})
    out["dir_location"] = rows_where(db, "dir_location", "id", places)
    out["dir_address"] = rows_where(db, "dir_address", "location_id", places)
    links = {"service_id": ids, "service_at_location_id": sals, "location_id": places,
             "organization_id": orgs}
    for table in ("dir_phone", "dir_schedule"):
        columns = {c[1] for c in db.execute(f"PRAGMA table_info({table})")}
        found = {r["id"]: r for column, values in links.items() if column in columns
                 for r in rows_where(db, table, column, values)}
        out[table] = [found[k] for k in sorted(found)]
    out["dir_service_term"] = rows_where(db, "dir_service_term", "service_id", ids)
    terms, asked = {}, set()
    wanted = {r["term_id"] for r in out["dir_service_term"]}
    while wanted:  # the linked terms, then their parents, up to the roots
        asked |= wanted
        for r in rows_where(db, "dir_taxonomy_term", "id", sorted(wanted)):
            terms[r["id"]] = r
        wanted = {r["parent_id"] for r in terms.values() if r["parent_id"]} - asked
    out["dir_taxonomy_term"] = [terms[k] for k in sorted(terms)]
    out["dir_capacity"] = rows_where(db, "dir_capacity", "service_id", ids)
    return out


def search_words(tables: dict[str, list[dict]], timezone_name: str) -> set[str]:
    """Every word the search documents of these services' tables put in the index."""
    return {w for doc in _documents(tables, timezone_name).values()
            for text in doc["text"] for w in tokens(text)}


def reindex_services(db: Database, service_ids, timezone_name: str, words_before: set[str]
                     ) -> dict:
    """Search documents and cards of these services made again from the laptop's tables as
    they are now (a service no longer there loses its own), and the typo words of the
    services' old and new text filed again. Returns what changed, as replace_directory."""
    ids = sorted(set(service_ids))
    tables = service_tables(db, ids)
    docs = _documents(tables, timezone_name)
    added, changed, removed, unchanged = _sync_documents(db, docs, only=ids)
    if added or changed or removed:
        _refile_words(db, words_before | search_words(tables, timezone_name))
    return {"added": added, "changed": changed, "removed": removed, "unchanged": unchanged}


def rows_where(db: Database, table: str, column: str, values: list) -> list[dict]:
    rows = []
    for chunk in _chunks(values):
        cursor = db.execute(f"SELECT * FROM {table} WHERE {column} IN "
                            f"({', '.join('?' * len(chunk))})", chunk)
        names = [c[0] for c in cursor.description]
        rows += [dict(zip(names, r)) for r in cursor]
    return rows


# The summary's counts (hsds.Directory.summary) and the tables they count.
SUMMARY_COUNTS = {"organizations": "dir_organization", "services": "dir_service",
                  "locations": "dir_location", "phones": "dir_phone",
                  "schedules": "dir_schedule", "taxonomy_terms": "dir_taxonomy_term",
                  "capacity": "dir_capacity"}


def count_rows(db: Database, added: dict[str, int]) -> None:
    """Keep the summary's counts true after a few services changed: `added` holds each
    table's rows added (less those removed)."""
    summary = directory_info(db)["summary"]
    if summary is not None:
        for key, table in SUMMARY_COUNTS.items():
            summary[key] = summary.get(key, 0) + added.get(table, 0)
        _put_meta(db, {"summary": json.dumps(summary, sort_keys=True)})


def _chunks(values: list, size: int = 500):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _put_meta(db: Database, values: dict[str, str]) -> None:
    current = dict(db.execute("SELECT key, value FROM dir_meta").fetchall())
    changed = [(k, v) for k, v in values.items() if current.get(k) != v]
    db.conn.executemany("INSERT OR REPLACE INTO dir_meta (key, value) VALUES (?, ?)", changed)


def directory_info(db: Database) -> dict:
    """What the laptop's directory holds: the import summary and the zone hours are read in."""
    meta = dict(db.execute("SELECT key, value FROM dir_meta").fetchall())
    return {"timezone": meta.get("timezone", opening_hours.DEFAULT_ZONE),
            "summary": json.loads(meta["summary"]) if "summary" in meta else None}


# ---- search ----------------------------------------------------------------------------


def tokens(query: str) -> list[str]:
    """Words as the FTS5 unicode61 tokenizer sees them: lower case, accents removed."""
    text = unicodedata.normalize("NFKD", query.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.findall(r"\w+", text)


def match_expression(words: list[str]) -> str:
    """Every word must match, each as a prefix (the user may still be typing it)."""
    return " AND ".join(f'"{w}"*' for w in words)


def search(db: Database, query: str, *, categories=(), open_now: bool = False,
           twenty_four_seven: bool = False, le_dropoff: bool = False,
           near: tuple[float, float] | None = None, within_km: float | None = None,
           at: datetime | None = None, limit: int = 50) -> Results:
    """Services matching `query` (best first, or nearest first when `near` is given).

    Each result is a dict with the service, its organization, phones, address, eligibility,
    today's hours, whether it is open at `at` (default now), capacity and distance.
    """
    at = at or datetime.now(UTC)
    if at.tzinfo is None:
        raise TandemError("search needs an aware datetime for `at`")
    row = db.execute("SELECT value FROM dir_meta WHERE key = 'timezone'").fetchone()
    zone = row[0] if row else opening_hours.DEFAULT_ZONE
    where, params = ["d.listed = 1"], []
    if twenty_four_seven:
        where.append("d.always_open = 1")
    if le_dropoff:
        where.append("d.le_dropoff = 1")
    if categories:
        term_ids = _category_terms(db, categories)
        if not term_ids:
            return Results()
        where.append(f"d.service_id IN (SELECT service_id FROM dir_service_term "
                     f"WHERE term_id IN ({_marks(term_ids)}))")
        params += term_ids
    if near is not None and within_km is not None:
        lat, lon = near
        dlat = math.degrees(within_km / EARTH_KM)
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        where.append("d.latitude BETWEEN ? AND ? AND d.longitude BETWEEN ? AND ?")
        params += [lat - dlat, lat + dlat, lon - dlon, lon + dlon]

    words = tokens(query)
    found = _candidates(db, words, where, params, open_now, near, within_km, at, zone, limit)
    corrected = None
    if not found and words:
        fixed = _corrected(db, words)
        if fixed is not None:
            expression, corrected = fixed
            found = _candidates(db, expression, where, params, open_now, near, within_km, at,
                                zone, limit)
    results = Results(_result(card, near, at, zone) for _, card in found)
    results.corrected_query = corrected if results else None
    return results


def _marks(values) -> str:
    return ", ".join("?" * len(values))


def _category_terms(db: Database, categories) -> list[str]:
    """Term ids named by code, name or id (case-insensitive), with their descendants."""
    wanted = [str(c).lower() for c in categories]
    rows = db.execute(f"""
        WITH RECURSIVE picked(id) AS (
            SELECT id FROM dir_taxonomy_term WHERE lower(code) IN ({_marks(wanted)})
                OR lower(name) IN ({_marks(wanted)}) OR lower(id) IN ({_marks(wanted)})
            UNION SELECT t.id FROM dir_taxonomy_term t JOIN picked p ON t.parent_id = p.id)
        SELECT id FROM picked""", wanted * 3).fetchall()
    return [r[0] for r in rows]


def _candidates(db, words, where, params, open_now, near, within_km, at, zone, limit):
    """(n, card) for matching services in result order.

    Ranking is tiered: services whose name matches come first, shortest name first (index
    order, which is bm25 order on the name: see the module docstring), then the rest by
    bm25 over name, terms and description (weights 10, 4, 1). The name tier is read in
    index order without scoring, so a common word stays fast on a large directory; the
    second tier runs only when the first is short. Near a point, all matches go nearest
    first.
    """
    def fts(expression, order="rank"):
        return _select(expression, where, order), [expression, *params]

    if not words:
        browse = (f"SELECT d.n, d.latitude, d.longitude, d.always_open FROM dir_doc d "
                  f"WHERE {' AND '.join(where)} ORDER BY d.name")
        tiers = [(browse, list(params))]
    else:
        expression = words if isinstance(words, str) else match_expression(words)
        if not isinstance(words, str) and len(words) == 1 and len(words[0]) < RANKED_PREFIX:
            # One or two typed letters match most of a large directory, and most of it only
            # by chance: names only, until the next keystroke narrows it.
            tiers = [fts("{name} : " + expression, "dir_fts.rowid")]
        elif near is not None:
            tiers = [fts(expression)]
        else:
            tiers = [fts(f"{{name}} : ({expression})", "dir_fts.rowid"), fts(expression)]
    return _filtered(db, tiers, open_now, near, within_km, at, zone, limit)


def _select(expression: str, where: list[str], order: str) -> str:
    return (f"SELECT d.n, d.latitude, d.longitude, d.always_open FROM dir_fts "
            f"JOIN dir_doc d ON d.n = dir_fts.rowid WHERE dir_fts MATCH ? AND "
            f"{' AND '.join(where)} ORDER BY {order}")


def _filtered(db, tiers, open_now, near, within_km, at, zone, limit):
    """Rows of each tier in turn (each service once), with what SQL cannot do applied:
    distance and open-now. Near a point, candidates go nearest first by their search
    document's point (the service's first located place); each result then shows its
    nearest place."""
    filtering = open_now or near is not None

    def tiered_rows():
        seen = set()
        for sql, args in tiers:
            cursor = (db.execute(sql, args) if filtering else
                      db.execute(sql + " LIMIT ?", [*args, limit + len(seen)]))
            for row in cursor:
                if row[0] not in seen:
                    seen.add(row[0])
                    yield row

    rows = tiered_rows()
    if near is not None:
        located = [(haversine_km(near, (r[1], r[2])), r) for r in rows if r[1] is not None]
        located.sort(key=lambda item: item[0])
        rows = iter([r for km, r in located if within_km is None or km <= within_km])
    out = []
    while len(out) < limit:
        chunk = list(itertools.islice(rows, 200 if open_now else limit - len(out)))
        if not chunk:
            break
        for (n, _, _, always), card in zip(chunk, _cards(db, [r[0] for r in chunk])):
            if open_now and not always and not opening_hours.is_open(
                    opening_hours.rules(card["schedules"], zone), at):
                continue
            out.append((n, card))
    if near is not None:
        out.sort(key=lambda item: _distance(item[1], near))
    return out[:limit]


def _cards(db: Database, numbers: list[int]) -> list[dict]:
    if not numbers:
        return []
    cards = dict(db.execute(f"SELECT n, card FROM dir_card WHERE n IN ({_marks(numbers)})",
                            numbers).fetchall())
    return [json.loads(cards[n]) for n in numbers]


def _corrected(db: Database, words: list[str]):
    """An FTS expression with each unknown word replaced by indexed words one edit away, or
    left out when none is ("detox tonight": no service says "tonight"), and the query as
    searched; None when no word was changed or none is left."""
    parts, shown = [], []
    for word in words:
        if _indexed_prefix(db, word):
            parts.append(f'"{word}"*')
            shown.append(word)
        elif suggestions := suggest(db, word):
            parts.append("(" + " OR ".join(f'"{s}"' for s in suggestions) + ")")
            shown.append(suggestions[0])
    if not parts or shown == words:
        return None
    return " AND ".join(parts), " ".join(shown)


def _indexed_prefix(db: Database, word: str) -> bool:
    return db.execute("SELECT 1 FROM dir_fts_vocab WHERE term >= ? AND term < ? LIMIT 1",
                      [word, word + "\U0010ffff"]).fetchone() is not None


def suggest(db: Database, word: str, most: int = 3) -> list[str]:
    """Indexed words one edit (insert, delete, substitute, swap) from `word`, commonest first."""
    if len(word) < FUZZY_MIN_LENGTH - 1:
        return []
    variants = sorted(_deletions(word) | {word})
    rows = db.execute(f"SELECT DISTINCT word, docs FROM dir_fuzzy WHERE variant IN "
                      f"({_marks(variants)})", variants).fetchall()
    close = [(w, docs) for w, docs in rows if w != word and edit_distance(word, w) == 1]
    return [w for w, _ in sorted(close, key=lambda r: (-r[1], r[0]))[:most]]


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: inserts, deletes, substitutions, adjacent swaps."""
    previous2, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def _nearest(places: list[dict], near) -> dict | None:
    located = [p for p in places if p["latitude"] is not None]
    if near and located:
        return min(located, key=lambda p: haversine_km(near, (p["latitude"], p["longitude"])))
    return located[0] if located else (places[0] if places else None)


def _distance(card: dict, near) -> float:
    place = _nearest(card["places"], near)
    if place is None or place["latitude"] is None:
        return math.inf
    return haversine_km(near, (place["latitude"], place["longitude"]))


def _phone_kind(phone: dict) -> str:
    kind = (phone.get("type") or "").strip().lower()
    return kind if kind in PHONE_ORDER else ""


def phones_in_order(phones: list[dict]) -> list[dict]:
    """Voice numbers first, a fax last (PHONE_ORDER); the directory's order within a type."""
    return sorted(phones, key=lambda p: PHONE_ORDER.index(_phone_kind(p)))


def number_to_call(phones: list[dict]) -> dict | None:
    """The phone to copy or dial: the first voice line, never a fax, a text line or a pager."""
    return next((p for p in phones_in_order(phones) if _phone_kind(p) not in NOT_FOR_VOICE),
                None)


def _result(card: dict, near, at: datetime, zone: str) -> dict:
    """A card as a search result: with its nearest place, today's hours, open-now, its phones
    voice first and the one number to call (`phone`, None when it lists only fax or text)."""
    rules = opening_hours.rules(card.pop("schedules"), zone)
    places = card.pop("places")
    place = _nearest(places, near)
    distance = _distance({"places": places}, near) if near else math.inf
    open_now, hours = ((True, "Open 24 hours") if card["twenty_four_seven"]
                       else opening_hours.status(rules, at))
    phones = phones_in_order(card.pop("phones"))
    return {**card, "phones": phones, "phone": number_to_call(phones),
            "location": place and place["name"], "address": place and place["address"],
            "latitude": place and place["latitude"], "longitude": place and place["longitude"],
            "distance_km": round(distance, 2) if distance != math.inf else None,
            "hours_today": hours, "open_now": open_now}



# ---- command line ------------------------------------------------------------------------


def categories(db: Database) -> list[tuple[str, str]]:
    """(id, name) of the directory's top-level categories (not its operational flags)."""
    return db.execute(
        "SELECT id, name FROM dir_taxonomy_term WHERE parent_id IS NULL "
        "AND coalesce(taxonomy, '') != ? ORDER BY name", [FLAGS_TAXONOMY]).fetchall()


def parse_point(text: str) -> tuple[float, float]:
    """'32.22,-110.97' -> (32.22, -110.97), with a message that says what is wrong."""
    try:
        lat, lon = (float(p) for p in text.split(","))
    except ValueError:
        raise TandemError(f"--near must be LAT,LON in decimal degrees, not {text!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise TandemError(f"--near {text!r}: latitude must be -90..90 and longitude -180..180")
    return lat, lon


def search_command(db: Database, query: str, *, open_now: bool = False, categories=(),
                   near: str | None = None, as_json: bool = False, limit: int = 20,
                   out=sys.stdout) -> int:
    """`tandem search`: print results as text, or one JSON object; returns the exit status."""
    try:
        point = parse_point(near) if near else None
    except TandemError as e:
        print(f"tandem search: {e}", file=sys.stderr)
        return 2
    results = search(db, query, categories=categories, open_now=open_now, near=point,
                     limit=limit)
    if as_json:
        json.dump({"query": query, "corrected_query": results.corrected_query,
                   "results": list(results)}, out, indent=None)
        out.write("\n")
        return 0
    if results.corrected_query:
        print(f"Showing results for: {results.corrected_query}", file=out)
    if not results:
        print("No services found.", file=out)
    for r in results:
        distance = f"  {r['distance_km']:.1f} km" if r["distance_km"] is not None else ""
        state = {True: "open now", False: "closed now", None: "hours not listed"}[r["open_now"]]
        print(f"{r['name']}{' — ' + r['organization'] if r['organization'] else ''}{distance}",
              file=out)
        print(f"    {state}; today: {r['hours_today']}", file=out)
        if r["address"]:
            print(f"    {r['address']}", file=out)
        for p in r["phones"][:2]:  # voice first
            print(f"    {p['type'] or 'phone'}: {p['number']}", file=out)
        for c in r["capacity"]:
            print(f"    {c['unit'] or 'capacity'}: {c['available']} of {c['maximum']} "
                  f"available (as of {c['as_of']})", file=out)
    return 0
