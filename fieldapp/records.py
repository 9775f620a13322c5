"""What each synced record holds: its fields, their types and limits, and how it may change.

This is the one description of the records that the laptop's validation, the sync protocol and
the agency server all read. Migrations stay explicit (a migration is history and must not move
when this file changes); a test checks that the latest schema has every field named here.
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from . import apco

# The bookkeeping columns every synced record carries, besides its own fields.
META_COLUMNS = ("id", "created_hlc", "updated_hlc", "author", "device", "server_version", "deleted")

NOTE_MAX = 20_000
TEXT_MAX = 500

SHIFT_STATUSES = (
    "in_service", "en_route", "on_scene", "transporting", "at_crc", "available", "out_of_service",
)
# crc_intake: staff at the CRC's law-enforcement entrance. They use the intake board on the
# agency server (sync/server/intake.py) and nothing else: no laptop sync, no records but the
# CRC's half of a drop-off's clock (crc_checkin).
ROLES = ("officer", "clinician", "peer", "supervisor", "admin", "clinical_supervisor",
         "crc_intake")
LAPTOP_ROLES = tuple(r for r in ROLES if r != "crc_intake")  # who signs in to the desktop app
# Roles that read clinical records of their teams; anyone else only what a release covers.
CLINICAL_ROLES = frozenset({"clinician", "clinical_supervisor"})
PRESENTING_SITUATIONS = (
    "mental_health_crisis", "suicidal_ideation", "substance_use", "welfare_check",
    "homelessness", "dispute", "other",
)
DISPOSITIONS = (
    "resolved_on_scene", "referred", "transported_crc_voluntary", "transported_crc_involuntary",
    "emergency_department", "jail_booking", "declined",
)
USE_OF_FORCE_TYPES = ("none", "physical_control", "restraint", "taser", "firearm_pointed", "other")
ASSIGNMENT_STATUSES = ("open", "acknowledged", "taken", "cleared")
ASSIGNMENT_DISPOSITIONS = DISPOSITIONS + ("unfounded", "gone_on_arrival", "handled_by_patrol", "completed")
FOLLOW_UP_REASONS = ("crc_discharge", "court_order", "high_utilizer", "post_crisis_check")
FOLLOW_UP_STATUSES = ("open", "done", "cancelled")
ATTEMPT_METHODS = ("phone", "visit", "text", "email", "other")
ATTEMPT_OUTCOMES = ("reached", "no_answer", "left_message", "not_found", "declined", "completed")
PERSON_KINDS = ("named", "alias", "anonymous")
TRANSPORT_KINDS = ("voluntary", "involuntary")
REVIEW_DECISIONS = ("approved", "returned")
AGE_GROUPS = ("adult", "youth")
ETA_SOURCES = ("entered", "distance")
# Where a person an outreach peer meets is living (HMIS element 4.12, Current Living Situation,
# mapped to HUD's codes in sync/server/hmis.py); "unsheltered" is the street outreach default.
LIVING_SITUATIONS = (
    "unsheltered", "emergency_shelter", "safe_haven", "transitional_housing", "hotel_motel",
    "staying_with_family", "staying_with_friends", "hospital", "psychiatric_facility",
    "treatment_facility", "jail", "rental", "other", "unable_to_determine", "doesnt_know",
    "prefers_not_to_answer",
)
# What an outreach peer taps as offered and given (ui/outreach.py); some services map to HMIS
# PATH services in sync/server/hmis.py.
OUTREACH_SERVICES = ("shelter_info", "food", "medical_care", "mental_health",
                     "substance_use_support", "housing_navigation", "id_documents", "benefits")
OUTREACH_SUPPLIES = ("water", "food_pack", "hygiene_kit", "socks", "blanket", "naloxone",
                     "bus_pass", "phone_charge")
# What a referral is for: HMIS (PATH referral types) and FHIR (SDOH categories) map from these.
REFERRAL_CATEGORIES = (
    "shelter", "housing", "mental_health", "crisis_care", "substance_use", "medical", "food",
    "benefits", "health_insurance", "employment", "education", "transportation", "legal",
    "id_documents", "other",
)
REFERRAL_STATUSES = ("sent", "accepted", "declined", "completed")


@dataclass(frozen=True)
class Field:
    """One field of a record: its type and the limits a value must keep."""

    name: str
    type: type  # str, int, float, bool, list, date or datetime
    required: bool = False
    choices: tuple[str, ...] | None = None
    max_len: int | None = None
    references: str | None = None  # the table whose id this field holds
    minimum: float | None = None
    maximum: float | None = None
    names_writer: bool = False  # holds the username of whoever writes it, and no other
    # A list's items are text, each held to choices and max_len (TEXT_MAX when unset), or,
    # with item_keys, flat objects of those keys (the first one required) whose text values
    # max_len limits.
    item_keys: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RecordType:
    """A synced table. Append-only records are written once and never conflict."""

    table: str
    fields: tuple[Field, ...]
    append_only: bool = False
    sensitive: bool = False  # views and changes leave audit events
    clinical: bool = False  # reaches clinicians only, or a reader a release covers
    # Two laptops may create it under one id (an encounter's id is derived from its
    # assignment's): the server merges a second create field by field instead of refusing it.
    merge_creates: bool = False

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @cached_property  # read for every value validated, on laptop and server
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @cached_property
    def fields_by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def required_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @cached_property
    def list_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.type is list)

    @cached_property
    def writer_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.names_writer)


def _text(name, required=False, max_len=TEXT_MAX, **kw):
    return Field(name, str, required=required, max_len=max_len, **kw)


def _ref(name, table, required=False):
    return Field(name, str, required=required, references=table, max_len=36)


def _flag(name):
    return Field(name, bool)


_LAT = dict(minimum=-90, maximum=90)
_LON = dict(minimum=-180, maximum=180)

RECORD_TYPES: dict[str, RecordType] = {
    r.table: r
    for r in [
        RecordType("shift", (
            _text("team", required=True, max_len=64),
            _text("unit", required=True, max_len=32),
            _text("vehicle", max_len=32),
            Field("members", list, required=True, item_keys=("username", "role"), max_len=64),
            Field("started_at", datetime, required=True),
            Field("ended_at", datetime),
        )),
        RecordType("shift_event", (
            _ref("shift_id", "shift", required=True),
            Field("status", str, required=True, choices=SHIFT_STATUSES),
            Field("at", datetime, required=True),
            _text("note"),
            Field("lat", float, **_LAT),
            Field("lon", float, **_LON),
        ), append_only=True),
        RecordType("assignment", (
            _text("team", required=True, max_len=64),
            Field("source", str, required=True, choices=("cad", "supervisor")),
            _text("cad_incident", max_len=32),
            Field("type", str, required=True, choices=("call_for_service", "scheduled_task")),
            Field("priority", int, required=True, minimum=1, maximum=3),
            _text("place"),
            Field("lat", float, **_LAT),
            Field("lon", float, **_LON),
            _text("summary", required=True, max_len=2000),
            Field("status", str, required=True, choices=ASSIGNMENT_STATUSES),
            _text("unit", max_len=32),
            _ref("shift_id", "shift"),
            Field("disposition", str, choices=ASSIGNMENT_DISPOSITIONS),
            Field("received_at", datetime, required=True),
            Field("acknowledged_at", datetime),
            Field("taken_at", datetime),
            Field("cleared_at", datetime),
            # The CAD's own call type, and the APCO common codes (fieldapp/apco.py) it and the
            # disposition map to; the NENA incident tracking id when the call came as an EIDO.
            _text("incident_type", max_len=64),
            Field("apco_incident_type", str, choices=tuple(apco.INCIDENT_TYPES)),
            Field("apco_disposition", str, choices=tuple(apco.DISPOSITIONS)),
            _text("incident_tracking_id", max_len=255),
        )),
        RecordType("person", (
            _text("team", required=True, max_len=64),
            Field("kind", str, required=True, choices=PERSON_KINDS),
            _text("first_name", max_len=100),
            _text("last_name", max_len=100),
            _text("alias", max_len=100),
            _text("description", max_len=1000),
            Field("date_of_birth", date),
            Field("birth_year", int, minimum=1900, maximum=2100),
            _text("safety_cautions", max_len=2000),
            _flag("active_court_order"),
            _flag("high_utilizer"),
        ), sensitive=True),
        RecordType("release_of_information", (
            _ref("person_id", "person", required=True),
            _text("discloser", required=True),
            _text("scope", required=True, max_len=2000),
            _text("recipient", required=True),
            _text("purpose", required=True, max_len=2000),
            Field("signed_on", date, required=True),
            Field("expires_on", date, required=True),
            Field("revoked_at", datetime),
            _text("signed_by", max_len=200),  # the patient, or who signed for them
            _text("expiry_event", max_len=500),  # an event that ends it before expires_on
        ), sensitive=True),
        RecordType("encounter", (
            _text("team", required=True, max_len=64),
            _ref("shift_id", "shift"),
            _ref("assignment_id", "assignment"),
            Field("person_ids", list, references="person", max_len=36),
            Field("started_at", datetime, required=True),
            _text("place"),
            Field("lat", float, **_LAT),
            Field("lon", float, **_LON),
            Field("presenting_situation", str, required=True, choices=PRESENTING_SITUATIONS),
            Field("disposition", str, choices=DISPOSITIONS),
            _flag("use_of_force"),
            Field("use_of_force_type", str, choices=USE_OF_FORCE_TYPES),
            _flag("pickup_order_attempted"),
            _flag("pickup_order_served"),
            _flag("emergency_petition"),
            _flag("deflection"),
            _flag("warm_handoff_crisis_line"),
            _flag("crisis_mobile_team_requested"),
            _flag("connected_to_care"),
            _flag("stabilized_on_scene"),
            _text("police_note", max_len=NOTE_MAX),
            Field("finalized_at", datetime),
            _text("cad_incident", max_len=32),  # from the assignment, or typed
            _text("call_summary", max_len=2000),  # from the assignment
            # who last wrote the police note, and when
            _text("police_note_by", max_len=64, names_writer=True),
            Field("police_note_at", datetime),
            _ref("joined_to", "encounter"),  # the same call, documented apart, joined later
        ), sensitive=True, merge_creates=True),
        RecordType("clinical_note", (
            _ref("encounter_id", "encounter", required=True),
            _text("team", required=True, max_len=64),
            _text("body", required=True, max_len=NOTE_MAX),
            Field("written_at", datetime, required=True),
            # Whom the note is about: its encounter's people when it was written. A release
            # discloses it only when it covers each of them (sync/server/disclosures.py). Not
            # checked against the laptop's people: one deleted since stays named, never dropped.
            Field("person_ids", list, max_len=36),
        ), append_only=True, sensitive=True, clinical=True),
        RecordType("outreach_contact", (
            _text("team", required=True, max_len=64),
            Field("contacted_at", datetime, required=True),
            _ref("person_id", "person"),
            _text("place"),
            Field("lat", float, **_LAT),
            Field("lon", float, **_LON),
            Field("services_offered", list, choices=OUTREACH_SERVICES),
            Field("supplies", list, choices=OUTREACH_SUPPLIES),
            _text("referral"),
            _text("outcome"),
            _text("note", max_len=NOTE_MAX),
            Field("living_situation", str, choices=LIVING_SITUATIONS),
            _flag("engaged"),  # the person accepted case planning (HMIS date of engagement)
        ), append_only=True),
        # A referral to a service in the resource directory, made on an encounter or an outreach
        # contact; the crew or a sergeant moves its status on (fieldapp/referrals.py).
        RecordType("referral", (
            _text("team", required=True, max_len=64),
            _ref("encounter_id", "encounter"),
            _ref("outreach_contact_id", "outreach_contact"),
            _ref("person_id", "person"),
            _text("service_id", required=True, max_len=255),
            _text("service_name", required=True),
            _text("organization_name"),
            Field("category", str, required=True, choices=REFERRAL_CATEGORIES),
            Field("status", str, required=True, choices=REFERRAL_STATUSES),
            Field("sent_at", datetime, required=True),
            Field("status_changed_at", datetime),
            _text("note", max_len=2000),
        ), sensitive=True),
        RecordType("follow_up", (
            _text("team", required=True, max_len=64),
            _ref("person_id", "person", required=True),
            Field("reason", str, required=True, choices=FOLLOW_UP_REASONS),
            Field("due_on", date, required=True),
            Field("priority", int, required=True, minimum=1, maximum=3),
            _text("assignee", max_len=64),
            Field("status", str, required=True, choices=FOLLOW_UP_STATUSES),
            Field("done_at", datetime),
            _text("note", max_len=2000),
        )),
        RecordType("follow_up_attempt", (
            _ref("follow_up_id", "follow_up", required=True),
            Field("at", datetime, required=True),
            Field("method", str, required=True, choices=ATTEMPT_METHODS),
            Field("outcome", str, required=True, choices=ATTEMPT_OUTCOMES),
            _text("note", max_len=2000),
        ), append_only=True),
        RecordType("crc_dropoff", (
            _text("team", required=True, max_len=64),
            _ref("encounter_id", "encounter"),
            _ref("shift_id", "shift"),
            _ref("person_id", "person"),  # whom the drop-off is for
            Field("transport", str, required=True, choices=TRANSPORT_KINDS),
            Field("arrived_at", datetime, required=True),
            Field("handed_off_at", datetime),
            Field("cleared_at", datetime),
            _text("delay_reason", max_len=1000),
            _ref("notice_id", "crc_notice"),  # the pre-arrival notice this drop-off followed
        )),
        # The pre-arrival notice a unit sends the CRC when it starts transporting someone
        # (fieldapp/crc_notice.py): the minimum the intake staff need to get ready, and nothing
        # else: no narrative, no clinical note, a name only where the agency allows it
        # (`crc_notice_names`). The intake board shows exactly NOTICE_SHOWN of it.
        RecordType("crc_notice", (
            _text("team", required=True, max_len=64),
            _text("unit", required=True, max_len=32),
            _ref("shift_id", "shift"),
            _ref("encounter_id", "encounter"),
            Field("transport", str, required=True, choices=TRANSPORT_KINDS),
            Field("age_group", str, required=True, choices=AGE_GROUPS),
            Field("eta_at", datetime, required=True),
            Field("eta_source", str, required=True, choices=ETA_SOURCES),
            _text("safety_cautions"),
            _flag("pickup_order"),
            _flag("emergency_petition"),
            _text("person_name", max_len=200),
            Field("sent_at", datetime, required=True),
            Field("cancelled_at", datetime),
        )),
        # The CRC's half of a drop-off's clock: when intake staff saw the unit arrive and when
        # they completed its check-in, stamped on the intake board; the unit's laptop pulls it.
        RecordType("crc_checkin", (
            _ref("notice_id", "crc_notice", required=True),
            Field("arrived_at", datetime),
            Field("checked_in_at", datetime),
        )),
        RecordType("audit_event", (
            Field("at", datetime, required=True),
            _text("actor", required=True, max_len=64),
            _text("action", required=True, max_len=64),
            _text("record_table", max_len=64),
            _text("record_id", max_len=36),
            Field("outcome", str, required=True, choices=("success", "failure", "denied")),
            _text("detail", max_len=1000),
        ), append_only=True),
        # Supervisor review (issue 7): a decision on a submitted (ended) shift, the team's
        # amendments after submission, and a conflict settled on one laptop for all of them.
        RecordType("shift_review", (
            _text("team", required=True, max_len=64),
            _ref("shift_id", "shift", required=True),
            Field("decision", str, required=True, choices=REVIEW_DECISIONS),
            _text("comment", max_len=2000),
            Field("reviewed_at", datetime, required=True),
        ), append_only=True),
        RecordType("amendment", (
            _text("team", required=True, max_len=64),
            _ref("shift_id", "shift", required=True),
            _text("record_table", required=True, max_len=64),
            _text("record_id", required=True, max_len=36),
            # [{field, old, new}], the values in stored form (text, a number or null)
            Field("changes", list, required=True, item_keys=("field", "old", "new"),
                  max_len=NOTE_MAX),
            _text("reason", required=True, max_len=2000),
            Field("amended_at", datetime, required=True),
        ), append_only=True),
        RecordType("conflict_resolution", (
            _text("team", required=True, max_len=64),
            _text("record_table", required=True, max_len=64),
            _text("record_id", required=True, max_len=36),
            _text("field", required=True, max_len=64),
            Field("choice", str, required=True, choices=("kept", "other")),
            _text("value", max_len=NOTE_MAX),  # the chosen value, JSON text
            Field("resolved_at", datetime, required=True),
        ), append_only=True),
    ]
}


# What of a pre-arrival notice the intake board shows (besides its status and times).
NOTICE_SHOWN = ("unit", "eta_at", "eta_source", "transport", "age_group", "safety_cautions",
                "pickup_order", "emergency_petition", "person_name", "sent_at", "cancelled_at")


def record_type(table: str) -> RecordType:
    try:
        return RECORD_TYPES[table]
    except KeyError:
        raise KeyError(f"unknown record table {table!r}") from None


def is_supervisor(role: str) -> bool:
    """Whether a role reviews its teams' shifts (sergeants, and clinical supervisors)."""
    return role in ("supervisor", "clinical_supervisor")


# A release of information in machine-readable form: `scope` lists the record categories it
# releases (comma-separated), `recipient` names who it releases them to: "user:<username>",
# "role:<role>" or "team:<team>" (every member of that team). The server discloses only what
# a release in this form covers (sync/server/disclosures.py).
RELEASE_SCOPES = ("clinical_notes",)
RECIPIENT_KINDS = ("user", "role", "team")


def referral_problems(values: dict) -> dict[str, str]:
    """A new referral is made on exactly one encounter or outreach contact."""
    made_on = [k for k in ("encounter_id", "outreach_contact_id") if values.get(k)]
    if len(made_on) != 1:
        return {"encounter_id": "a referral is made on exactly one encounter or outreach "
                                "contact (encounter_id or outreach_contact_id)"}
    return {}


def release_problems(values: dict) -> dict[str, str]:
    """What is wrong with a release's scope, recipient or dates (only the fields given)."""
    problems = {}
    if "scope" in values:
        items = [s.strip() for s in str(values["scope"] or "").split(",")]
        if not all(items) or any(s not in RELEASE_SCOPES for s in items):
            problems["scope"] = (f"must list record categories separated by commas, from: "
                                 f"{', '.join(RELEASE_SCOPES)}")
    if "recipient" in values:
        kind, _, name = str(values["recipient"] or "").partition(":")
        if kind not in RECIPIENT_KINDS or not name.strip() or name != name.strip():
            problems["recipient"] = "must be user:<username>, role:<role> or team:<team>"
        elif kind == "role" and name not in ROLES:
            problems["recipient"] = f"unknown role {name!r}; one of {', '.join(ROLES)}"
    signed, expires = values.get("signed_on"), values.get("expires_on")
    if signed and expires and str(expires) < str(signed):
        problems["expires_on"] = "must not be before signed_on"
    return problems
