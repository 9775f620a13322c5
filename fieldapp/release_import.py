"""Signed releases of information from a CSV file, for an agency moving its consents off paper
(`tandem-server releases import`). Parsing and matching are pure: rows and the team's
records in, a plan out; the server writes the plan, all of it or nothing.

Columns (header names are case-insensitive; spaces count as underscores):
  discloser, recipient, purpose, signed_on, expires_on   required
  the patient: person_id, or first_name and last_name (date_of_birth to tell two apart),
      or alias
  scope (default clinical_notes), signed_by (default "the patient"), expiry_event   optional
recipient is user:<username>, role:<role> or team:<team>. Dates are YYYY-MM-DD or MM/DD/YYYY.
A patient named but not on file becomes a new person. A release already on file (same
person, recipient, purpose and signature date) is skipped, so the file can be imported again.
"""

from dataclasses import dataclass, field

from .errors import ValidationError
from .followup_import import Problem, name_key, parse_date
from .ids import new_id
from .records import record_type, release_problems
from .validation import normalise

REQUIRED = ("discloser", "recipient", "purpose", "signed_on", "expires_on")
PATIENT = ("person_id", "first_name", "last_name", "date_of_birth", "alias")
OPTIONAL = PATIENT + ("scope", "signed_by", "expiry_event")


@dataclass
class Plan:
    persons: list[dict] = field(default_factory=list)
    releases: list[dict] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)  # already on file
    problems: list[Problem] = field(default_factory=list)  # any of these: nothing is written

    def summary_lines(self) -> list[str]:
        if self.problems:
            lines = [f"{len(self.problems)} problem(s); nothing was imported (fix the file "
                     "and import it again)"]
            return lines + [f"  bad {p}" for p in self.problems]
        lines = [f"{len(self.releases)} release(s) imported, {len(self.persons)} new person(s)",
                 f"{len(self.skipped)} row(s) skipped as already on file"]
        return lines + [f"  skipped {p}" for p in self.skipped]


def plan(rows: list[tuple[int, dict]], persons: list[dict], releases: list[dict], team: str,
         usernames: set[str]) -> Plan:
    """Match each row's patient to `persons` (the team's, Python values), check the release,
    and say what to write. `usernames` are the accounts a user: recipient may name."""
    out = Plan()
    by_id = {p["id"]: p for p in persons}
    by_name: dict[tuple[str, str], list[dict]] = {}
    by_alias: dict[str, list[dict]] = {}
    for p in persons:
        by_name.setdefault((name_key(p.get("first_name")), name_key(p.get("last_name"))),
                           []).append(p)
        if p.get("alias"):
            by_alias.setdefault(name_key(p["alias"]), []).append(p)
    on_file = {_same(r) for r in releases}
    for line, values in rows:
        bad = [Problem(line, c, "required") for c in REQUIRED if not values.get(c)]
        release = {"discloser": values.get("discloser"), "recipient": values.get("recipient"),
                   "purpose": values.get("purpose"),
                   "scope": values.get("scope") or "clinical_notes",
                   "signed_by": values.get("signed_by") or "the patient",
                   "expiry_event": values.get("expiry_event") or None}
        for name in ("signed_on", "expires_on", "date_of_birth"):
            if values.get(name):
                try:
                    release[name] = parse_date(values[name])
                except ValueError as why:
                    bad.append(Problem(line, name, str(why)))
        dob = release.pop("date_of_birth", None)
        bad += [Problem(line, f, why) for f, why in release_problems(release).items()]
        kind, _, who = str(release["recipient"] or "").partition(":")
        if kind == "user" and who and who not in usernames:
            bad.append(Problem(line, "recipient", f"no user {who!r} on this server"))
        person, why = _patient(values, dob, by_id, by_name, by_alias, team)
        if why:
            bad.append(Problem(line, *why))
        checks = [("release_of_information", {**release, "person_id": "x"})]
        if person and person.get("new"):
            checks.append(("person", {k: v for k, v in person.items() if k not in ("id", "new")}))
        for table, checked in checks:  # the record rules (lengths and so on), by column
            try:
                normalise(record_type(table), checked, partial=False)
            except ValidationError as e:
                bad += [Problem(line, f, why) for f, why in e.problems.items()
                        if not any(b.field == f for b in bad)]
        if bad:
            out.problems += bad
            continue
        if person.get("new"):
            person = {k: v for k, v in person.items() if k != "new"}
            out.persons.append(person)
            if person.get("alias"):
                by_alias.setdefault(name_key(person["alias"]), []).append(person)
            else:
                by_name.setdefault((name_key(person["first_name"]),
                                    name_key(person["last_name"])), []).append(person)
        record = {"id": new_id(), "person_id": person["id"], **release}
        if _same(record) in on_file:
            out.skipped.append(Problem(line, "signed_on", "this release is already on file"))
            continue
        on_file.add(_same(record))
        out.releases.append(record)
    return out


def _same(release: dict) -> tuple:
    return (release["person_id"], release["recipient"], name_key(release["purpose"]),
            str(release["signed_on"]))


def _patient(values, dob, by_id, by_name, by_alias, team) -> tuple[dict | None, tuple | None]:
    """The person the row names, a new one to create, or (None, (field, why))."""
    if values.get("person_id"):
        person = by_id.get(values["person_id"])
        return (person, None) if person else (
            None, ("person_id", f"no person {values['person_id']} in team {team}"))
    if values.get("last_name") or values.get("first_name"):
        key = (name_key(values.get("first_name")), name_key(values.get("last_name")))
        found = [p for p in by_name.get(key, [])
                 if dob is None or str(p.get("date_of_birth") or "") == dob.isoformat()]
        if len(found) > 1:
            return None, ("date_of_birth", f"matches {len(found)} people of that name; add a "
                                           "date of birth to tell them apart")
        if found:
            return found[0], None
        return {"id": new_id(), "new": True, "team": team, "kind": "named",
                "first_name": values.get("first_name") or None,
                "last_name": values.get("last_name") or None, "date_of_birth": dob}, None
    if values.get("alias"):
        found = by_alias.get(name_key(values["alias"]), [])
        if len(found) > 1:
            return None, ("alias", f"{len(found)} people go by this alias; use person_id")
        if found:
            return found[0], None
        return {"id": new_id(), "new": True, "team": team, "kind": "alias",
                "alias": values["alias"]}, None
    return None, ("person_id", "name the patient: person_id, first_name and last_name, or alias")
