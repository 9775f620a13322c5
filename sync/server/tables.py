"""The agency server's tables, as SQLAlchemy Core objects the queries use.

The Alembic migrations in migrations/versions create these tables; a test checks that the
migrated database has every table and column named here.

Every synced record, whatever its type, is one row of `record`: its fields as JSON text, the
clock stamps of the fields written after its create (for the deterministic winner of a
conflict; stored.py), a version that counts its changes, and the global change_seq of its
latest change, which pull cursors follow. Deleted records stay as tombstones until
`tandem-server compact` discards old ones.
"""

from sqlalchemy import (
    BigInteger, Boolean, Column, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table,
    Text, text,
)

metadata = MetaData()

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# One row (id = 1): the last change_seq handed out, on SQLite (whose writers take turns). On
# PostgreSQL the sequence record_change_seq gives the values (revision 0013, change_log.py).
change_counter = Table(
    "change_counter", metadata,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# Per team and record table: how many records, the sum of their digests (protocol.SetHash,
# mod 2**64, stored as a signed 64-bit integer), and the newest change_seq. Kept by every
# transaction that writes `record` (record_sums.py), so the end-of-sync summary reads a few
# rows instead of the team's whole history.
record_sum = Table(
    "record_sum", metadata,
    Column("team", String(64), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("top_seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("team", "table_name"),
)

# The agency's settings (fieldapp/agency.py): key -> JSON value; a key not here has its default.
agency_setting = Table(
    "agency_setting", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", String(40), nullable=False),
)

app_user = Table(
    "app_user", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("password_hash", Text, nullable=False),
    Column("role", String(32), nullable=False),
    Column("teams", Text, nullable=False),  # JSON list
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", String(40), nullable=False),
    Column("unit", String(32)),  # the car this user usually rides in: a shift's defaults
    Column("vehicle", String(32)),
    Column("password_changed_at", String(40)),
)

# Every password a user has had, newest last (argon2 hashes, like app_user's): a new one may
# not be any of the last `password_history` (sync/server/passwords.py).
password_history = Table(
    "password_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("set_at", String(40), nullable=False),
    Index("password_history_user", "user_id", "id"),
)

device = Table(
    "device", metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("registered_at", String(40), nullable=False),
    Column("last_seen_at", String(40)),
    Column("revoked_at", String(40)),
    # What the laptop said of itself at its last sync (sync/server/fleet.py).
    Column("app_version", String(40)),
    Column("pending_changes", Integer),
    Column("oldest_pending_at", String(40)),
    Column("reported_at", String(40)),
    Column("last_good_sync_at", String(40)),
    # The key that seals this laptop's data key a second time; released only after an online
    # sign-in of its user on it (sync/server/device_keys.py).
    Column("recovery_secret", String(64)),
    Index("device_user", "user_id"),
)

# Tokens are stored only as SHA-256 hashes; `kind` is "access" or "refresh". Every token of
# one online sign-in shares its `chain_id` and `signed_in_at`. A refresh token is used once:
# using it sets `used_at` and names the token that replaces it (`successor_hash`); presenting
# it again revokes the whole chain (sync/server/accounts.py).
token = Table(
    "token", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
    Column("chain_id", String(36)),
    Column("signed_in_at", String(40)),
    Column("used_at", String(40)),
    Column("successor_hash", String(64)),
    Index("token_device", "device_id"),
    Index("token_chain", "chain_id"),
)

# Append-only (database triggers refuse UPDATE and DELETE): what administrators did and what
# happened to accounts. Users, roles and teams, devices and revocations, imports, exports and
# reports, settings, second factors, sign-ins and their throttling, stamps clamped
# (sync/server/audit.py; read with `tandem-server audit`).
admin_audit = Table(
    "admin_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("actor", String(120), nullable=False),  # a username, or cli:<OS user>
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False),
    Column("outcome", String(16), nullable=False),  # success | failure | refused | flagged
    Column("address", String(64)),
    Column("device_id", String(64)),
    Column("detail", Text, nullable=False),  # JSON object
    Index("admin_audit_at", "at"),
)

# Failed sign-ins per account ("user:<name>") and per client address ("address:<ip>"), until
# when each is refused, and the wait whose refusals are already in the audit trail
# (sync/server/throttle.py).
signin_throttle = Table(
    "signin_throttle", metadata,
    Column("key", String(120), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", String(40), nullable=False),
    Column("blocked_until", String(40)),
    Column("audited_until", String(40)),
)

# A user's TOTP second factor (sync/server/two_factor.py): the shared secret (base32),
# confirmed once the user's first code proved their authenticator holds it, and the newest
# 30-second step a code was accepted for, so a code works once.
two_factor = Table(
    "two_factor", metadata,
    Column("user_id", Integer, primary_key=True),
    Column("secret", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("confirmed_at", String(40)),
    Column("last_step", BigInteger),
)

# One-time recovery codes (SHA-256 of each), for a user without their authenticator.
recovery_code = Table(
    "recovery_code", metadata,
    Column("user_id", Integer, nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("used_at", String(40)),
    PrimaryKeyConstraint("user_id", "code_hash"),
)

record = Table(
    "record", metadata,
    Column("id", String(36), primary_key=True),
    Column("table_name", String(64), nullable=False),
    Column("team", String(64), nullable=False),
    Column("clinical", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("change_seq", BigInteger, nullable=False, unique=True),
    Column("deleted", Boolean, nullable=False),
    Column("data", Text, nullable=False),  # JSON object: field -> stored value
    # JSON object: stamp -> the fields whose last write it is, for the stamps that are not
    # created_hlc (a field not listed was last written by the create; stored.py)
    Column("field_hlc", Text, nullable=False),
    Column("created_hlc", String(80), nullable=False),
    Column("updated_hlc", String(80), nullable=False),
    Column("author", String(64), nullable=False),
    Column("device", String(64), nullable=False),
    Index("record_team_seq", "team", "change_seq"),
)

# Every op a device sent, with the result it got, kept indefinitely: a retry of an op
# (after a lost response, a crash, a restore) gets the stored result back instead of a
# second application. A delete reads the versions other devices' ops made (a conflict if one
# came after its base); compaction, each record's newest applied_at; restore detection,
# whether an op or a record id was ever here.
applied_op = Table(
    "applied_op", metadata,
    Column("device_id", String(64), nullable=False),
    Column("op_id", String(64), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("result", Text, nullable=False),  # without its op_id: "3", "3[]" or JSON (stored.py)
    Column("applied_at", String(40), nullable=False),
    PrimaryKeyConstraint("device_id", "op_id"),
    Index("applied_op_record", "record_id"),  # "was this record ever here?" (restore.py)
)

conflict = Table(
    "conflict", metadata,
    Column("id", String(36), primary_key=True),
    Column("table_name", String(64), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("field", String(64), nullable=False),
    Column("kept_value", Text),
    Column("other_value", Text),
    Column("op_id", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("detected_at", String(40), nullable=False),
    Column("resolved_at", String(40)),
    Index("conflict_record", "table_name", "record_id"),
)

# The resource directory, one row per service: its document (every row it shows, as JSON,
# see fieldapp.service_docs) and the directory version (`seq`) of its latest change. A
# removed service stays as a row with deleted set and no document, so laptops learn of it.
# meta "directory_version" holds the newest seq; an import locks that row.
directory_service = Table(
    "directory_service", metadata,
    Column("service_id", String(255), primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("deleted", Boolean, nullable=False),
    Column("content_hash", String(64)),
    Column("document", Text),
)

# Append-only log of clinical records served beyond clinical staff (sync/server/disclosures.py):
# each note sent to a reader under a release ("disclosed", with the release ids as its legal
# basis) and each later order to that reader's device to delete it ("withdrawn").
disclosure = Table(
    "disclosure", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("event", String(16), nullable=False),  # disclosed | withdrawn
    Column("record_table", String(64), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("reader", String(64), nullable=False),
    Column("reader_role", String(32), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("release_ids", Text, nullable=False),  # JSON list: the legal basis ([] if withdrawn)
    Index("disclosure_reader_device", "reader", "device_id"),
)

# Append-only log of revoked devices told to wipe themselves ("told") and of the laptop's
# report that it did ("wiped").
device_wipe = Table(
    "device_wipe", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False),
    Column("at", String(40), nullable=False),
    Column("event", String(16), nullable=False),  # told | wiped
    Column("detail", String(200), nullable=False),
    Index("device_wipe_device", "device_id"),
)

# The CRC intake board (sync/server/intake.py): who is signed in to it, and the center's
# status as intake staff post it (every post kept; the newest is in force).
intake_session = Table(
    "intake_session", metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the cookie's value
    Column("user_id", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("last_seen_at", String(40), nullable=False),
    Column("ended_at", String(40)),
)

crc_status = Table(
    "crc_status", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("status", String(16), nullable=False),  # open | at_capacity | diverting
    Column("wait_minutes", Integer),
    Column("posted_at", String(40), nullable=False),
    Column("posted_by", String(64), nullable=False),
)

# The intake board reads the last hours' CRC notices, drop-offs and check-ins by their table
# and creation stamp (intake.py); only their rows are in this index, not every record's
# 56-character stamp. The board's query repeats this condition word for word: SQLite uses a
# partial index only for a query whose WHERE holds the index's own terms.
BOARD_TABLES = "table_name IN ('crc_checkin', 'crc_dropoff', 'crc_notice')"
Index("record_table_created", record.c.table_name, record.c.created_hlc,
      sqlite_where=text(BOARD_TABLES), postgresql_where=text(BOARD_TABLES))

# Records taken out of `record` because no laptop could hold them: children whose parent was
# missing or in another team, pushed before the server checked parents. Kept for the agency,
# never served.
quarantined_record = Table(
    "quarantined_record", metadata,
    Column("id", String(36), primary_key=True),
    Column("table_name", String(64), nullable=False),
    Column("team", String(64), nullable=False),
    Column("data", Text, nullable=False),
    Column("author", String(64), nullable=False),
    Column("device", String(64), nullable=False),
    Column("created_hlc", String(80), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("quarantined_at", String(40), nullable=False),
)

# Append-only log of the server's history generations after the first: each time a restore or
# a failover took it back (`tandem-server restore`, `mark-restored`), or a laptop's request
# proved it had forgotten changes ("detected"), a new epoch began (sync/server/restore.py).
history_generation = Table(
    "history_generation", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("epoch", String(64), nullable=False, unique=True),
    Column("started_at", String(40), nullable=False),
    Column("reason", String(16), nullable=False),  # restore | mark-restored | detected
    Column("detail", Text, nullable=False),
    Column("newest_change", BigInteger, nullable=False),  # the newest change_seq when it began
)

# Append-only log of what laptops gave back after a generation began (sync/server/recovery.py):
# one row per record a device restored or brought up to date ("restored", "merged"), and per
# record the server lacks that the device holds but may not give back ("kept_on_laptop").
recovery = Table(
    "recovery", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("epoch", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("username", String(64), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("record_id", String(36), nullable=False),
    Column("outcome", String(16), nullable=False),  # restored | merged | kept_on_laptop
    Column("detail", String(200), nullable=False),
    Index("recovery_epoch_device", "epoch", "device_id"),
)
