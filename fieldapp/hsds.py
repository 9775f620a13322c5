"""Reading an Open Referral HSDS directory into rows for the laptop's dir_* tables.

Accepted input:
- an HSDS 3.0 tabular data package: a folder of CSVs, with or without datapackage.json
  (plus the HSDS 3.1 service_capacity.csv and units.csv);
- the older tabular layout many 211 exports still use (HSDS 1.x/2.0): regular_schedules.csv,
  holiday_schedules.csv, physical_addresses.csv, services_taxonomy.csv, taxonomy.csv;
- HSDS 3.0 JSON: a list of services as in service_full.json, one service object, or an API
  page ({"contents": [...]}).

Both routes end in the same checks, so a row is accepted or rejected for the same reason
whatever it came in. A bad row is left out and reported with its file, row (the line number
in a CSV, header = line 1; the path in a JSON file), field and reason; a bad optional value is
cleared and reported as a warning. Missing files or columns the directory cannot do without
stop the read with one DirectoryError naming all of them.
"""

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import opening_hours
from .errors import TandemError
from .timeutil import parse_iso, to_iso

TABLES = ("dir_organization", "dir_service", "dir_location", "dir_service_at_location",
          "dir_address", "dir_phone", "dir_schedule", "dir_taxonomy_term", "dir_service_term",
          "dir_capacity")

# Logical resource -> (file names it may have, columns it cannot do without). Order matters:
# a resource is checked after the ones its rows refer to.
RESOURCES = {
    "organization": (("organizations.csv", "organization.csv"), ("id", "name")),
    "service": (("services.csv", "service.csv"), ("id", "name")),
    "location": (("locations.csv", "location.csv"), ("id",)),
    "service_at_location": (("service_at_location.csv", "services_at_location.csv",
                             "service_at_locations.csv"), ("id", "service_id", "location_id")),
    "address": (("addresses.csv", "address.csv", "physical_addresses.csv",
                 "physical_address.csv"), ("id", "location_id")),
    "phone": (("phones.csv", "phone.csv"), ("id", "number")),
    "schedule": (("schedules.csv", "schedule.csv"), ("id",)),
    "regular_schedule": (("regular_schedules.csv", "regular_schedule.csv"),
                         ("id", "opens_at", "closes_at")),
    "holiday_schedule": (("holiday_schedules.csv", "holiday_schedule.csv"),
                         ("id", "start_date", "end_date")),
    "taxonomy": (("taxonomies.csv",), ("id", "name")),
    "taxonomy_term": (("taxonomy_terms.csv", "taxonomy_term.csv", "taxonomy.csv"), ("id", "name")),
    "attribute": (("attributes.csv", "attribute.csv"), ("link_id", "taxonomy_term_id")),
    "service_taxonomy": (("services_taxonomy.csv", "service_taxonomy.csv"),
                         ("service_id", "taxonomy_id")),
    "unit": (("units.csv", "unit.csv"), ("id", "name")),
    "service_capacity": (("service_capacity.csv", "service_capacities.csv"),
                         ("id", "service_id", "available")),
}
REQUIRED_RESOURCES = ("service",)
LEGACY_FILES = ("regular_schedules.csv", "regular_schedule.csv", "holiday_schedules.csv",
                "holiday_schedule.csv", "services_taxonomy.csv", "service_taxonomy.csv",
                "taxonomy.csv", "physical_addresses.csv", "physical_address.csv")
SERVICE_STATUSES = ("active", "inactive", "defunct", "temporarily closed")
WEEKDAY_NAMES = {name: i for i, names in enumerate((
    ("mo", "mon", "monday"), ("tu", "tue", "tues", "tuesday"), ("we", "wed", "wednesday"),
    ("th", "thu", "thur", "thurs", "thursday"), ("fr", "fri", "friday"),
    ("sa", "sat", "saturday"), ("su", "sun", "sunday"))) for name in names}


class DirectoryError(TandemError):
    """The directory cannot be read at all (missing file or column, unreadable file)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("cannot read the directory: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Issue:
    """A rejected row or a cleared value: where it is and what is wrong."""
    file: str
    row: "int | str | None"
    field: str | None
    reason: str


@dataclass
class Directory:
    """Rows for each dir_* table (plain dicts), and what was left out or cleared."""
    tables: dict[str, list[dict]] = field(default_factory=lambda: {t: [] for t in TABLES})
    rejected: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    source: str = ""
    layout: str = ""

    def summary(self) -> dict:
        t = self.tables
        return {"source": self.source, "layout": self.layout,
                "organizations": len(t["dir_organization"]), "services": len(t["dir_service"]),
                "locations": len(t["dir_location"]), "phones": len(t["dir_phone"]),
                "schedules": len(t["dir_schedule"]), "taxonomy_terms": len(t["dir_taxonomy_term"]),
                "capacity": len(t["dir_capacity"]), "rejected_rows": len(self.rejected),
                "warnings": len(self.warnings)}

    def as_dict(self) -> dict:
        return {"tables": self.tables, "rejected": [asdict(i) for i in self.rejected],
                "warnings": [asdict(i) for i in self.warnings], "summary": self.summary()}


class _Reject(Exception):
    def __init__(self, field_name: str | None, reason: str):
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


def read_directory(path) -> Directory:
    """Read an HSDS directory from a folder of CSVs or a JSON file."""
    path = Path(path)
    if not path.exists():
        raise DirectoryError([f"{path} does not exist"])
    if path.is_dir():
        json_files = sorted(p for p in path.glob("*.json") if p.name != "datapackage.json")
        if not _find_csv(path, "service", {}) and len(json_files) == 1:
            path = json_files[0]
        else:
            return _Builder(str(path), "tabular").build(_read_tabular(path))
    return _Builder(str(path), "json").build(_read_json(path))


# ---- tabular --------------------------------------------------------------------------


class _Raw:
    """Raw records per resource, each (file, row, dict), before any checking."""

    def __init__(self):
        self.records: dict[str, list[tuple[str, object, dict]]] = {r: [] for r in RESOURCES}
        self.notes: list[Issue] = []
        self.rejected: list[Issue] = []
        self.legacy = False  # the older 211 layout (regular_schedules.csv and friends)


def _read_tabular(folder: Path) -> _Raw:
    raw = _Raw()
    package_paths = _package_paths(folder, raw)
    problems = []
    files = {}
    for resource, (_names, required) in RESOURCES.items():
        found = _find_csv(folder, resource, package_paths)
        if found is None:
            if resource in REQUIRED_RESOURCES:
                problems.append(f"missing {RESOURCES[resource][0][0]} in {folder}")
            continue
        if resource == "taxonomy_term" and found.name == "taxonomy.csv":
            resource_required = ("id", "name")
        else:
            resource_required = required
        header, rows = _read_csv(found, raw)
        missing = [c for c in resource_required if c not in header]
        if resource == "regular_schedule" and not {"weekday", "byday"} & set(header):
            missing.append("weekday")
        if missing:
            problems.append(f"{found.name} lacks column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}")
            continue
        files[resource] = (found.name, rows)
        raw.legacy |= found.name in LEGACY_FILES
    if problems:
        raise DirectoryError(problems)
    for resource, (name, rows) in files.items():
        raw.records[resource] = [(name, line, record) for line, record in rows]
    return raw


def _package_paths(folder: Path, raw: _Raw) -> dict[str, Path]:
    """Resource name -> file, from datapackage.json when it is there and readable."""
    package = folder / "datapackage.json"
    if not package.exists():
        return {}
    try:
        resources = json.loads(_decode(package.read_bytes(), package.name, raw))["resources"]
        return {str(r["name"]): folder / str(r["path"]) for r in resources
                if isinstance(r, dict) and r.get("name") and r.get("path")}
    except (ValueError, KeyError, TypeError) as e:
        raw.notes.append(Issue(package.name, None, None,
                               f"not a readable data package ({e}); files found by their usual names"))
        return {}


def _find_csv(folder: Path, resource: str, package_paths: dict[str, Path]) -> Path | None:
    for name in (resource, resource + "s"):
        candidate = package_paths.get(name)
        # An HSDS 1.x package calls its term list "taxonomy" (taxonomy.csv); those are terms.
        if resource == "taxonomy" and candidate is not None and candidate.name == "taxonomy.csv":
            continue
        if candidate is not None and candidate.is_file():
            return candidate
    for name in RESOURCES[resource][0]:
        if (folder / name).is_file():
            return folder / name
    return None


def _decode(data: bytes, name: str, raw: _Raw) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252, reported."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raw.notes.append(Issue(name, line, None,
                               "not UTF-8; the file was read as Windows-1252 (cp1252)"))
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


class _Lines:
    """An iterator over physical lines that csv.reader pulls from, so we know where we are."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.next = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.next >= len(self.lines):
            raise StopIteration
        self.next += 1
        return self.lines[self.next - 1]


def _read_csv(path: Path, raw: _Raw) -> tuple[list[str], list[tuple[int, dict]]]:
    """Header and (line number, record) pairs; malformed rows go to raw.rejected.

    A stray quote makes the csv module swallow the following lines into one field; such a
    record has the wrong number of values, so its first line is rejected and reading starts
    again on the line after it.
    """
    text = _decode(path.read_bytes(), path.name, raw)
    if "\x00" in text:
        raw.notes.append(Issue(path.name, None, None, "contains NUL bytes; they were removed"))
        text = text.replace("\x00", "")
    lines = _Lines(io.StringIO(text, newline="").readlines())
    reader = csv.reader(lines, strict=False)
    try:
        header = [h.strip().lower().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        return [], []
    rows = []
    while True:
        start = lines.next
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raw.rejected.append(Issue(path.name, start + 1, None, f"not valid CSV: {e}"))
            lines.next = start + 1
            reader = csv.reader(lines, strict=False)
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            spanned = lines.next - start
            if spanned > 1:
                reason = (f"a stray quote joined lines {start + 1}-{lines.next} into one row; "
                          f"line {start + 1} skipped, reading resumed on the next line")
                lines.next = start + 1
                reader = csv.reader(lines, strict=False)
            else:
                reason = f"has {len(values)} values but the header has {len(header)} columns"
            raw.rejected.append(Issue(path.name, start + 1, None, reason))
            continue
        rows.append((start + 1, dict(zip(header, values))))
    return header, rows


# ---- JSON -------------------------------------------------------------------------------


def _read_json(path: Path) -> _Raw:
    raw = _Raw()
    try:
        data = json.loads(_decode(path.read_bytes(), path.name, raw))
    except ValueError as e:
        raise DirectoryError([f"{path.name} is not valid JSON ({e})"]) from None
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        data = data["contents"]
    elif isinstance(data, dict) and isinstance(data.get("services"), list):
        data = data["services"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        problem = f"{path.name} holds no HSDS services (expected a list or one service object)"
        raise DirectoryError([problem])
    name = path.name
    add = raw.records

    def put(resource, where, obj, **links):
        if isinstance(obj, dict):
            add[resource].append((name, where, {**_flat(obj), **links}))

    for i, service in enumerate(data):
        where = f"[{i}]"
        if not isinstance(service, dict):
            raw.rejected.append(Issue(name, where, None, "not a service object"))
            continue
        sid = service.get("id")
        org = service.get("organization")
        if isinstance(org, dict):
            put("organization", f"{where}.organization", org)
        put("service", where, service,
            **({"organization_id": org.get("id")} if isinstance(org, dict) and not
               service.get("organization_id") else {}))
        for j, phone in enumerate(_list(service, "phones")):
            put("phone", f"{where}.phones[{j}]", phone, service_id=sid)
        for j, sched in enumerate(_list(service, "schedules")):
            put("schedule", f"{where}.schedules[{j}]", sched, service_id=sid)
        for j, attribute in enumerate(_list(service, "attributes")):
            at = f"{where}.attributes[{j}]"
            term = attribute.get("taxonomy_term") if isinstance(attribute, dict) else None
            if isinstance(term, dict):
                taxonomy = term.get("taxonomy_detail")
                if isinstance(taxonomy, dict):
                    put("taxonomy", f"{at}.taxonomy_term.taxonomy_detail", taxonomy)
                put("taxonomy_term", f"{at}.taxonomy_term", term,
                    **({"taxonomy_id": taxonomy.get("id")} if isinstance(taxonomy, dict) else {}))
            put("attribute", at, attribute, link_id=sid, link_entity="service",
                taxonomy_term_id=(attribute.get("taxonomy_term_id") or
                                  (term.get("id") if isinstance(term, dict) else None)))
        for j, capacity in enumerate(_list(service, "capacities")):
            at = f"{where}.capacities[{j}]"
            unit = capacity.get("unit") if isinstance(capacity, dict) else None
            if isinstance(unit, dict):
                put("unit", f"{at}.unit", unit)
            put("service_capacity", at, capacity, service_id=sid,
                **({"unit_id": unit.get("id")} if isinstance(unit, dict) else {}))
        for j, sal in enumerate(_list(service, "service_at_locations")):
            at = f"{where}.service_at_locations[{j}]"
            location = sal.get("location") if isinstance(sal, dict) else None
            lid = sal.get("location_id") or (location.get("id") if isinstance(location, dict) else None)
            put("service_at_location", at, sal, service_id=sid, location_id=lid)
            if isinstance(location, dict):
                put("location", f"{at}.location", location)
                for k, address in enumerate(_list(location, "addresses")):
                    put("address", f"{at}.location.addresses[{k}]", address, location_id=lid)
                for k, phone in enumerate(_list(location, "phones")):
                    put("phone", f"{at}.location.phones[{k}]", phone, location_id=lid)
                for k, sched in enumerate(_list(location, "schedules")):
                    put("schedule", f"{at}.location.schedules[{k}]", sched, location_id=lid)
            for k, phone in enumerate(_list(sal, "phones")):
                put("phone", f"{at}.phones[{k}]", phone, service_at_location_id=sal.get("id"))
            for k, sched in enumerate(_list(sal, "schedules")):
                put("schedule", f"{at}.schedules[{k}]", sched,
                    service_at_location_id=sal.get("id"))
    for resource in RESOURCES:
        add[resource] = _dedupe(add[resource])
    return raw


def _list(obj, key) -> list:
    value = obj.get(key) if isinstance(obj, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _flat(obj: dict) -> dict:
    """The scalar fields of an HSDS object (nested objects and lists are read separately)."""
    return {k: v for k, v in obj.items() if not isinstance(v, (dict, list))}


def _dedupe(records):
    """JSON repeats shared objects (a phone under a service and its location); keep the first."""
    seen = set()
    out = []
    for record in records:
        key = record[2].get("id")
        if key is not None and key in seen:
            continue
        seen.add(key)
        out.append(record)
    return out


# ---- checking and normalizing -----------------------------------------------------------


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


class _Builder:
    def __init__(self, source: str, layout: str):
        self.out = Directory(source=source, layout=layout)
        self.ids: dict[str, dict[str, object]] = {}

    def build(self, raw: _Raw) -> Directory:
        self.out.rejected.extend(raw.rejected)
        self.out.warnings.extend(raw.notes)
        if raw.legacy:
            self.out.layout += " (HSDS 1.x/2.0)"
        self.taxonomies = {}
        self.units = {}
        for resource in RESOURCES:
            handler = getattr(self, "_" + resource)
            for file, row, record in raw.records[resource]:
                self.file, self.row = file, row
                try:
                    handler(record)
                except _Reject as r:
                    self.out.rejected.append(Issue(file, row, r.field, r.reason))
        return self.out

    # helpers

    def warn(self, field_name, reason):
        self.out.warnings.append(Issue(self.file, self.row, field_name, reason))

    def require(self, record, name) -> str:
        value = _text(record.get(name))
        if value is None:
            raise _Reject(name, f"{name} is required")
        return value

    def new_id(self, kind: str, record, name="id") -> str:
        value = self.require(record, name)
        seen = self.ids.setdefault(kind, {})
        if value in seen:
            raise _Reject(name, f"duplicate id {value!r} (first at row {seen[value]})")
        return value

    def remember(self, kind, value):
        self.ids.setdefault(kind, {})[value] = self.row

    def known(self, kind, record, name, *, required=False) -> str | None:
        value = self.require(record, name) if required else _text(record.get(name))
        if value is not None and value not in self.ids.get(kind, {}):
            raise _Reject(name, f"{name} {value!r} is not a known {kind}")
        return value

    def number(self, record, name, *, low=None, high=None, integer=False, reject=False):
        value = _text(record.get(name))
        if value is None:
            return None
        try:
            number = float(value)
            if not math.isfinite(number) or (integer and not number.is_integer()):
                raise ValueError
            if (low is not None and number < low) or (high is not None and number > high):
                raise ValueError
        except ValueError:
            bounds = f" from {low} to {high}" if low is not None and high is not None else (
                f" of at least {low}" if low is not None else "")
            reason = f"{value!r} is not a {'whole ' if integer else ''}number{bounds}"
            if reject:
                raise _Reject(name, reason) from None
            self.warn(name, reason + "; value ignored")
            return None
        return int(number) if integer else number

    def emit(self, table, row):
        self.out.tables[table].append(row)

    # resources (called in RESOURCES order)

    def _organization(self, r):
        oid = self.new_id("organization", r)
        self.emit("dir_organization", {
            "id": oid, "name": self.require(r, "name"), "description": _text(r.get("description")),
            "url": _text(r.get("website") or r.get("url")), "email": _text(r.get("email"))})
        self.remember("organization", oid)

    def _service(self, r):
        sid = self.new_id("service", r)
        name = self.require(r, "name")
        org = _text(r.get("organization_id"))
        if org is not None and self.ids.get("organization") and org not in self.ids["organization"]:
            self.warn("organization_id", f"{org!r} is not a known organization; value ignored")
            org = None
        status = (_text(r.get("status")) or "active").lower()
        if status not in SERVICE_STATUSES:
            self.warn("status", f"{status!r} is not one of {', '.join(SERVICE_STATUSES)}; "
                                f"taken as active")
            status = "active"
        self.emit("dir_service", {
            "id": sid, "organization_id": org, "name": name,
            "alternate_name": _text(r.get("alternate_name")),
            "description": _text(r.get("description")), "url": _text(r.get("url")),
            "email": _text(r.get("email")), "status": status,
            "eligibility_description": _text(r.get("eligibility_description") or r.get("eligibility")),
            "minimum_age": self.number(r, "minimum_age", low=0, high=150),
            "maximum_age": self.number(r, "maximum_age", low=0, high=150),
            "application_process": _text(r.get("application_process")),
            "fees_description": _text(r.get("fees_description") or r.get("fees")),
            "alert": _text(r.get("alert")), "last_modified": _text(r.get("last_modified"))})
        self.remember("service", sid)

    def _location(self, r):
        lid = self.new_id("location", r)
        lat = self.number(r, "latitude", low=-90, high=90)
        lon = self.number(r, "longitude", low=-180, high=180)
        if (lat is None) != (lon is None):
            if _text(r.get("latitude")) and _text(r.get("longitude")):
                self.warn("longitude" if lon is not None else "latitude",
                          "the other coordinate is unusable, so both were ignored")
            lat = lon = None
        self.emit("dir_location", {
            "id": lid, "organization_id": _text(r.get("organization_id")),
            "name": _text(r.get("name")), "description": _text(r.get("description")),
            "transportation": _text(r.get("transportation")), "latitude": lat, "longitude": lon})
        self.remember("location", lid)

    def _service_at_location(self, r):
        said = self.new_id("service_at_location", r)
        sid = self.known("service", r, "service_id", required=True)
        lid = self.known("location", r, "location_id", required=True)
        self.emit("dir_service_at_location", {"id": said, "service_id": sid, "location_id": lid})
        self.remember("service_at_location", said)

    def _address(self, r):
        aid = self.new_id("address", r)
        lid = self.known("location", r, "location_id", required=True)
        self.emit("dir_address", {
            "id": aid, "location_id": lid, "attention": _text(r.get("attention")),
            "address_1": _text(r.get("address_1") or r.get("address")),
            "address_2": _text(r.get("address_2")), "city": _text(r.get("city")),
            "region": _text(r.get("region")), "state_province": _text(r.get("state_province")),
            "postal_code": _text(r.get("postal_code")), "country": _text(r.get("country")),
            "address_type": _text(r.get("address_type")) or "physical"})
        self.remember("address", aid)

    def _phone(self, r):
        pid = self.new_id("phone", r)
        number = self.require(r, "number").strip('"').strip()
        if not number:
            raise _Reject("number", "number is required")
        links = {
            "service_id": self.known("service", r, "service_id"),
            "location_id": self.known("location", r, "location_id"),
            "organization_id": _text(r.get("organization_id")),
            "service_at_location_id": self.known("service_at_location", r, "service_at_location_id"),
        }
        if not any(links.values()):
            raise _Reject("service_id", "the phone belongs to no service, location or organization")
        self.emit("dir_phone", {"id": pid, **links, "number": number,
                                "extension": _text(r.get("extension")),
                                "type": _text(r.get("type")),
                                "description": _text(r.get("description") or r.get("department"))})
        self.remember("phone", pid)

    def _schedule_links(self, r) -> dict:
        links = {
            "service_id": self.known("service", r, "service_id"),
            "location_id": self.known("location", r, "location_id"),
            "service_at_location_id": self.known("service_at_location", r, "service_at_location_id"),
        }
        if not any(links.values()):
            raise _Reject("service_id", "the schedule belongs to no service, location or "
                                        "service at location")
        return links

    def _emit_schedule(self, sid: str, links: dict, fields: dict):
        row = {"id": sid, **links, **{k: None for k in (
            "valid_from", "valid_to", "dtstart", "timezone", "until", "count", "wkst", "freq",
            "interval", "byday", "byweekno", "bymonthday", "opens_at", "closes_at",
            "description", "notes")}, "holiday": 0, "closed": 0}
        row.update(fields)
        try:
            rule = opening_hours.rule_for(row)
        except ValueError as e:
            name, _, reason = str(e).partition(": ")
            raise _Reject(name, reason or str(e)) from None
        if rule.freq == "MONTHLY" and not (rule.byday or rule.bymonthday or rule.dtstart):
            raise _Reject("freq", "a MONTHLY schedule needs byday, bymonthday or dtstart")
        if rule.opens is None and rule.closes is not None and not rule.closed:
            raise _Reject("opens_at", "closes_at is given but opens_at is missing")
        # Store the normalized forms, so the cache compares equal on a re-import.
        for name in ("valid_from", "valid_to", "dtstart", "until"):
            day = getattr(rule, name)
            row[name] = day.isoformat() if day else None
        for name in ("freq", "byday", "wkst"):
            row[name] = row[name].strip().upper().replace(" ", "") if row[name] else None
        row["count"], row["interval"] = rule.count, rule.interval if row["interval"] else None
        self.emit("dir_schedule", row)
        self.remember("schedule", sid)

    def _schedule(self, r):
        sid = self.new_id("schedule", r)
        links = self._schedule_links(r)
        fields = {k: _text(r.get(k)) for k in (
            "valid_from", "valid_to", "dtstart", "timezone", "until", "count", "wkst", "freq",
            "interval", "byday", "byweekno", "bymonthday", "opens_at", "closes_at",
            "description", "notes")}
        self._emit_schedule(sid, links, fields)

    def _regular_schedule(self, r):
        """HSDS 1.x: one row per weekday (name, code, or ISO number 1=Monday..7=Sunday)."""
        sid = self.new_id("schedule", r)
        links = self._schedule_links(r)
        byday = _text(r.get("byday"))
        weekday = _text(r.get("weekday"))
        if not byday:
            if weekday is None:
                raise _Reject("weekday", "weekday is required")
            key = weekday.lower()
            if key.isdigit() and 0 <= int(key) <= 7:
                index = (int(key) - 1) % 7
            elif key in WEEKDAY_NAMES:
                index = WEEKDAY_NAMES[key]
            else:
                raise _Reject("weekday", f"{weekday!r} is not a day of the week")
            byday = opening_hours.WEEKDAYS[index]
        fields = {k: _text(r.get(k)) for k in ("valid_from", "valid_to", "dtstart", "timezone",
                                               "opens_at", "closes_at", "description", "notes")}
        fields.update(freq=_text(r.get("freq")) or "WEEKLY", byday=byday,
                      interval=_text(r.get("interval")), bymonthday=_text(r.get("bymonthday")))
        self._emit_schedule(sid, links, fields)

    def _holiday_schedule(self, r):
        """HSDS 1.x: closed (or special hours) from start_date to end_date, every day."""
        sid = self.new_id("schedule", r)
        links = self._schedule_links(r)
        closed = (_text(r.get("closed")) or "").lower() in ("1", "true", "yes", "y", "t")
        self._emit_schedule(sid, links, {
            "valid_from": self.require(r, "start_date"), "valid_to": self.require(r, "end_date"),
            "opens_at": None if closed else _text(r.get("opens_at")),
            "closes_at": None if closed else _text(r.get("closes_at")),
            "freq": "WEEKLY", "byday": ",".join(opening_hours.WEEKDAYS),
            "description": _text(r.get("description")), "holiday": 1, "closed": int(closed)})

    def _taxonomy(self, r):
        tid = self.new_id("taxonomy", r)
        self.taxonomies[tid] = self.require(r, "name")
        self.remember("taxonomy", tid)

    def _taxonomy_term(self, r):
        tid = self.new_id("taxonomy_term", r)
        taxonomy = self.taxonomies.get(_text(r.get("taxonomy_id")) or "") or _text(
            r.get("taxonomy") or r.get("vocabulary"))
        self.emit("dir_taxonomy_term", {
            "id": tid, "code": _text(r.get("code")), "name": self.require(r, "name"),
            "description": _text(r.get("description")),
            "parent_id": _text(r.get("parent_id")), "taxonomy": taxonomy})
        self.remember("taxonomy_term", tid)

    def _link_term(self, service_id: str, term_id: str):
        key = (service_id, term_id)
        if key in self.ids.setdefault("service_term", {}):
            return
        self.remember("service_term", key)
        self.emit("dir_service_term", {"service_id": service_id, "term_id": term_id})

    def _attribute(self, r):
        entity = (_text(r.get("link_entity")) or _text(r.get("link_type")) or "service").lower()
        if entity != "service":
            return  # attributes of other objects are not used by the laptop
        term = _text(r.get("taxonomy_term_id"))
        if term is None:
            return  # a free-text attribute value, not a classification
        sid = self.known("service", r, "link_id", required=True)
        self.known("taxonomy_term", r, "taxonomy_term_id", required=True)
        self._link_term(sid, term)

    def _service_taxonomy(self, r):
        sid = self.known("service", r, "service_id", required=True)
        term = self.known("taxonomy_term", r, "taxonomy_id", required=True)
        self._link_term(sid, term)

    def _unit(self, r):
        uid = self.new_id("unit", r)
        self.units[uid] = self.require(r, "name")
        self.remember("unit", uid)

    def _service_capacity(self, r):
        cid = self.new_id("capacity", r)
        sid = self.known("service", r, "service_id", required=True)
        unit = self.known("unit", r, "unit_id")
        available = self.number(r, "available", low=0, integer=True, reject=True)
        if available is None:
            raise _Reject("available", "available is required")
        maximum = self.number(r, "maximum", low=0, integer=True)
        if maximum is not None and available > maximum:
            self.warn("available", f"available ({available}) is more than maximum ({maximum})")
        updated = _text(r.get("updated"))
        if updated is not None:
            try:
                updated = to_iso(parse_iso(updated))
            except ValueError:
                self.warn("updated", f"{updated!r} is not an ISO date-time; value ignored")
                updated = None
        self.emit("dir_capacity", {"id": cid, "service_id": sid,
                                   "unit": self.units.get(unit) if unit else None,
                                   "available": available, "maximum": maximum,
                                   "description": _text(r.get("description")),
                                   "updated": updated})
        self.remember("capacity", cid)
