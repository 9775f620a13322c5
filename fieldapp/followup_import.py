"""The CRC's daily discharge list (CSV) turned into follow-ups for a team.

One module for both places the list arrives: `tandem-server import-followups` and the
supervisor's review screen. Parsing and matching here are pure (bytes and dicts in, a plan
out); each caller writes the plan its own way (server ops, or laptop records that sync).

Columns (header names are case-insensitive; spaces count as underscores):
  first_name, last_name, discharged_on   required
  date_of_birth, due_on, priority, reason, note   optional
Dates are YYYY-MM-DD or MM/DD/YYYY. A follow-up is due the day after discharge unless
due_on says otherwise; reason defaults to crc_discharge, priority to 2.

Matching: a row names a known person when first and last name agree (ignoring case) and, if
the row has a date of birth, that too. A row without a date of birth that matches several
people is reported, not guessed. A person who already has an open follow-up for the same
reason is skipped, and so is a repeat of a row earlier in the same file.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from . import changes, labels, persons
from .errors import TandemError, ValidationError
from .ids import new_id
from .records import FOLLOW_UP_REASONS, record_type
from .session import Session
from .timeutil import day_text
from .validation import normalise, stored_to_python

REQUIRED = ("first_name", "last_name", "discharged_on")
OPTIONAL = ("date_of_birth", "due_on", "priority", "reason", "note")
MAX_ROWS = 10_000


class ImportFileError(TandemError):
    """The file as a whole cannot be read (encoding, header, size); nothing was imported."""


@dataclass(frozen=True)
class Problem:
    row: int  # the line number in the file (the header is line 1)
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.reason}"


@dataclass
class Plan:
    """What an import will write: new persons (with ids), follow-ups, and what it leaves out."""

    persons: list[dict] = field(default_factory=list)
    follow_ups: list[dict] = field(default_factory=list)
    matched: int = 0
    skipped: list[Problem] = field(default_factory=list)  # duplicates of open follow-ups
    problems: list[Problem] = field(default_factory=list)  # bad rows, not imported

    def summary_lines(self) -> list[str]:
        created = (f"{len(self.follow_ups)} follow-up(s) created: {self.matched} for known "
                   f"persons, {len(self.persons)} new person(s)")
        lines = [created,
                 f"{len(self.skipped)} row(s) skipped as duplicates of open follow-ups",
                 f"{len(self.problems)} bad row(s) not imported"]
        lines += [f"  skipped {p}" for p in self.skipped]
        lines += [f"  bad {p}" for p in self.problems]
        return lines


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), UTF-16 with one (Excel's "Unicode Text"),
    else Windows-1252, else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_rows(data: bytes, source: str = "the file", required: tuple[str, ...] = REQUIRED,
              optional: tuple[str, ...] = OPTIONAL) -> list[tuple[int, dict]]:
    """(line number, {column: text}) for each non-blank row; ImportFileError if the file as a
    whole is unusable (no header, missing columns, too many rows). Other CSV imports name
    their own columns."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{source} is empty; expected a header row with "
                              f"{', '.join(required)}") from None
    except csv.Error as e:
        raise ImportFileError(f"{source}, row 1: {e}") from None
    names = [h.strip().lower().replace(" ", "_") for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise ImportFileError(
            f"{source}: missing column(s) {', '.join(missing)}; the header has "
            f"{', '.join(n for n in names if n) or 'no names'} (needs {', '.join(required)}; "
            f"optional {', '.join(optional)}){_separator_advice(header)}")
    rows = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise ImportFileError(f"{source}: more than {MAX_ROWS} rows; split the file")
            values = {n: (cells[i].strip() if i < len(cells) else "")
                      for i, n in enumerate(names) if n in required + optional}
            rows.append((reader.line_num, values))
    except csv.Error as e:
        raise ImportFileError(f"{source}, row {reader.line_num}: {e}") from None
    return rows


def _separator_advice(header: list[str]) -> str:
    """Why one column was read where several were meant: a spreadsheet saved with another
    separator (a semicolon where a comma is the decimal mark, a tab in "Unicode Text")."""
    if len(header) != 1:
        return ""
    for separator, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
        if separator in header[0]:
            return (f"; its columns are separated by {name}, not commas: save it as "
                    "\"CSV UTF-8 (comma delimited)\"")
    return ""


def parse_date(text: str) -> date:
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date like 2026-05-14 or 05/14/2026")


def name_key(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def plan(rows: list[tuple[int, dict]], persons: list[dict], open_follow_ups: list[dict],
         team: str) -> Plan:
    """Match rows to `persons` (the team's person records, Python values), skip those with an
    open follow-up for the same reason, and say what to create."""
    out = Plan()
    by_name: dict[tuple[str, str], list[dict]] = {}
    for p in persons:
        by_name.setdefault((name_key(p.get("first_name")), name_key(p.get("last_name"))), []).append(p)
    open_for = {(f["person_id"], f["reason"]): f for f in open_follow_ups
                if f.get("status") == "open"}
    for line, values in rows:
        bad = [Problem(line, c, "required") for c in REQUIRED if not values.get(c)]
        parsed = {}
        for name in ("discharged_on", "date_of_birth", "due_on"):
            if values.get(name):
                try:
                    parsed[name] = parse_date(values[name])
                except ValueError as why:
                    bad.append(Problem(line, name, str(why)))
        priority = 2
        if values.get("priority"):
            if values["priority"] in ("1", "2", "3"):
                priority = int(values["priority"])
            else:
                bad.append(Problem(line, "priority", f"{values['priority']!r} is not 1, 2 or 3"))
        reason = values.get("reason") or "crc_discharge"
        if reason not in FOLLOW_UP_REASONS:
            bad.append(Problem(line, "reason", f"{reason!r} is not one of "
                                                f"{', '.join(FOLLOW_UP_REASONS)}"))
        if bad:
            out.problems += bad
            continue
        person_values = {"team": team, "kind": "named", "first_name": values["first_name"],
                         "last_name": values["last_name"],
                         "date_of_birth": parsed.get("date_of_birth")}
        due = parsed.get("due_on") or parsed["discharged_on"] + timedelta(days=1)
        note = values.get("note") or f"CRC discharge {day_text(parsed['discharged_on'])}"
        follow_up = {"team": team, "reason": reason, "due_on": due, "priority": priority,
                     "status": "open", "note": note}
        try:  # the record rules (lengths and so on), reported by column
            normalise(record_type("person"), person_values, partial=False)
            normalise(record_type("follow_up"), {**follow_up, "person_id": "x"}, partial=False)
        except ValidationError as e:
            out.problems += [Problem(line, f, why) for f, why in e.problems.items()]
            continue
        name = (name_key(values["first_name"]), name_key(values["last_name"]))
        candidates = by_name.get(name, [])
        if "date_of_birth" in parsed:
            candidates = [p for p in candidates
                          if str(p.get("date_of_birth") or "") == parsed["date_of_birth"].isoformat()]
        if len(candidates) > 1:
            out.problems.append(Problem(line, "date_of_birth",
                                        f"matches {len(candidates)} people named "
                                        f"{values['first_name']} {values['last_name']}; "
                                        "add a date of birth to tell them apart"))
            continue
        if candidates:
            person_id, known = candidates[0]["id"], True
        else:
            person_id, known = new_id(), False
        if (person_id, reason) in open_for:
            existing = open_for[(person_id, reason)]
            out.skipped.append(Problem(line, "last_name", f"{values['first_name']} "
                                       f"{values['last_name']} already has an open "
                                       f"{labels.phrase(reason)} follow-up due "
                                       f"{day_text(existing['due_on'])}"))
            continue
        if not known:
            person = {"id": person_id, **person_values}
            out.persons.append(person)
            by_name.setdefault(name, []).append(person)
        else:
            out.matched += 1
        record = {"id": new_id(), "person_id": person_id, **follow_up}
        out.follow_ups.append(record)
        open_for[(person_id, reason)] = record
    return out


def import_on_laptop(session: Session, data: bytes, team: str, source: str = "the file") -> Plan:
    """The supervisor's screen: plan against the team's records on this laptop and write the
    persons and follow-ups as local records (one transaction); they sync like any other."""
    if team not in session.profile.teams:
        raise TandemError(f"you are not a member of team {team!r}")
    rows = read_rows(data, source)
    known = [stored_to_python(record_type("person"), r) for r in session.db.query(
        "SELECT * FROM person WHERE deleted = 0 AND team = ?", [team])]
    open_ = [stored_to_python(record_type("follow_up"), r) for r in session.db.query(
        "SELECT * FROM follow_up WHERE deleted = 0 AND team = ? AND status = 'open'", [team])]
    result = plan(rows, known, open_, team)
    with session.db.atomic():
        for p in result.persons:
            persons.add_person(session, {k: v for k, v in p.items() if k != "id"},
                               record_id=p["id"])
        for f in result.follow_ups:
            changes.create(session, "follow_up", {k: v for k, v in f.items() if k != "id"},
                           record_id=f["id"])
    return result
