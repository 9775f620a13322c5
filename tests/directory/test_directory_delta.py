"""A sync's few changed services, applied by themselves, leave the laptop's directory exactly as
a full rebuild from every service's document would, and touch only those services' rows."""

import os
import random

import pytest

from fieldapp import directory, service_docs
from fieldapp.hsds import TABLES
from fieldapp.store import open_cache

WORDS = ["shelter", "crisis", "pantry", "meals", "detox", "housing", "legal", "clinic",
         "counseling", "recovery", "youth", "veterans", "showers", "laundry", "naloxone",
         "respite", "hotline", "outreach", "childcare", "dental", "sobering"]


def random_directory(rng: random.Random, services: int) -> dict[str, list[dict]]:
    """Services that share organizations, locations (with their addresses, phones and
    schedules) and a taxonomy with parents; phones tied to services, their
    service-at-locations, locations and organizations."""
    t = {table: [] for table in TABLES}
    orgs = [f"org-{i}" for i in range(max(1, services // 3))]
    places = [f"loc-{i}" for i in range(max(1, services // 2))]
    for org in orgs:
        t["dir_organization"].append({"id": org, "name": f"{rng.choice(WORDS).title()} Society"})
        if rng.random() < 0.4:
            t["dir_phone"].append({"id": f"ph-{org}", "organization_id": org,
                                   "number": f"520-555-{rng.randrange(10000):04d}"})
    for place in places:
        t["dir_location"].append({"id": place, "name": f"{rng.choice(WORDS)} site",
                                  "latitude": 32 + rng.random(), "longitude": -111 + rng.random()})
        t["dir_address"].append({"id": f"ad-{place}", "location_id": place,
                                 "address_1": f"{rng.randrange(9999)} E Speedway",
                                 "city": "Tucson", "address_type": "physical"})
        if rng.random() < 0.5:
            t["dir_phone"].append({"id": f"ph-{place}", "location_id": place,
                                   "number": f"520-555-{rng.randrange(10000):04d}"})
        if rng.random() < 0.5:
            t["dir_schedule"].append(_schedule(rng, f"sc-{place}", location_id=place))
    for n in range(6):
        parent = f"term-{n // 2}" if n >= 2 else None
        t["dir_taxonomy_term"].append({"id": f"term-{n}", "code": f"c{n}", "parent_id": parent,
                                       "name": f"{WORDS[n].title()} services"})
    for s in range(services):
        sid = f"svc-{s}"
        t["dir_service"].append({
            "id": sid, "organization_id": rng.choice(orgs), "status": "active",
            "name": " ".join(rng.sample(WORDS, 2)).title(),
            "description": " ".join(rng.choices(WORDS, k=8))})
        for place in rng.sample(places, rng.randint(0, min(2, len(places)))):
            sal = f"sal-{sid}-{place}"
            t["dir_service_at_location"].append({"id": sal, "service_id": sid,
                                                 "location_id": place})
            if rng.random() < 0.3:
                t["dir_phone"].append({"id": f"ph-{sal}", "service_at_location_id": sal,
                                       "number": f"520-555-{rng.randrange(10000):04d}"})
        if rng.random() < 0.6:
            t["dir_phone"].append({"id": f"ph-{sid}", "service_id": sid,
                                   "number": f"520-555-{rng.randrange(10000):04d}"})
        if rng.random() < 0.5:
            t["dir_schedule"].append(_schedule(rng, f"sc-{sid}", service_id=sid))
        for term in rng.sample(range(6), rng.randint(0, 2)):
            t["dir_service_term"].append({"service_id": sid, "term_id": f"term-{term}"})
        if rng.random() < 0.3:
            t["dir_capacity"].append({"id": f"cap-{sid}", "service_id": sid, "unit": "bed",
                                      "available": rng.randrange(20), "maximum": 20})
    return t


def _schedule(rng, schedule_id, **link):
    opens = rng.randint(6, 11)
    return {"id": schedule_id, **link, "freq": "WEEKLY", "byday": rng.choice(["MO,TU", "SA"]),
            "opens_at": f"{opens:02d}:00", "closes_at": f"{opens + 6:02d}:00", "holiday": 0,
            "closed": 0}


def changed(rng: random.Random, tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The same directory after an import that renamed, moved, dropped and added things."""
    t = {table: [dict(r) for r in rows] for table, rows in tables.items()}
    for row in rng.sample(t["dir_service"], min(3, len(t["dir_service"]))):
        row["name"] = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} again"
    gone = {r["id"] for r in rng.sample(t["dir_service"], min(2, len(t["dir_service"])))}
    t["dir_service"] = [r for r in t["dir_service"] if r["id"] not in gone]
    for table in ("dir_service_at_location", "dir_service_term", "dir_capacity"):
        t[table] = [r for r in t[table] if r["service_id"] not in gone]
    if t["dir_location"]:
        rng.choice(t["dir_location"])["name"] = "a shared site renamed"
    t["dir_service_term"] = [r for r in t["dir_service_term"] if rng.random() < 0.8]
    t["dir_phone"] = [r for r in t["dir_phone"] if rng.random() < 0.85]
    t["dir_organization"][0]["name"] = "Renamed Society"
    t["dir_service"].append({"id": "svc-new", "organization_id": t["dir_organization"][-1]["id"],
                             "name": "Brand New Shelter", "status": "active"})
    if t["dir_location"]:
        t["dir_service_at_location"].append({"id": "sal-new", "service_id": "svc-new",
                                             "location_id": t["dir_location"][0]["id"]})
    t["dir_service_term"].append({"service_id": "svc-new", "term_id": "term-5"})
    return t


def snapshot(db) -> dict:
    """Everything the laptop's directory holds and shows, without its internal numbering."""
    out = {table: sorted(map(tuple, db.execute(f"SELECT * FROM {table}"))) for table in TABLES}
    out["documents"] = sorted(db.execute(
        "SELECT d.service_id, d.content_hash, d.name, d.listed, d.always_open, d.le_dropoff, "
        "d.latitude, d.longitude, c.card FROM dir_doc d JOIN dir_card c USING (n)"))
    out["fuzzy"] = sorted(db.execute("SELECT variant, word, docs FROM dir_fuzzy"))
    out["summary"] = directory.directory_info(db)["summary"]
    out["searches"] = {q: sorted(r["id"] for r in directory.search(db, q))  # ties: any order
                       for q in ("shelter", "crisis clinic", "renamed", "shleter", "brand")}
    return out


@pytest.fixture
def caches(tmp_path):
    opened = [open_cache(tmp_path / f"{name}.db", os.urandom(32)) for name in ("delta", "full")]
    yield opened
    for db in opened:
        db.close()


@pytest.mark.parametrize("seed", range(12))
def test_a_delta_leaves_what_a_full_rebuild_leaves(caches, seed):
    rng = random.Random(seed)
    delta, full = caches
    before = service_docs.documents(random_directory(rng, rng.randint(3, 14)))
    after = service_docs.documents(changed(rng, service_docs.merge(before.values()).tables))
    service_docs.apply_changes(delta, before, full=True)
    sent = {sid: after.get(sid) for sid in before.keys() | after.keys()
            if sid not in before or sid not in after
            or service_docs.content_hash(before[sid]) != service_docs.content_hash(after[sid])}
    result = service_docs.apply_changes(delta, sent, full=False)
    service_docs.apply_changes(full, after, full=True)

    assert snapshot(delta) == snapshot(full)
    assert "svc-new" in result["added"]


def test_a_delta_reads_only_the_services_it_names(caches):
    """Two changed services in a directory of 400 read a few dozen rows, not the directory."""
    delta, _ = caches
    docs = service_docs.documents(random_directory(random.Random(1), 400))
    service_docs.apply_changes(delta, docs, full=True)
    renamed = {sid: {**docs[sid], "dir_service": [{**docs[sid]["dir_service"][0],
                                                    "name": "Renamed Outreach"}]}
               for sid in ("svc-3", "svc-200")}
    read = []
    delta.conn.set_trace_callback(read.append)
    try:
        service_docs.apply_changes(delta, renamed, full=False)
    finally:
        delta.conn.set_trace_callback(None)
    whole = [sql for sql in read if "FROM dir_" in sql and " WHERE " not in sql
             and "FROM dir_meta" not in sql]  # a handful of settings
    assert not whole, whole
    found = sorted(r["id"] for r in directory.search(delta, "renamed outreach"))
    assert found == ["svc-200", "svc-3"]
