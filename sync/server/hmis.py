"""`tandem-server export-hmis`: one street outreach project's work as an HMIS CSV export
(HUD HMIS CSV Format Specifications FY2026, ProjectType 4), for the CoC's HMIS.

What Tandem knows becomes HUD's records this way (docs/hmis.md says it in full):
- each outreach contact is a CurrentLivingSituation row (element 4.12), on the day it was made
  in the agency's time zone; where the person was living maps to HUD's codes, 99 when the peer
  recorded none;
- a person's contacts make enrollments: one starts with a first contact and exits on its last
  contact once `hmis_exit_after_days` pass with no other (Destination 30, no exit interview);
  DateOfEngagement is the first contact in it where the person accepted case planning;
- a contact with no person is a client of its own, with HUD's data quality codes (99, data not
  collected) and no name: Tandem never invents one;
- a project funded by HHS PATH gets Services rows: PATH services offered at contacts (141) and
  PATH referrals made on them (161) with their outcome.
The export period is a reporting period (ExportPeriodType 3, full refresh): every enrollment
active in it, with all of its contacts up to the period's end.
"""

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from fieldapp import __version__, hmis_spec as spec
from fieldapp.clock import parse_stamp
from fieldapp.errors import ValidationError
from fieldapp.timeutil import parse_iso, utc_now

from . import agency_settings
from .tables import agency_setting, app_user, meta, record

# records.LIVING_SITUATIONS -> list 3.12.1
LIVING_CODES = {
    "unsheltered": 116, "emergency_shelter": 101, "safe_haven": 118,
    "transitional_housing": 302, "hotel_motel": 314, "staying_with_family": 335,
    "staying_with_friends": 336, "hospital": 206, "psychiatric_facility": 204,
    "treatment_facility": 205, "jail": 207, "rental": 410, "other": 17,
    "unable_to_determine": 37, "doesnt_know": 8, "prefers_not_to_answer": 9,
}
NOT_COLLECTED = 99
NO_EXIT_INTERVIEW = 30  # Destination when the person simply stopped being seen
# Services offered at an outreach contact (ui/outreach.py) that are PATH services (list P1.2).
PATH_SERVICES = {"mental_health": 4, "substance_use_support": 5, "housing_navigation": 10}
# Referral categories (records.REFERRAL_CATEGORIES) that are PATH referrals (list P2.2).
PATH_REFERRALS = {"mental_health": 1, "crisis_care": 1, "substance_use": 2, "medical": 3,
                  "education": 5, "housing": 6, "benefits": 8, "employment": 9,
                  "health_insurance": 10, "shelter": 11}
REFERRAL_OUTCOMES = {"completed": 1, "declined": 2, "sent": 3, "accepted": 3}  # list P2.A
SYSTEM_USER = "tandem"  # the user of rows Tandem makes itself (organization, project, ...)
SOURCE_TYPE = 2  # a standalone, agency-specific application (list 1.9)


class ExportError(Exception):
    """The export cannot be made as asked (no such project, a bad period, a bad folder)."""


@dataclass
class _Export:
    zone: ZoneInfo
    export_id: str
    rows: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    users: set[str] = field(default_factory=set)

    def add(self, file: str, row: dict) -> None:
        if row.get("UserID"):
            self.users.add(row["UserID"])
        self.rows[file].append({**row, "ExportID": self.export_id})


def export(engine, project_name: str, start: date, end: date, out: str | Path) -> dict:
    """Write the project's export for [start, end] (agency-local dates) into folder `out`;
    returns what it wrote: {"folder", "export_id", "rows": {file: n}, "teams"}."""
    if end < start:
        raise ExportError(f"--to {end} is before --from {start}")
    with engine.begin() as conn:
        settings = agency_settings.read(conn)
        projects = settings["hmis_projects"]
        if project_name not in projects:
            known = ", ".join(sorted(projects)) or "none yet"
            raise ExportError(f"no HMIS project named {project_name!r} (projects: {known}); "
                              "set them with 'tandem-server settings set hmis_projects ...' "
                              "(docs/hmis.md)")
        project = projects[project_name]
        zone = ZoneInfo(settings["time_zone"])
        job = _Export(zone, uuid.uuid4().hex)
        set_at = conn.scalar(select(agency_setting.c.updated_at).where(
            agency_setting.c.key == "hmis_projects"))
        records = _records(conn, project["teams"], end, zone)
        users = {r.username: r for r in conn.execute(select(app_user))}
        implementation_id = _implementation_id(conn)
    stamp = _t(parse_iso(set_at), zone) if set_at else _t(utc_now(), zone)
    ids = _project_rows(job, project_name, project, stamp)
    episodes = _episodes(records["outreach_contact"], zone, settings["hmis_exit_after_days"],
                         start, end)
    _client_rows(job, episodes, records["person"], ids)
    if any(f["funder"] == spec.PATH_FUNDER for f in project["funders"]):
        _services_rows(job, episodes, records["referral"])
    _user_rows(job, users)
    job.rows["Export"].append({
        "ExportID": job.export_id, "SourceType": SOURCE_TYPE, "SourceID": project["coc_code"],
        "SourceName": _text(project["organization"], 50), "ExportDate": _t(utc_now(), zone),
        "ExportStartDate": start.isoformat(), "ExportEndDate": end.isoformat(),
        "SoftwareName": "Tandem", "SoftwareVersion": __version__,
        "CSVVersion": spec.CSV_VERSION, "ExportPeriodType": 3, "ExportDirective": 2,
        "HashStatus": 1, "ImplementationID": implementation_id})
    folder = _write(job, Path(out))
    return {"folder": str(folder), "export_id": job.export_id, "teams": project["teams"],
            "rows": {name: len(job.rows.get(name, [])) for name in spec.ALL_FILES}}


# ---- reading the agency's records ---------------------------------------------------------

def _records(conn, teams: list[str], end: date, zone: ZoneInfo) -> dict[str, dict[str, dict]]:
    """The teams' live outreach contacts up to the end of `end` and their referrals, and the
    persons the contacts name (whatever their team): table -> id -> fields, with the record's
    stamps and author."""
    limit = datetime.combine(end + timedelta(days=1), time(0), zone)
    out: dict[str, dict[str, dict]] = {t: {} for t in ("outreach_contact", "person", "referral")}

    def keep(r) -> None:
        data = json.loads(r["data"])
        if r["table_name"] == "outreach_contact" and parse_iso(data["contacted_at"]) >= limit:
            return
        out[r["table_name"]][r["id"]] = {**data, "id": r["id"], "author": r["author"],
                                         "created": r["created_hlc"], "updated": r["updated_hlc"]}

    for r in conn.execute(select(record).where(
            record.c.team.in_(teams), record.c.table_name.in_(("outreach_contact", "referral")),
            record.c.deleted.is_(False))).mappings():
        keep(r)
    named = sorted({c["person_id"] for c in out["outreach_contact"].values() if c.get("person_id")})
    for start in range(0, len(named), 500):
        for r in conn.execute(select(record).where(
                record.c.id.in_(named[start:start + 500]), record.c.table_name == "person",
                record.c.deleted.is_(False))).mappings():
            keep(r)
    return out


def _implementation_id(conn) -> str:
    """A stable id of this agency database, made on its first HMIS export."""
    found = conn.scalar(select(meta.c.value).where(meta.c.key == "hmis_implementation_id"))
    if found:
        return found
    made = f"tandem-{uuid.uuid4().hex}"
    conn.execute(insert(meta).values(key="hmis_implementation_id", value=made))
    return made


@dataclass
class _Episode:
    enrollment_id: str
    personal_id: str
    person_id: str | None
    contacts: list[dict]
    exit_date: date | None


def _episodes(contacts: dict[str, dict], zone: ZoneInfo, exit_after: int, start: date,
              end: date) -> list[_Episode]:
    """Enrollments active in [start, end]: each person's contacts cut where more than
    `exit_after` days pass between two; a contact with no person is an enrollment alone."""
    by_person = defaultdict(list)
    for contact in contacts.values():
        contact["day"] = parse_iso(contact["contacted_at"]).astimezone(zone).date()
        by_person[contact.get("person_id") or f"anonymous:{contact['id']}"].append(contact)
    episodes = []
    for who, found in by_person.items():
        found.sort(key=lambda c: (c["contacted_at"], c["id"]))
        runs = [[found[0]]]
        for contact in found[1:]:
            if (contact["day"] - runs[-1][-1]["day"]).days > exit_after:
                runs.append([])
            runs[-1].append(contact)
        person_id = None if who.startswith("anonymous:") else who
        for run in runs:
            last = run[-1]["day"]
            exit_date = last if (end - last).days > exit_after else None
            if exit_date is not None and exit_date < start:
                continue
            episodes.append(_Episode(_id(f"enrollment:{run[0]['id']}"),
                                     _id(person_id or run[0]["id"]), person_id, run, exit_date))
    return sorted(episodes, key=lambda e: (e.contacts[0]["day"], e.enrollment_id))


# ---- rows ---------------------------------------------------------------------------------

def _project_rows(job: _Export, name: str, p: dict, stamp: str) -> dict:
    meta_row = {"DateCreated": stamp, "DateUpdated": stamp, "UserID": SYSTEM_USER}
    organization_id = _id(f"organization:{p['organization']}")
    project_id = p.get("project_id") or _id(f"project:{name}")
    job.add("Organization", {"OrganizationID": organization_id,
                             "OrganizationName": _text(p["organization"], 200),
                             "VictimServiceProvider": int(p.get("victim_service_provider",
                                                                False)), **meta_row})
    job.add("Project", {"ProjectID": project_id, "OrganizationID": organization_id,
                        "ProjectName": _text(name, 200), "OperatingStartDate": p["operating_start"],
                        "OperatingEndDate": p.get("operating_end"), "ContinuumProject": 1,
                        "ProjectType": 4, "TargetPopulation": 4, **meta_row})
    for n, f in enumerate(p["funders"]):
        job.add("Funder", {"FunderID": _id(f"funder:{name}:{n}"), "ProjectID": project_id,
                           "Funder": f["funder"], "OtherFunder": _text(f.get("other"), 100),
                           "GrantID": _text(f.get("grant_id"), 100), "StartDate": f["start"],
                           "EndDate": f.get("end"), **meta_row})
    address = p.get("address", {})
    job.add("ProjectCoC", {"ProjectCoCID": _id(f"projectcoc:{name}:{p['coc_code']}"),
                           "ProjectID": project_id, "CoCCode": p["coc_code"],
                           "Geocode": p["geocode"],
                           **{column: _text(address.get(key), limit) for column, key, limit in (
                               ("Address1", "address1", 100), ("Address2", "address2", 100),
                               ("City", "city", 50), ("State", "state", 2), ("ZIP", "zip", 5))},
                           "GeographyType": p.get("geography_type"), **meta_row})
    job.add("HMISParticipation", {"HMISParticipationID": _id(f"hmisparticipation:{name}"),
                                  "ProjectID": project_id, "HMISParticipationType": 1,
                                  "HMISParticipationStatusStartDate": p["operating_start"],
                                  "HMISParticipationStatusEndDate": p.get("operating_end"),
                                  **meta_row})
    return {"project": project_id, "coc": p["coc_code"]}


def _client_rows(job: _Export, episodes: list[_Episode], persons: dict[str, dict],
                 ids: dict) -> None:
    clients: dict[str, dict] = {}
    for e in episodes:
        first, last = e.contacts[0], e.contacts[-1]
        person = persons.get(e.person_id) if e.person_id else None
        sources = e.contacts + ([person] if person else [])
        client = clients.setdefault(e.personal_id, _client(e.personal_id, person))
        _widen(client, sources, job.zone)
        engaged = next((c["day"] for c in e.contacts if c.get("engaged")), None)
        situation = LIVING_CODES.get(first.get("living_situation"), NOT_COLLECTED)
        job.add("Enrollment", {
            "EnrollmentID": e.enrollment_id, "PersonalID": e.personal_id,
            "ProjectID": ids["project"], "EntryDate": first["day"].isoformat(),
            "HouseholdID": _id(f"household:{e.enrollment_id}"), "RelationshipToHoH": 1,
            "EnrollmentCoC": ids["coc"],
            "LivingSituation": situation if situation in spec.PRIOR_LIVING else NOT_COLLECTED,
            "DisablingCondition": NOT_COLLECTED,
            "DateOfEngagement": engaged.isoformat() if engaged else None,
            **_stamps(e.contacts, job.zone)})
        for c in e.contacts:
            job.add("CurrentLivingSituation", {
                "CurrentLivingSitID": _id(c["id"]), "EnrollmentID": e.enrollment_id,
                "PersonalID": e.personal_id, "InformationDate": c["day"].isoformat(),
                "CurrentLivingSituation": LIVING_CODES.get(c.get("living_situation"),
                                                           NOT_COLLECTED),
                "LocationDetails": _text(c.get("place"), 250), **_stamps([c], job.zone)})
        if e.exit_date is not None:
            job.add("Exit", {"ExitID": e.enrollment_id, "EnrollmentID": e.enrollment_id,
                             "PersonalID": e.personal_id, "ExitDate": e.exit_date.isoformat(),
                             "Destination": NO_EXIT_INTERVIEW, **_stamps([last], job.zone)})
    for client in clients.values():
        job.add("Client", client)


def _client(personal_id: str, person: dict | None) -> dict:
    """HUD's Client row for a person on file (or nobody, for an anonymous contact)."""
    first = last = None
    name_quality = NOT_COLLECTED
    if person and person.get("kind") == "named":
        first, last = _text(person.get("first_name"), 50), _text(person.get("last_name"), 50)
        name_quality = 1 if first and last else 2 if first or last else NOT_COLLECTED
    elif person and person.get("kind") == "alias" and person.get("alias"):
        first, name_quality = _text(person["alias"], 50), 2  # a street name
    dob, dob_quality = None, NOT_COLLECTED
    if person and person.get("date_of_birth"):
        dob, dob_quality = person["date_of_birth"], 1
    elif person and person.get("birth_year"):
        dob, dob_quality = f"{person['birth_year']:04d}-01-01", 2  # approximate
    return {"PersonalID": personal_id, "FirstName": first, "LastName": last,
            "NameDataQuality": name_quality, "SSNDataQuality": NOT_COLLECTED, "DOB": dob,
            "DOBDataQuality": dob_quality, "Sex": NOT_COLLECTED,
            **{race: 0 for race in ("AmIndAKNative", "Asian", "BlackAfAmerican",
                                    "HispanicLatinao", "MidEastNAfrican", "NativeHIPacific",
                                    "White")},
            "RaceNone": NOT_COLLECTED, "VeteranStatus": NOT_COLLECTED}


def _widen(client: dict, sources: list[dict], zone: ZoneInfo) -> None:
    """A client's DateCreated is the earliest of what it summarises, DateUpdated and UserID
    the latest."""
    stamps = _stamps(sources, zone)
    if "DateCreated" not in client or stamps["DateCreated"] < client["DateCreated"]:
        client["DateCreated"] = stamps["DateCreated"]
    if "DateUpdated" not in client or stamps["DateUpdated"] > client["DateUpdated"]:
        client["DateUpdated"], client["UserID"] = stamps["DateUpdated"], stamps["UserID"]


def _services_rows(job: _Export, episodes: list[_Episode], referrals: dict[str, dict]) -> None:
    """PATH services (141) offered at each contact and PATH referrals (161) made on them."""
    made_on = defaultdict(list)
    for referral in referrals.values():
        if referral.get("outreach_contact_id"):
            made_on[referral["outreach_contact_id"]].append(referral)
    for e in episodes:
        for c in e.contacts:
            base = {"EnrollmentID": e.enrollment_id, "PersonalID": e.personal_id,
                    "DateProvided": c["day"].isoformat()}
            offered = c.get("services_offered") or []
            offered = json.loads(offered) if isinstance(offered, str) else offered
            for code in sorted({PATH_SERVICES[s] for s in offered if s in PATH_SERVICES}):
                job.add("Services", {"ServicesID": _id(f"path-service:{c['id']}:{code}"),
                                     **base, "RecordType": spec.PATH_SERVICE,
                                     "TypeProvided": code, **_stamps([c], job.zone)})
            for r in sorted(made_on[c["id"]], key=lambda r: r["id"]):
                if r["category"] not in PATH_REFERRALS:
                    continue
                job.add("Services", {"ServicesID": _id(r["id"]), **base,
                                     "RecordType": spec.PATH_REFERRAL,
                                     "TypeProvided": PATH_REFERRALS[r["category"]],
                                     "ReferralOutcome": REFERRAL_OUTCOMES[r["status"]],
                                     **_stamps([r], job.zone)})


def _user_rows(job: _Export, accounts: dict) -> None:
    accounts = {_user_id(name): account for name, account in accounts.items()}
    for user_id in sorted(job.users):
        account = accounts.get(user_id)
        if user_id == SYSTEM_USER or account is None:
            job.rows["User"].append({"UserID": user_id, "UserLastName": "Tandem",
                                     "DateCreated": _t(utc_now(), job.zone),
                                     "DateUpdated": _t(utc_now(), job.zone),
                                     "ExportID": job.export_id})
            continue
        first, _, rest = (account.display_name or "").partition(" ")
        created = _t(parse_iso(account.created_at), job.zone)
        job.rows["User"].append({"UserID": user_id, "UserFirstName": _text(first, 50),
                                 "UserLastName": _text(rest, 50), "DateCreated": created,
                                 "DateUpdated": created, "ExportID": job.export_id})


def _stamps(sources: list[dict], zone: ZoneInfo) -> dict:
    """DateCreated (earliest), DateUpdated and UserID (latest) of the records a row is from;
    the UserID is the author's user name, which User.csv then describes."""
    created = min(s["created"] for s in sources)
    latest = max(sources, key=lambda s: s["updated"])
    return {"DateCreated": _t(_moment(created), zone),
            "DateUpdated": _t(_moment(latest["updated"]), zone),
            "UserID": _user_id(latest["author"])}


def _user_id(username: str) -> str:
    return username if len(username) <= 32 else _id(f"user:{username}")


def _moment(stamp: str) -> datetime:
    """The wall time in a clock stamp (fieldapp/clock.py)."""
    return datetime.fromtimestamp(parse_stamp(stamp)[0] / 1000, timezone.utc)


def _t(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _id(text: str) -> str:
    """An HMIS id (32 characters at most): a UUID's hex, else a digest of the text."""
    try:
        return uuid.UUID(text).hex
    except ValueError:
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def _text(value, limit: int) -> str | None:
    """Text as FY2026 allows it: without < > [ ] { }, on one line, at most `limit` long."""
    if value is None:
        return None
    text = " ".join(str(value).translate({ord(c): None for c in spec.FORBIDDEN_CHARACTERS})
                    .split())
    return text[:limit] or None


# ---- writing ------------------------------------------------------------------------------

def _write(job: _Export, out: Path) -> Path:
    """Every file, whole, into `out`: made in a folder beside it and swapped in, so `out`
    holds one export or the one before, never a mix."""
    if out.exists() and (not out.is_dir() or any(
            p.suffix != ".csv" or p.stem not in spec.ALL_FILES for p in out.iterdir())):
        raise ExportError(f"{out} holds files that are not an HMIS export; give an empty or "
                          "new folder, or one a previous export wrote")
    out.parent.mkdir(parents=True, exist_ok=True)
    made = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        for name in spec.ALL_FILES:
            _write_file(made / f"{name}.csv", name, job.rows.get(name, []))
        if out.exists():
            old = out.with_name(f".{out.name}.old-{job.export_id}")
            os.replace(out, old)
            os.replace(made, out)
            shutil.rmtree(old)
        else:
            os.replace(made, out)
    except BaseException:
        shutil.rmtree(made, ignore_errors=True)
        raise
    return out


def _write_file(path: Path, name: str, rows: list[dict]) -> None:
    header = spec.header(name)
    text_columns = {c.name for c in spec.FILES.get(name, ()) if c.type == "S"}
    lines = [",".join(header)]
    for row in rows:
        cells = []
        for column in header:
            value = row.get(column)
            if value is None or value == "":
                cells.append("")
            elif column in text_columns:
                cells.append('"' + str(value).replace('"', '""') + '"')
            else:
                cells.append(str(value))
        lines.append(",".join(cells))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError("export-hmis", {option: f"must be a date like 2026-11-01, not "
                                                      f"{text!r}"}) from None
