"""A checker for HMIS CSV exports (FY2026), written from the same reference as the export.

`check(folder)` reads every file of the format that is there and reports each file, row and
column that breaks a rule: a missing file; bytes that are not UTF-8; a header that is not the
specification's exact row; a row with the wrong number of fields; a value that is missing where
it may not be, too long, of the wrong type, outside its code list, carrying a character FY2026
forbids, or text not in double quotes; and the rules between rows and files (one Export row
whose ExportID every row carries, unique keys, every PersonalID in Enrollment in Client and
every Client enrolled, every EnrollmentID in CurrentLivingSituation, Services and Exit in
Enrollment for the same person and inside the stay, users in User.csv, the enrollment's CoC
among its project's, one head per household, and the "null unless" rules of the
specification). `tandem-server check-hmis DIR` runs it; docs/hmis.md lists every rule.
"""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from . import hmis_spec as spec

COC = re.compile(r"[A-Za-z]{2}-[0-9]{3}")
PATTERNS = {  # (file, column): (pattern, what it must be)
    ("ProjectCoC", "CoCCode"): (COC, "a CoC code like AZ-501"),
    ("Enrollment", "EnrollmentCoC"): (COC, "a CoC code like AZ-501"),
    ("ProjectCoC", "Geocode"): (re.compile(r"[0-9]{6}"), "six digits"),
    ("ProjectCoC", "ZIP"): (re.compile(r"[0-9]{5}"), "five digits"),
    ("ProjectCoC", "State"): (re.compile(r"[A-Za-z]{2}"), "a two-letter state"),
    ("Client", "SSN"): (re.compile(r"[0-9x]{9}"), "nine digits, x for a digit not known"),
    ("User", "UserPhone"): (re.compile(r"[2-9][0-9]{2}[2-9][0-9]{6}"), "a 10-digit phone number"),
    ("Export", "SourceContactPhone"): (re.compile(r"[2-9][0-9]{2}[2-9][0-9]{6}"),
                                       "a 10-digit phone number"),
    ("User", "UserExtension"): (re.compile(r"[0-9]{1,5}"), "1-5 digits"),
    ("Export", "SourceContactExtension"): (re.compile(r"[0-9]{1,5}"), "1-5 digits"),
    ("User", "UserEmail"): (re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"), "an email address"),
    ("Export", "SourceContactEmail"): (re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
                                       "an email address"),
    ("Export", "CSVVersion"): (re.compile(r"[0-9]{4} v\S+"), "'[year] v[version]', like "
                                                              "2026 v1.0"),
}
HASHED_LENGTHS = {2: {"FirstName": 40, "MiddleName": 40, "LastName": 40, "SSN": 44},
                  4: {"FirstName": 64, "MiddleName": 64, "LastName": 64, "SSN": 68}}
RACES = ("AmIndAKNative", "Asian", "BlackAfAmerican", "HispanicLatinao", "MidEastNAfrican",
         "NativeHIPacific", "White")
VETERAN_DETAIL = ("YearEnteredService", "YearSeparated", "WorldWarII", "KoreanWar", "VietnamWar",
                  "DesertStorm", "AfghanistanOEF", "IraqOIF", "IraqOND", "OtherTheater",
                  "MilitaryBranch", "DischargeStatus")
LEAVE_DETAIL = ("SubsequentResidence", "ResourcesToObtain", "LeaseOwn60Day", "MovedTwoOrMore")


@dataclass(frozen=True)
class Finding:
    """One broken rule: in `file`, data row `row` (1 is the first row after the header; 0 the
    file or its header), column `column` ("" for the row or file)."""
    file: str
    row: int
    column: str
    problem: str

    def __str__(self) -> str:
        where = self.file + (f" row {self.row}" if self.row else "") + (
            f" {self.column}" if self.column else "")
        return f"{where}: {self.problem}"


@dataclass
class _Row:
    n: int
    values: dict[str, str]  # column -> text as read ("" is null)


def check(folder: str | Path) -> list[Finding]:
    """Every rule the export in `folder` breaks, in file order; [] when it passes."""
    folder = Path(folder)
    findings: list[Finding] = []
    data: dict[str, list[_Row]] = {}
    for name in spec.ALL_FILES:
        path = folder / f"{name}.csv"
        if not path.exists():
            if name in spec.REQUIRED_FILES:
                findings.append(Finding(f"{name}.csv", 0, "", "missing"))
            continue
        rows = _read(path, name, findings)
        if rows is not None:
            data[name] = rows
    hash_status = _export_hash_status(data)
    for name, rows in data.items():
        if name in spec.FILES:
            for row in rows:
                _check_values(name, row, hash_status, findings)
    _check_links(data, findings)
    return findings


# ---- reading ------------------------------------------------------------------------------

def _read(path: Path, name: str, findings: list[Finding]) -> list[_Row] | None:
    """The file's data rows as column -> text, or None when its header is not the spec's."""
    file = path.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # a byte order mark is allowed (the reference is silent)
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        findings.append(Finding(file, max(line - 1, 0), "", f"not UTF-8 (byte {e.start}, "
                                                             f"line {line})"))
        text = raw.decode("utf-8", errors="replace")
    records = _records(text)
    if not records:
        findings.append(Finding(file, 0, "", "empty: the first row must be the header"))
        return None
    expected = spec.header(name)
    header = [value for value, _ in records[0]]
    if header != expected:
        findings.append(Finding(file, 0, "", _header_problem(header, expected)))
        return None
    quoted_columns = {c.name for c in spec.FILES.get(name, ()) if c.type == "S"}
    rows = []
    for n, fields in enumerate(records[1:], 1):
        if fields == [("", False)]:
            findings.append(Finding(file, n, "", "blank line"))
            continue
        if len(fields) != len(expected):
            findings.append(Finding(file, n, "", f"{len(fields)} fields; the header has "
                                                  f"{len(expected)}"))
            continue
        values = {}
        for column, (value, quoted) in zip(expected, fields):
            values[column] = value
            if value and column in quoted_columns and not quoted:
                findings.append(Finding(file, n, column, "text must be in double quotes"))
        rows.append(_Row(n, values))
    return rows


def _records(text: str) -> list[list[tuple[str, bool]]]:
    """RFC 4180 records as lists of (value, was it quoted); CRLF or LF line ends."""
    records, fields, value, quoted, i = [], [], [], False, 0
    in_quotes = False
    while i < len(text):
        ch = text[i]
        if in_quotes:
            if ch == '"':
                if text.startswith('"', i + 1):
                    value.append('"')
                    i += 1
                else:
                    in_quotes = False
            else:
                value.append(ch)
        elif ch == '"' and not value:
            in_quotes = quoted = True
        elif ch == ",":
            fields.append(("".join(value), quoted))
            value, quoted = [], False
        elif ch in "\r\n":
            if ch == "\r" and text.startswith("\n", i + 1):
                i += 1
            fields.append(("".join(value), quoted))
            records.append(fields)
            fields, value, quoted = [], [], False
        else:
            value.append(ch)
        i += 1
    if value or fields or quoted:
        fields.append(("".join(value), quoted))
        records.append(fields)
    return records


def _header_problem(header: list[str], expected: list[str]) -> str:
    for n, (got, want) in enumerate(zip(header, expected), 1):
        if got != want:
            return f"header column {n} is {got!r}; FY2026 has {want!r} there"
    if len(header) != len(expected):
        return f"header has {len(header)} columns; FY2026 has {len(expected)}"
    return "header differs"  # pragma: no cover - zip covered every position


def _export_hash_status(data) -> int:
    rows = data.get("Export") or []
    try:
        return int(rows[0].values["HashStatus"]) if rows else 1
    except ValueError:
        return 1


# ---- one value at a time ------------------------------------------------------------------

def _check_values(name: str, row: _Row, hash_status: int, findings: list[Finding]) -> None:
    file = f"{name}.csv"
    for column in spec.FILES[name]:
        value = row.values[column.name]
        if value == "":
            if not column.nullable:
                findings.append(Finding(file, row.n, column.name, "required"))
            continue
        problem = _type_problem(column, value, name, row, hash_status)
        if problem:
            findings.append(Finding(file, row.n, column.name, problem))
    for column, problem in _row_rules(name, row.values):
        findings.append(Finding(file, row.n, column, problem))


def _type_problem(column: spec.Column, value: str, name: str, row: _Row,
                  hash_status: int) -> str | None:
    if column.type == "S":
        longest = HASHED_LENGTHS.get(hash_status, {}).get(column.name, column.length) \
            if name == "Client" else column.length
        if len(value) > longest:
            return f"too long ({len(value)} characters; at most {longest})"
        bad = sorted({c for c in value if c in spec.FORBIDDEN_CHARACTERS})
        if bad:
            return f"contains {' '.join(bad)}, which FY2026 exports must strip"
        pattern = PATTERNS.get((name, column.name))
        hashed = name == "Client" and column.name == "SSN" and hash_status in HASHED_LENGTHS
        if pattern and not hashed and not pattern[0].fullmatch(value):
            return f"must be {pattern[1]}, not {value!r}"
        return None
    if column.type == "I":
        if not value.isascii() or not value.isdigit():
            return f"must be a whole number, not {value!r}"
        return _list_problem(column, int(value), name, row)
    if column.type == "D":
        return None if _date(value) else f"must be a date YYYY-MM-DD, not {value!r}"
    if column.type == "T":
        return None if _datetime(value) else (f"must be a date and time YYYY-MM-DD hh:mm:ss, "
                                              f"not {value!r}")
    if column.type == "M":
        return None if re.fullmatch(r"-?[0-9]+\.[0-9]{2}", value) else (
            f"must be money with two decimals and no commas, like 125.00, not {value!r}")
    return None  # pragma: no cover - every type is handled above


def _list_problem(column: spec.Column, code: int, name: str, row: _Row) -> str | None:
    list_name = column.list
    if list_name == "by-record-type":
        record_type = row.values.get("RecordType", "")
        list_name = spec.TYPE_PROVIDED.get(int(record_type)) if record_type.isdigit() else None
        if column.name == "TypeProvided" and record_type == "200" and code != 200:
            return "must be 200 (bed night) when RecordType is 200"
    allowed = spec.LISTS.get(list_name) if list_name else None
    subsets = {("Enrollment", "LivingSituation"): (spec.PRIOR_LIVING, "prior living situation"),
               ("CurrentLivingSituation", "CurrentLivingSituation"):
                   (spec.CURRENT_LIVING, "current living situation"),
               ("Exit", "Destination"): (spec.DESTINATIONS, "destination")}
    if (name, column.name) in subsets:
        allowed, what = subsets[(name, column.name)]
        if code not in allowed:
            return f"{code} is not a {what} code (list 3.12.1 as 4.12/3.917/3.12 allow it)"
        return None
    if allowed is not None and code not in allowed:
        return f"{code} is not in code list {list_name}"
    if column.name in ("YearEnteredService", "YearSeparated") and not (
            1920 <= code <= date.today().year):
        return f"must be a year from 1920 to this year, not {code}"
    return None


def _date(value: str) -> date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _datetime(value: str) -> datetime | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", value):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _row_rules(name: str, v: dict[str, str]):
    """The specification's rules between the columns of one row: (column, problem)."""
    def null_unless(column, condition, why):
        if v.get(column) and not condition:
            yield column, f"must be empty unless {why}"

    if name == "Export":
        if v["SourceType"] == "1":
            if not v["SourceID"]:
                yield "SourceID", "required when SourceType is 1 (a CoC HMIS)"
            elif not all(COC.fullmatch(part) for part in v["SourceID"].split(";")):
                yield "SourceID", "must be CoC codes like AZ-501, separated by ';'"
        elif v["SourceType"] and not v["SourceName"]:
            yield "SourceName", "required when SourceType is not 1"
        start, end = _date(v["ExportStartDate"]), _date(v["ExportEndDate"])
        if start and end and end < start:
            yield "ExportEndDate", "is before ExportStartDate"
    elif name == "Funder":
        if v["Funder"] == str(spec.OTHER_FUNDER) and not v["OtherFunder"]:
            yield "OtherFunder", "required when Funder is 46 (local or other)"
        yield from null_unless("OtherFunder", v["Funder"] == str(spec.OTHER_FUNDER),
                               "Funder is 46")
        start, end = _date(v["StartDate"]), _date(v["EndDate"])
        if start and end and end < start:
            yield "EndDate", "is before StartDate"
    elif name == "Project":
        if v["ContinuumProject"] == "1" and not v["ProjectType"]:
            yield "ProjectType", "required when ContinuumProject is 1"
        if v["ProjectType"] == "13" and not v["RRHSubType"]:
            yield "RRHSubType", "required when ProjectType is 13"
        yield from null_unless("RRHSubType", v["ProjectType"] == "13", "ProjectType is 13")
        yield from null_unless("ResidentialAffiliation", v["ProjectType"] in ("6", "13"),
                               "ProjectType is 6 or 13")
    elif name == "Client":
        if any(v[r] == "1" for r in RACES):
            yield from null_unless("RaceNone", False, "no race or ethnicity is selected")
        if v["VeteranStatus"] != "1":
            for column in VETERAN_DETAIL:
                yield from null_unless(column, False, "VeteranStatus is 1")
    elif name == "Enrollment":
        yield from null_unless("RentalSubsidyType", v["LivingSituation"] == "435",
                               "LivingSituation is 435")
        yield from null_unless("ReasonNotEnrolled", v["ClientEnrolledInPATH"] == "0",
                               "ClientEnrolledInPATH is 0")
    elif name == "CurrentLivingSituation":
        yield from null_unless("CLSSubsidyType", v["CurrentLivingSituation"] == "435",
                               "CurrentLivingSituation is 435")
        for column in LEAVE_DETAIL:
            yield from null_unless(column, v["LeaveSituation14Days"] == "1",
                                   "LeaveSituation14Days is 1")
    elif name == "Services":
        yield from null_unless("ReferralOutcome", v["RecordType"] == "161",
                               "RecordType is 161 (PATH referral)")
        yield from null_unless("FAStartDate", v["RecordType"] == "152", "RecordType is 152")
        yield from null_unless("FAEndDate", v["RecordType"] == "152", "RecordType is 152")
        yield from null_unless("FAAmount", v["RecordType"] in ("151", "152"),
                               "RecordType is 151 or 152")
        yield from null_unless("MovingOnOtherType", v["RecordType"] == "300"
                               and v["TypeProvided"] == "5", "RecordType is 300 and "
                                                             "TypeProvided is 5")
    elif name == "Exit":
        yield from null_unless("DestinationSubsidyType", v["Destination"] == "435",
                               "Destination is 435")
        yield from null_unless("OtherDestination", v["Destination"] == "17",
                               "Destination is 17")


# ---- between rows and files ---------------------------------------------------------------

def _check_links(data: dict[str, list[_Row]], findings: list[Finding]) -> None:
    def add(name, row, column, problem):
        findings.append(Finding(f"{name}.csv", row.n if row else 0, column, problem))

    exports = data.get("Export", [])
    if "Export" in data and len(exports) != 1:
        add("Export", None, "", f"must have exactly one row, not {len(exports)}")
    export_id = exports[0].values["ExportID"] if len(exports) == 1 else None
    for name, rows in data.items():
        if name == "Export":
            continue
        for row in rows:
            if export_id is not None and row.values["ExportID"] != export_id:
                add(name, row, "ExportID", f"{row.values['ExportID']!r} is not the "
                                           f"ExportID of Export.csv ({export_id!r})")
        if name in spec.KEYS:
            key = spec.KEYS[name]
            seen = Counter(row.values[key] for row in rows)
            for row in rows:
                if seen[row.values[key]] > 1:
                    add(name, row, key, f"{row.values[key]!r} appears "
                                        f"{seen[row.values[key]]} times")

    def ids(name, column):
        return {row.values[column] for row in data.get(name, [])}

    def must_exist(name, column, target, target_column):
        if target not in data:
            return
        known = ids(target, target_column)
        for row in data.get(name, []):
            value = row.values.get(column)
            if value and value not in known:
                add(name, row, column, f"{value!r} is not a {target_column} in {target}.csv")

    must_exist("Project", "OrganizationID", "Organization", "OrganizationID")
    for name in ("Funder", "ProjectCoC", "HMISParticipation", "CEParticipation", "Enrollment"):
        must_exist(name, "ProjectID", "Project", "ProjectID")
    must_exist("Enrollment", "PersonalID", "Client", "PersonalID")
    if "User" in data:
        users = ids("User", "UserID")
        for name, rows in data.items():
            if name in ("User", "Export"):
                continue
            for row in rows:
                if row.values.get("UserID") and row.values["UserID"] not in users:
                    add(name, row, "UserID", f"{row.values['UserID']!r} is not in User.csv")
    enrolled = Counter(row.values["PersonalID"] for row in data.get("Enrollment", []))
    for row in data.get("Client", []) if "Enrollment" in data else []:
        if row.values["PersonalID"] not in enrolled:
            add("Client", row, "PersonalID", "has no enrollment in Enrollment.csv")
    project_cocs = defaultdict(set)
    for row in data.get("ProjectCoC", []):
        project_cocs[row.values["ProjectID"]].add(row.values["CoCCode"])
    project_types = {row.values["ProjectID"]: row.values["ProjectType"]
                     for row in data.get("Project", [])}
    households = defaultdict(list)
    enrollments = {}
    for row in data.get("Enrollment", []):
        v = row.values
        enrollments[v["EnrollmentID"]] = row
        households[v["HouseholdID"]].append(row)
        if "ProjectCoC" in data and v["EnrollmentCoC"] and \
                v["EnrollmentCoC"] not in project_cocs[v["ProjectID"]]:
            add("Enrollment", row, "EnrollmentCoC", f"{v['EnrollmentCoC']!r} is not a CoCCode "
                                                    f"of project {v['ProjectID']!r} in "
                                                    f"ProjectCoC.csv")
    for household, members in households.items():
        heads = [r for r in members if r.values["RelationshipToHoH"] == "1"]
        if len(heads) != 1:
            add("Enrollment", members[0], "RelationshipToHoH",
                f"household {household!r} has {len(heads)} heads (RelationshipToHoH 1); "
                f"it must have one")
    exits = _check_exits(data, enrollments, add)
    end = _date(exports[0].values["ExportEndDate"]) if len(exports) == 1 else None
    for row in data.get("Enrollment", []):
        v = row.values
        entry, engaged = _date(v["EntryDate"]), _date(v["DateOfEngagement"])
        exit_date = exits.get(v["EnrollmentID"])
        if engaged and entry and engaged < entry:
            add("Enrollment", row, "DateOfEngagement", "is before EntryDate")
        if engaged and exit_date and engaged > exit_date:
            add("Enrollment", row, "DateOfEngagement", "is after the enrollment's ExitDate")
        if entry and end and entry > end:
            add("Enrollment", row, "EntryDate", "is after the export's ExportEndDate")
    for name, column in (("CurrentLivingSituation", "InformationDate"),
                         ("Services", "DateProvided")):
        for row in data.get(name, []):
            enrollment = _linked(name, row, enrollments, add, "Enrollment" in data)
            when = _date(row.values[column])
            if name == "CurrentLivingSituation" and row.values["VerifiedBy"] and enrollment \
                    and project_types.get(enrollment.values["ProjectID"]) != "14":
                add(name, row, "VerifiedBy", "must be empty unless the project is Coordinated "
                                             "Entry (ProjectType 14)")
            if enrollment is None or when is None:
                continue
            entry = _date(enrollment.values["EntryDate"])
            exit_date = exits.get(row.values["EnrollmentID"])
            if (entry and when < entry) or (exit_date and when > exit_date):
                add(name, row, column, "is outside the enrollment's stay (EntryDate to "
                                       "ExitDate)")
            if end and when > end:
                add(name, row, column, "is after the export's ExportEndDate")


def _check_exits(data, enrollments, add) -> dict[str, date]:
    exits = {}
    count = Counter(row.values["EnrollmentID"] for row in data.get("Exit", []))
    for row in data.get("Exit", []):
        v = row.values
        if count[v["EnrollmentID"]] > 1:
            add("Exit", row, "EnrollmentID", f"{v['EnrollmentID']!r} has "
                                             f"{count[v['EnrollmentID']]} exits; at most one")
        enrollment = _linked("Exit", row, enrollments, add, "Enrollment" in data)
        exit_date = _date(v["ExitDate"])
        if exit_date:
            exits[v["EnrollmentID"]] = exit_date
        if enrollment and exit_date and _date(enrollment.values["EntryDate"]) and \
                exit_date < _date(enrollment.values["EntryDate"]):
            add("Exit", row, "ExitDate", "is before the enrollment's EntryDate")
    return exits


def _linked(name, row, enrollments, add, have_enrollments):
    """The enrollment a row hangs on, checking it exists and is the same person's."""
    enrollment = enrollments.get(row.values["EnrollmentID"])
    if enrollment is None:
        if have_enrollments:
            add(name, row, "EnrollmentID", f"{row.values['EnrollmentID']!r} is not an "
                                           f"EnrollmentID in Enrollment.csv")
        return None
    if enrollment.values["PersonalID"] != row.values["PersonalID"]:
        add(name, row, "PersonalID", f"{row.values['PersonalID']!r} is not the person of "
                                     f"enrollment {row.values['EnrollmentID']!r}")
    return enrollment
