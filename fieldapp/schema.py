"""The laptop cache's schema, as an ordered list of migrations.

Each migration runs in its own transaction and is recorded in the cache (sqlite-utils
Migrations), so an app upgrade moves an old cache forward without touching its data. A
migration is history: never edit one that has shipped; add the next.
"""

from sqlite_utils import Database, Migrations

from . import record_sums

migrations = Migrations("tandem")

# Bookkeeping every synced record carries (see records.META_COLUMNS); frozen as of m001.
_M001_META = """
    id TEXT PRIMARY KEY,
    created_hlc TEXT NOT NULL,
    updated_hlc TEXT NOT NULL,
    author TEXT NOT NULL,
    device TEXT NOT NULL,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0
"""


@migrations()
def m001_records(db: Database) -> None:
    """Every synced record, the outbox, and the laptop's own state."""
    db.executescript(f"""
    CREATE TABLE shift ({_M001_META},
        team TEXT NOT NULL, unit TEXT NOT NULL, vehicle TEXT, members TEXT NOT NULL,
        started_at TEXT NOT NULL, ended_at TEXT);
    CREATE TABLE shift_event ({_M001_META},
        shift_id TEXT NOT NULL REFERENCES shift(id), status TEXT NOT NULL, at TEXT NOT NULL,
        note TEXT, lat REAL, lon REAL);
    CREATE INDEX shift_event_shift ON shift_event(shift_id, at);
    CREATE TABLE assignment ({_M001_META},
        team TEXT NOT NULL, source TEXT NOT NULL, cad_incident TEXT, type TEXT NOT NULL,
        priority INTEGER NOT NULL, place TEXT, lat REAL, lon REAL, summary TEXT NOT NULL,
        status TEXT NOT NULL, unit TEXT, shift_id TEXT, disposition TEXT,
        received_at TEXT NOT NULL, acknowledged_at TEXT, taken_at TEXT, cleared_at TEXT);
    CREATE INDEX assignment_status ON assignment(team, status);
    CREATE TABLE person ({_M001_META},
        team TEXT NOT NULL, kind TEXT NOT NULL, first_name TEXT, last_name TEXT, alias TEXT,
        description TEXT, date_of_birth TEXT, birth_year INTEGER, safety_cautions TEXT,
        active_court_order INTEGER, high_utilizer INTEGER);
    CREATE TABLE release_of_information ({_M001_META},
        person_id TEXT NOT NULL REFERENCES person(id), discloser TEXT NOT NULL,
        scope TEXT NOT NULL, recipient TEXT NOT NULL, purpose TEXT NOT NULL,
        signed_on TEXT NOT NULL, expires_on TEXT NOT NULL, revoked_at TEXT);
    CREATE TABLE encounter ({_M001_META},
        team TEXT NOT NULL, shift_id TEXT, assignment_id TEXT, person_ids TEXT,
        started_at TEXT NOT NULL, place TEXT, lat REAL, lon REAL,
        presenting_situation TEXT NOT NULL, disposition TEXT,
        use_of_force INTEGER, use_of_force_type TEXT, pickup_order_attempted INTEGER,
        pickup_order_served INTEGER, emergency_petition INTEGER, deflection INTEGER,
        warm_handoff_crisis_line INTEGER, crisis_mobile_team_requested INTEGER,
        connected_to_care INTEGER, stabilized_on_scene INTEGER,
        police_note TEXT, finalized_at TEXT);
    CREATE INDEX encounter_shift ON encounter(shift_id);
    CREATE TABLE clinical_note ({_M001_META},
        encounter_id TEXT NOT NULL REFERENCES encounter(id), team TEXT NOT NULL,
        body TEXT NOT NULL, written_at TEXT NOT NULL);
    CREATE TABLE outreach_contact ({_M001_META},
        team TEXT NOT NULL, contacted_at TEXT NOT NULL, person_id TEXT, place TEXT,
        lat REAL, lon REAL, services_offered TEXT, supplies TEXT, referral TEXT,
        outcome TEXT, note TEXT);
    CREATE TABLE follow_up ({_M001_META},
        team TEXT NOT NULL, person_id TEXT NOT NULL, reason TEXT NOT NULL,
        due_on TEXT NOT NULL, priority INTEGER NOT NULL, assignee TEXT,
        status TEXT NOT NULL, done_at TEXT, note TEXT);
    CREATE INDEX follow_up_due ON follow_up(status, due_on);
    CREATE TABLE follow_up_attempt ({_M001_META},
        follow_up_id TEXT NOT NULL REFERENCES follow_up(id), at TEXT NOT NULL,
        method TEXT NOT NULL, outcome TEXT NOT NULL, note TEXT);
    CREATE TABLE crc_dropoff ({_M001_META},
        team TEXT NOT NULL, encounter_id TEXT, shift_id TEXT, transport TEXT NOT NULL,
        arrived_at TEXT NOT NULL, handed_off_at TEXT, cleared_at TEXT, delay_reason TEXT);
    CREATE TABLE audit_event ({_M001_META},
        at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, record_table TEXT,
        record_id TEXT, outcome TEXT NOT NULL, detail TEXT);

    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        op_id TEXT NOT NULL UNIQUE,
        table_name TEXT NOT NULL,
        record_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('create', 'patch', 'append', 'delete')),
        fields TEXT NOT NULL,
        base TEXT NOT NULL,
        base_version INTEGER NOT NULL,
        hlc TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL);
    CREATE INDEX outbox_record ON outbox(table_name, record_id);
    CREATE TABLE sync_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        device_id TEXT NOT NULL,
        pull_cursor TEXT,
        server_epoch TEXT,
        hlc_wall INTEGER NOT NULL DEFAULT 0,
        hlc_counter INTEGER NOT NULL DEFAULT 0,
        last_sync_at TEXT);
    CREATE TABLE profile (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        username TEXT NOT NULL, display_name TEXT, role TEXT NOT NULL, teams TEXT NOT NULL);
    CREATE TABLE conflict (
        id TEXT PRIMARY KEY, table_name TEXT NOT NULL, record_id TEXT NOT NULL,
        field TEXT NOT NULL, kept_value TEXT, other_value TEXT, detected_at TEXT NOT NULL,
        resolved_at TEXT, resolution TEXT);
    CREATE TABLE draft (
        key TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """)


@migrations()
def m002_directory(db: Database) -> None:
    """The resource directory, a read-only copy of the agency's HSDS data."""
    db.executescript("""
    CREATE TABLE dir_organization (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT,
        url TEXT, email TEXT);
    CREATE TABLE dir_service (id TEXT PRIMARY KEY, organization_id TEXT, name TEXT NOT NULL,
        alternate_name TEXT, description TEXT, url TEXT, email TEXT, status TEXT,
        eligibility_description TEXT, minimum_age REAL, maximum_age REAL,
        application_process TEXT, fees_description TEXT, alert TEXT, last_modified TEXT);
    CREATE TABLE dir_location (id TEXT PRIMARY KEY, organization_id TEXT, name TEXT,
        description TEXT, transportation TEXT, latitude REAL, longitude REAL);
    CREATE TABLE dir_service_at_location (id TEXT PRIMARY KEY, service_id TEXT NOT NULL,
        location_id TEXT NOT NULL);
    CREATE INDEX dir_sal_service ON dir_service_at_location(service_id);
    CREATE TABLE dir_address (id TEXT PRIMARY KEY, location_id TEXT NOT NULL, attention TEXT,
        address_1 TEXT, address_2 TEXT, city TEXT, region TEXT, state_province TEXT,
        postal_code TEXT, country TEXT, address_type TEXT);
    CREATE INDEX dir_address_location ON dir_address(location_id);
    CREATE TABLE dir_phone (id TEXT PRIMARY KEY, service_id TEXT, location_id TEXT,
        organization_id TEXT, service_at_location_id TEXT, number TEXT NOT NULL,
        extension TEXT, type TEXT, description TEXT);
    CREATE INDEX dir_phone_service ON dir_phone(service_id);
    CREATE TABLE dir_schedule (id TEXT PRIMARY KEY, service_id TEXT, location_id TEXT,
        service_at_location_id TEXT, valid_from TEXT, valid_to TEXT, dtstart TEXT,
        timezone TEXT, until TEXT, count INTEGER, wkst TEXT, freq TEXT, interval INTEGER,
        byday TEXT, bymonthday TEXT, opens_at TEXT, closes_at TEXT, description TEXT,
        notes TEXT);
    CREATE INDEX dir_schedule_service ON dir_schedule(service_id);
    CREATE TABLE dir_taxonomy_term (id TEXT PRIMARY KEY, code TEXT, name TEXT NOT NULL,
        description TEXT, parent_id TEXT, taxonomy TEXT);
    CREATE TABLE dir_service_term (service_id TEXT NOT NULL, term_id TEXT NOT NULL,
        PRIMARY KEY (service_id, term_id));
    CREATE TABLE dir_capacity (id TEXT PRIMARY KEY, service_id TEXT NOT NULL, unit TEXT,
        available INTEGER, maximum INTEGER, description TEXT, updated TEXT);
    """)


@migrations()
def m003_directory_search(db: Database) -> None:
    """Directory search: one search document per service, its FTS5 index (ranked name >
    taxonomy terms > description), a card per service with everything a result shows (so a
    search reads one row per result), and the words the typo fallback suggests from (each
    word filed under every one-letter deletion of it)."""
    db.executescript("""
    ALTER TABLE dir_schedule ADD COLUMN byweekno TEXT;
    ALTER TABLE dir_schedule ADD COLUMN holiday INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE dir_schedule ADD COLUMN closed INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX dir_schedule_location ON dir_schedule(location_id);
    CREATE INDEX dir_schedule_sal ON dir_schedule(service_at_location_id);
    CREATE INDEX dir_phone_location ON dir_phone(location_id);
    CREATE INDEX dir_phone_sal ON dir_phone(service_at_location_id);
    CREATE INDEX dir_service_term_term ON dir_service_term(term_id);
    CREATE INDEX dir_capacity_service ON dir_capacity(service_id);
    CREATE TABLE dir_doc (n INTEGER PRIMARY KEY, service_id TEXT NOT NULL UNIQUE,
        content_hash TEXT NOT NULL, name TEXT NOT NULL, listed INTEGER NOT NULL,
        always_open INTEGER NOT NULL, le_dropoff INTEGER NOT NULL, latitude REAL, longitude REAL);
    CREATE INDEX dir_doc_point ON dir_doc(latitude, longitude);
    CREATE TABLE dir_card (n INTEGER PRIMARY KEY, card TEXT NOT NULL);
    CREATE INDEX dir_doc_name ON dir_doc(name);
    CREATE VIRTUAL TABLE dir_fts USING fts5(name, terms, description, content='',
        contentless_delete=1, prefix='1 2 3', tokenize='unicode61 remove_diacritics 2');
    INSERT INTO dir_fts(dir_fts, rank) VALUES ('rank', 'bm25(10.0, 4.0, 1.0)');
    CREATE VIRTUAL TABLE dir_fts_vocab USING fts5vocab(dir_fts, row);
    CREATE TABLE dir_fuzzy (variant TEXT NOT NULL, word TEXT NOT NULL, docs INTEGER NOT NULL,
        PRIMARY KEY (variant, word)) WITHOUT ROWID;
    CREATE TABLE dir_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """)


@migrations()
def m004_sync_credentials(db: Database) -> None:
    """Where this laptop syncs: the server's address, and the refresh token when the OS
    offers no keyring (kept here, inside the encrypted cache, never in a plain file)."""
    db.execute("ALTER TABLE sync_state ADD COLUMN server_url TEXT")
    db.execute("""CREATE TABLE sync_credential (
        id INTEGER PRIMARY KEY CHECK (id = 1), refresh_token TEXT NOT NULL)""")


@migrations()
def m005_review(db: Database) -> None:
    """Supervisor review: decisions on shifts, amendments after submission, and conflicts
    settled on one laptop for every laptop (a resolution, made here or pulled, marks the
    matching conflicts on this laptop resolved)."""
    db.executescript(f"""
    CREATE TABLE shift_review ({_M001_META},
        team TEXT NOT NULL, shift_id TEXT NOT NULL REFERENCES shift(id),
        decision TEXT NOT NULL, comment TEXT, reviewed_at TEXT NOT NULL);
    CREATE INDEX shift_review_shift ON shift_review(shift_id, reviewed_at);
    CREATE TABLE amendment ({_M001_META},
        team TEXT NOT NULL, shift_id TEXT NOT NULL REFERENCES shift(id),
        record_table TEXT NOT NULL, record_id TEXT NOT NULL, changes TEXT NOT NULL,
        reason TEXT NOT NULL, amended_at TEXT NOT NULL);
    CREATE INDEX amendment_shift ON amendment(shift_id, amended_at);
    CREATE TABLE conflict_resolution ({_M001_META},
        team TEXT NOT NULL, record_table TEXT NOT NULL, record_id TEXT NOT NULL,
        field TEXT NOT NULL, choice TEXT NOT NULL, value TEXT, resolved_at TEXT NOT NULL);
    CREATE INDEX conflict_resolution_record ON conflict_resolution(record_table, record_id);
    CREATE TRIGGER conflict_settled AFTER INSERT ON conflict_resolution BEGIN
        UPDATE conflict SET resolved_at = NEW.resolved_at, resolution = NEW.choice
         WHERE table_name = NEW.record_table AND record_id = NEW.record_id
           AND field = NEW.field AND resolved_at IS NULL;
    END;
    CREATE INDEX crc_dropoff_shift ON crc_dropoff(shift_id);
    CREATE INDEX assignment_shift ON assignment(shift_id);
    """)


@migrations()
def m006_agency_settings(db: Database) -> None:
    """The agency's settings as the server last sent them (fieldapp/agency.py)."""
    db.execute("CREATE TABLE agency_setting (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@migrations()
def m007_field_standards(db: Database) -> None:
    """What the field's standards need (issue 18): APCO codes and the NENA incident id on
    assignments; current living situation and engagement on outreach contacts (HMIS); and
    referrals to directory services (FHIR)."""
    db.executescript(f"""
    ALTER TABLE assignment ADD COLUMN incident_type TEXT;
    ALTER TABLE assignment ADD COLUMN apco_incident_type TEXT;
    ALTER TABLE assignment ADD COLUMN apco_disposition TEXT;
    ALTER TABLE assignment ADD COLUMN incident_tracking_id TEXT;
    ALTER TABLE outreach_contact ADD COLUMN living_situation TEXT;
    ALTER TABLE outreach_contact ADD COLUMN engaged INTEGER;
    CREATE TABLE referral ({_M001_META},
        team TEXT NOT NULL, encounter_id TEXT, outreach_contact_id TEXT, person_id TEXT,
        service_id TEXT NOT NULL, service_name TEXT NOT NULL, organization_name TEXT,
        category TEXT NOT NULL, status TEXT NOT NULL, sent_at TEXT NOT NULL,
        status_changed_at TEXT, note TEXT);
    CREATE INDEX referral_status ON referral(status, sent_at);
    CREATE INDEX referral_encounter ON referral(encounter_id);
    CREATE INDEX referral_contact ON referral(outreach_contact_id);
    """)


@migrations()
def m008_pair(db: Database) -> None:
    """The pair in the car documents one call together: an encounter takes its assignment's
    CAD number and summary, keeps who wrote the police note and when, and can be joined to
    another record of the same call; a clinical note names whom it is about; a drop-off whom
    it is for; a release who signed it and the event that ends it. The team roster (who may
    ride together, their usual unit and vehicle) is reference data from the server."""
    db.executescript("""
    ALTER TABLE encounter ADD COLUMN cad_incident TEXT;
    ALTER TABLE encounter ADD COLUMN call_summary TEXT;
    ALTER TABLE encounter ADD COLUMN police_note_by TEXT;
    ALTER TABLE encounter ADD COLUMN police_note_at TEXT;
    ALTER TABLE encounter ADD COLUMN joined_to TEXT;
    CREATE INDEX encounter_started ON encounter(started_at);
    CREATE INDEX encounter_assignment ON encounter(assignment_id);
    CREATE INDEX encounter_joined ON encounter(joined_to);
    ALTER TABLE clinical_note ADD COLUMN person_ids TEXT;
    CREATE INDEX clinical_note_encounter ON clinical_note(encounter_id, written_at);
    ALTER TABLE crc_dropoff ADD COLUMN person_id TEXT;
    ALTER TABLE release_of_information ADD COLUMN signed_by TEXT;
    ALTER TABLE release_of_information ADD COLUMN expiry_event TEXT;
    CREATE INDEX release_person ON release_of_information(person_id, expires_on);
    CREATE TABLE roster_member (
        username TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL,
        teams TEXT NOT NULL, unit TEXT, vehicle TEXT);
    """)


@migrations()
def m009_crc_link(db: Database) -> None:
    """The CRC link (issue 19): the pre-arrival notice a unit sends, the CRC's half of the
    drop-off clock (stamped on the intake board), the drop-off's notice, and the CRC's
    status as last pulled (one row)."""
    db.executescript(f"""
    CREATE TABLE crc_notice ({_M001_META},
        team TEXT NOT NULL, unit TEXT NOT NULL, shift_id TEXT, encounter_id TEXT,
        transport TEXT NOT NULL, age_group TEXT NOT NULL, eta_at TEXT NOT NULL,
        eta_source TEXT NOT NULL, safety_cautions TEXT, pickup_order INTEGER,
        emergency_petition INTEGER, person_name TEXT, sent_at TEXT NOT NULL,
        cancelled_at TEXT);
    CREATE INDEX crc_notice_sent ON crc_notice(sent_at);
    CREATE TABLE crc_checkin ({_M001_META},
        notice_id TEXT NOT NULL REFERENCES crc_notice(id), arrived_at TEXT,
        checked_in_at TEXT);
    CREATE INDEX crc_checkin_notice ON crc_checkin(notice_id);
    ALTER TABLE crc_dropoff ADD COLUMN notice_id TEXT;
    CREATE INDEX crc_dropoff_notice ON crc_dropoff(notice_id);
    CREATE TABLE crc_status (
        id INTEGER PRIMARY KEY CHECK (id = 1), status TEXT NOT NULL, wait_minutes INTEGER,
        posted_at TEXT NOT NULL);
    """)


@migrations()
def m010_security(db: Database) -> None:
    """The refresh token the laptop proposed while it rotates (sync/credentials.py); when the
    user last signed in online, for the offline unlock window (fieldapp/reauth.py); and when
    the retention window last ran and the (table, id, version) of the records it took off
    this laptop, so the end-of-sync check still counts them (fieldapp/retention.py)."""
    db.executescript("""
    ALTER TABLE sync_credential ADD COLUMN next_refresh_token TEXT;
    ALTER TABLE sync_state ADD COLUMN signed_in_online_at TEXT;
    ALTER TABLE sync_state ADD COLUMN retention_run_at TEXT;
    CREATE TABLE purged (
        table_name TEXT NOT NULL, record_id TEXT NOT NULL, server_version INTEGER NOT NULL,
        PRIMARY KEY (table_name, record_id)) WITHOUT ROWID;
    """)


@migrations()
def m011_server_history(db: Database) -> None:
    """For when the agency server's history goes back (a restore, a failover): the last op
    the server confirmed (sent with each sync, so the server can tell it forgot it), each
    outbox op's record stamp as it was before the op (the confirmed copy the laptop gives
    back), the records the server lacks that this user may not give back (kept here, left
    out of the end-of-sync check, asked about again), and the refresh tokens this laptop
    retired, newest kept, so a server restored to an older token resumes the sign-in
    (sync/credentials.py)."""
    db.executescript("""
    ALTER TABLE sync_state ADD COLUMN last_op_id TEXT;
    ALTER TABLE outbox ADD COLUMN base_hlc TEXT;
    CREATE TABLE unreturned (
        table_name TEXT NOT NULL, record_id TEXT NOT NULL, reason TEXT NOT NULL,
        since TEXT NOT NULL, PRIMARY KEY (table_name, record_id));
    CREATE TABLE retired_refresh_token (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, token TEXT NOT NULL);
    """)


@migrations()
def m012_directory_delta(db: Database) -> None:
    """A sync's few changed services are applied by themselves (service_docs.apply_changes):
    what shows a location, an organization or a taxonomy term, and where a typo word is
    filed, is found by index rather than by reading the whole directory."""
    db.executescript("""
    CREATE INDEX dir_sal_location ON dir_service_at_location(location_id);
    CREATE INDEX dir_service_organization ON dir_service(organization_id);
    CREATE INDEX dir_phone_organization ON dir_phone(organization_id);
    CREATE INDEX dir_taxonomy_term_parent ON dir_taxonomy_term(parent_id);
    CREATE INDEX dir_fuzzy_word ON dir_fuzzy(word);
    """)


# The tables the server sends back, as of m013 (a later pulled table installs its own sums).
_M013_PULLED = ("shift", "shift_event", "assignment", "person", "release_of_information",
                "encounter", "clinical_note", "outreach_contact", "referral", "follow_up",
                "follow_up_attempt", "crc_dropoff", "crc_notice", "crc_checkin", "shift_review",
                "amendment", "conflict_resolution")


@migrations()
def m013_incremental_sync(db: Database) -> None:
    """The end-of-sync check's count and hash sum, kept by triggers as records are written
    (fieldapp/record_sums.py), counted once here from what the cache holds; and the access
    token with when it runs out, so a sync refreshes it only when it is about to."""
    record_sums.register(db.conn)
    record_sums.install(db, _M013_PULLED)
    db.execute("""CREATE TABLE access_token (
        id INTEGER PRIMARY KEY CHECK (id = 1), token TEXT NOT NULL, expires_at TEXT NOT NULL)""")


@migrations()
def m014_clock_seen(db: Database) -> None:
    """The latest time this laptop's clock showed at a sign-in or unlock, so a clock set back
    cannot stretch the offline window (fieldapp/reauth.py)."""
    db.execute("ALTER TABLE sync_state ADD COLUMN clock_seen_at TEXT")


def schema_version(db: Database) -> str:
    """The name of the newest migration applied to this cache, or '' for a new file."""
    applied = migrations.applied(db)
    return applied[-1].name if applied else ""


def latest_version() -> str:
    """The name of the newest migration this version of Tandem knows."""
    return migrations.pending(Database(memory=True))[-1].name
