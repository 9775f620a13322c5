"""The `tandem-server` command: set up the agency database, manage accounts, import the
resource directory, serve the API."""

import argparse
import gc
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import segno
from sqlalchemy.exc import SQLAlchemyError

from fieldapp import hmis_check
from fieldapp.errors import ValidationError
from fieldapp.followup_import import ImportFileError
from fieldapp.hsds import DirectoryError
from fieldapp.metrics import Parameters
from fieldapp.records import ROLES
from fieldapp.timeutil import parse_iso, to_iso, utc_now

from .. import protocol as P
from . import (accounts, agency_settings, audit, config, crc_report, directory, exchange,
               fhir, hmis, imports, integrations, logs, recovery, releases, report,
               restore, throttle, two_factor, users_cli)
from .db import BadDatabaseUrl, make_engine, migrate

DEFAULT_DB = "sqlite:///agency.db"
RESTORED_NOTE = (
    "A new history generation began: each laptop gives back what the database lacks on its "
    "next sync ('tandem-server recoveries' and 'tandem-server audit' list them). Users and "
    "devices added or changed since the backup are gone: add them again; laptops registered "
    "since sign in again; the others resume their sign-ins.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tandem-server", description=__doc__)
    parser.add_argument("--db", default=None,
                        help=f"database URL: sqlite:///path or postgresql+psycopg://... "
                             f"(default ${config.DB}, else {DEFAULT_DB})")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("init", "create or upgrade the database"),
                       ("serve", "serve the HTTP API"),
                       ("add-user", "add an account (password read from stdin)"),
                       ("revoke-device", "revoke a device and its tokens"),
                       ("compact", "discard old tombstones; laptops offline longer rebuild"),
                       ("import-directory", "import an HSDS directory (CSV folder or JSON)"),
                       ("report", "write the monthly program report"),
                       ("crc-report", "write the CRC's monthly law-enforcement drop-off report "
                                      "(check-in times by hour and weekday)"),
                       ("import-followups", "import the CRC discharge list (CSV) as follow-ups"),
                       ("add-integration", "register a CAD integration; prints its key once"),
                       ("settings", "show or change the agency's settings (laptops get them "
                                    "on their next sync)"),
                       ("export-hmis", "write a street outreach project's HMIS CSV export "
                                       "(FY2026) and check it"),
                       ("check-hmis", "check an HMIS CSV export folder against the FY2026 "
                                      "rules"),
                       ("export-fhir", "write referrals as FHIR R4 ServiceRequest and Task "
                                       "resources (one JSON Bundle)"),
                       ("set-car", "set the unit and vehicle a user usually rides in"),
                       ("releases", "list releases of information, or import them from CSV"),
                       ("backup", "copy the SQLite database, consistent, while it serves"),
                       ("restore", "put a SQLite backup in place; laptops give back what "
                                   "it lacks"),
                       ("mark-restored", "after pg_restore or a failover: a new history "
                                         "generation, so laptops give back what it lacks"),
                       ("recoveries", "restores and failovers, and what each laptop gave back"),
                       ("audit", "read the admin audit trail"),
                       ("two-factor", "a user's authenticator app: enrol it, reset it, or list "
                                      "who has one"),
                       ("throttle", "accounts and addresses held back after failed sign-ins; "
                                    "release one"),
                       ("users", users_cli.USERS_HELP),
                       ("devices", users_cli.DEVICES_HELP)):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--db", default=argparse.SUPPRESS, help="database URL")
        if name == "serve":
            sub.add_argument("--host", help=f"default ${config.HOST}, else 127.0.0.1")
            sub.add_argument("--port", type=int, help=f"default ${config.PORT}, else 8750")
            sub.add_argument("--workers", type=int,
                             help=f"worker processes (default ${config.WORKERS}, else 1)")
            sub.add_argument("--log-level", choices=config.LOG_LEVELS,
                             help=f"default ${config.LOG_LEVEL}, else info")
            sub.add_argument("--min-app-version", metavar="VERSION",
                             help="the oldest Tandem a laptop may sync with (default "
                                  f"${config.MIN_APP_VERSION}, else {P.OLDEST_LAPTOP})")
        if name == "add-user":
            sub.add_argument("name")
            sub.add_argument("--role", required=True, choices=ROLES)
            sub.add_argument("--team", required=True, action="append",
                             help="a team the user belongs to (repeat for supervisors)")
            sub.add_argument("--display-name", default="")
        if name in ("add-user", "set-car"):
            if name == "set-car":
                sub.add_argument("name")
            sub.add_argument("--unit", default=None, help="the unit (call sign) usually ridden in")
            sub.add_argument("--vehicle", default=None, help="the vehicle usually driven")
        if name == "releases":
            actions = sub.add_subparsers(dest="action", required=True)
            listing = actions.add_parser("list", help="the releases on file, newest first")
            listing.add_argument("--db", default=argparse.SUPPRESS, help="database URL")
            listing.add_argument("--team", default=None, help="one team's (default: every team)")
            listing.add_argument("--in-force", action="store_true",
                                 help="only those in force today (UTC date)")
            listing.add_argument("--json", action="store_true", help="one JSON object per line")
            importing = actions.add_parser(
                "import", help="signed releases from a CSV file: all rows, or none")
            importing.add_argument("--db", default=argparse.SUPPRESS, help="database URL")
            importing.add_argument("path")
            importing.add_argument("--team", required=True, help="the team the people belong to")
        if name in ("users", "devices"):
            users_cli.add_arguments(name, sub)
        if name == "revoke-device":
            sub.add_argument("device_id")
        if name == "compact":
            sub.add_argument("--keep-days", type=int, default=180,
                             help="keep deletions this many days (default 180)")
        if name == "import-directory":
            sub.add_argument("path")
        if name in ("import-followups", "add-integration"):
            sub.add_argument("path" if name == "import-followups" else "name")
            sub.add_argument("--team", required=True, help="the team the records belong to")
        if name == "settings":
            sub.add_argument("action", nargs="?", choices=("list", "set", "unset"),
                             default="list")
            sub.add_argument("key", nargs="?")
            sub.add_argument("value", nargs="?", help="for set: the value (text or JSON)")
            sub.add_argument("--json", action="store_true", help="list as one JSON object")
        if name == "export-hmis":
            sub.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
            sub.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
            sub.add_argument("--project", required=True,
                             help="a project named in the hmis_projects setting")
            sub.add_argument("--out", required=True, type=Path, help="the folder to write")
            sub.add_argument("--fy", type=int, default=2026, choices=(2026,),
                             help="the HMIS CSV specification (FY2026, in force since "
                                  "2025-10-01)")
        if name == "check-hmis":
            sub.add_argument("folder", type=Path)
        if name == "export-fhir":
            sub.add_argument("--from", dest="start", help="first day referrals were sent, "
                                                           "YYYY-MM-DD (default: all)")
            sub.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: all)")
            sub.add_argument("--team", default=None, help="one team (default: every team)")
            sub.add_argument("--out", required=True, type=Path, help="the JSON file to write")
        if name == "crc-report":
            sub.add_argument("--month", required=True, help="YYYY-MM, in the agency's time zone")
            sub.add_argument("--format", required=True, choices=crc_report.FORMATS)
            sub.add_argument("--out", required=True, type=Path, help="the file to write")
            sub.add_argument("--crc-target-minutes", type=float,
                             default=Parameters.crc_target_minutes)
        if name == "backup":
            sub.add_argument("--out", required=True, type=Path, help="the backup file to write")
        if name == "restore":
            sub.add_argument("backup", type=Path, help="a file 'tandem-server backup' wrote")
        if name == "mark-restored":
            sub.add_argument("--reason", default="restored or failed over outside Tandem",
                             help="what happened, for the log (e.g. 'pg_restore of the "
                                  "2 a.m. dump')")
        if name == "recoveries":
            sub.add_argument("--json", action="store_true", help="print JSON")
        if name == "audit":
            sub.add_argument("--since", help="only events at or after this time or date "
                                             "(ISO 8601, e.g. 2026-05-01)")
            sub.add_argument("--json", action="store_true", help="one JSON object per line")
        if name == "two-factor":
            sub.add_argument("action", choices=("enrol", "reset", "list"))
            sub.add_argument("name", nargs="?", help="the user (enrol, reset)")
        if name == "throttle":
            sub.add_argument("action", nargs="?", choices=("list", "clear"), default="list")
            sub.add_argument("key", nargs="?",
                             help="for clear: user:NAME or address:IP, as list shows it")
        if name == "report":
            sub.add_argument("--month", required=True, help="YYYY-MM")
            sub.add_argument("--team", default=None, help="one team (default: the program)")
            sub.add_argument("--format", required=True, choices=("csv", "pdf", "json"))
            sub.add_argument("--out", required=True, type=Path, help="the file to write")
            sub.add_argument("--tz", default=None,
                             help="an IANA time zone (default: the agency's time_zone setting)")
            sub.add_argument("--crc-target-minutes", type=float,
                             default=Parameters.crc_target_minutes)
            sub.add_argument("--booking-baseline-minutes", type=float,
                             default=Parameters.booking_baseline_minutes,
                             help="the agency's jail booking time, for patrol time saved")
    args = parser.parse_args(argv)
    try:
        args.db = args.db or config.env_str(config.DB, DEFAULT_DB)
        engine = make_engine(args.db)
        if args.command == "init":
            epoch = migrate(engine)
            print(f"database {args.db} is ready (epoch {epoch})")
            return 0
        if args.command == "serve":
            return _serve(args)
        if args.command == "add-user":
            password = sys.stdin.readline().rstrip("\n")
            with engine.begin() as conn:
                user_id = accounts.add_user(conn, args.name, args.role, args.team, password,
                                            args.display_name, args.unit, args.vehicle,
                                            actor=audit.cli_actor())
            print(f"added user {args.name} (id {user_id}, role {args.role}, "
                  f"teams {', '.join(args.team)})")
            return 0
        if args.command == "set-car":
            with engine.begin() as conn:
                accounts.set_car(conn, args.name, args.unit, args.vehicle)
            print(f"{args.name} usually rides in unit {args.unit or '(none)'}, vehicle "
                  f"{args.vehicle or '(none)'}; laptops learn it on their next sync")
            return 0
        if args.command == "releases" and args.action == "list":
            with engine.connect() as conn:
                found = releases.listing(conn, args.team, args.in_force)
            for r in found:
                print(json.dumps(r, ensure_ascii=False) if args.json else releases.line(r))
            if not args.json:
                print(f"{len(found)} release(s)", file=sys.stderr)
            return 0
        if args.command == "releases":
            plan = releases.import_file(engine, args.path, args.team)
            print("\n".join(plan.summary_lines()))
            return 1 if plan.problems else 0
        if args.command == "revoke-device":
            with engine.begin() as conn:
                revoked = accounts.revoke_device(conn, args.device_id, audit.cli_actor())
            print(f"revoked device {args.device_id} and {revoked} token(s); "
                  "it will be wiped on its next contact")
            return 0
        if args.command == "compact":
            if args.keep_days < 0:
                return _fail(f"--keep-days {args.keep_days}: must be 0 or more")
            before = to_iso(utc_now() - timedelta(days=args.keep_days))
            with engine.begin() as conn:
                result = exchange.compact(conn, before)
                result["expired_access_tokens"] = accounts.discard_expired_access_tokens(conn)
                result["faded_throttles"] = throttle.forget_faded(conn)
                audit.record(conn, "server.compacted", actor=audit.cli_actor(),
                             detail={"deleted_before": before, **result})
            print(json.dumps({"deleted_before": before, **result}))
            return 0
        if args.command == "backup":
            result = restore.backup(args.db, args.out)
            _audit(engine, "database.backup", str(args.out), result)
            print(json.dumps(result))
            return 0
        if args.command == "restore":
            engine.dispose()
            result = restore.restore(args.db, args.backup)
            print(json.dumps(result))
            print(RESTORED_NOTE, file=sys.stderr)
            return 0
        if args.command == "mark-restored":
            result = restore.mark_restored(engine, args.reason)
            print(json.dumps(result))
            print(RESTORED_NOTE, file=sys.stderr)
            return 0
        if args.command == "recoveries":
            with engine.connect() as conn:
                found = recovery.report(conn)
            print(json.dumps(found, indent=2) if args.json else "\n".join(_recovery_lines(found)))
            return 0
        if args.command == "import-directory":
            result = directory.import_directory(engine, args.path)
            _audit(engine, "directory.imported", args.path, {"summary": directory.summary_lines(
                result)})
            print("\n".join(directory.summary_lines(result)))
            return 0
        if args.command == "report":
            parameters = Parameters(args.crc_target_minutes, args.booking_baseline_minutes)
            if args.tz is None:
                with engine.connect() as conn:
                    args.tz = agency_settings.read(conn)["time_zone"]
            out = report.write(engine, args.month, args.team, args.format, args.out,
                               tz=args.tz, parameters=parameters)
            _audit(engine, "report.exported", str(out), {
                "month": args.month, "team": args.team, "format": args.format})
            print(f"wrote the {args.month} report for {args.team or 'the whole program'} "
                  f"to {out}")
            return 0
        if args.command == "crc-report":
            out = crc_report.write(engine, args.month, args.format, args.out,
                                   args.crc_target_minutes)
            print(f"wrote the CRC drop-off report for {args.month} to {out}")
            return 0
        if args.command == "import-followups":
            plan = imports.import_followups(engine, args.path, args.team)
            _audit(engine, "followups.imported", args.path, {
                "team": args.team, "summary": plan.summary_lines()},
                "failure" if plan.problems else "success")
            print("\n".join(plan.summary_lines()))
            return 1 if plan.problems else 0
        if args.command == "add-integration":
            with engine.begin() as conn:
                key = integrations.add_integration(conn, args.name, args.team)
                audit.record(conn, "integration.added", actor=audit.cli_actor(),
                             target=f"integration:{args.name}", detail={"team": args.team})
            print(f"added integration {args.name} for team {args.team}; its key (shown only "
                  f"now, send it as the X-Integration-Key header):\n{key}")
            return 0
        if args.command == "settings":
            return _settings(engine, args)
        if args.command == "export-hmis":
            return _export_hmis(engine, args)
        if args.command == "check-hmis":
            return _report_findings(args.folder, hmis_check.check(args.folder))
        if args.command == "export-fhir":
            return _export_fhir(engine, args)
        if args.command == "audit":
            return _audit_trail(engine, args)
        if args.command == "two-factor":
            return _two_factor(engine, args)
        if args.command == "throttle":
            return _throttle(engine, args)
        if args.command in ("users", "devices"):
            return users_cli.run(engine, args)
    except (hmis.ExportError, fhir.ExportError) as e:
        return _fail(f"{e}; nothing was written")
    except two_factor.TwoFactorError as e:
        return _fail(str(e))
    except (ImportFileError, integrations.IntegrationError, restore.RestoreError) as e:
        return _fail(str(e))
    except (BadDatabaseUrl, config.ConfigError) as e:
        return _fail(str(e))
    except DirectoryError as e:
        return _fail(f"{e}; the directory in service is unchanged")
    except accounts.AccountError as e:
        return _fail(str(e))
    except ValidationError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"cannot write {e.filename}: {e.strerror}")
    except SQLAlchemyError as e:
        return _fail(f"database error on {args.db}: {e.__class__.__name__}: "
                     f"{str(e).splitlines()[0]} (did you run 'tandem-server init'?)")
    return 2


def _settings(engine, args) -> int:
    """`settings [list] [--json]`, `settings set KEY VALUE`, `settings unset KEY`."""
    from fieldapp import agency

    if args.action == "list":
        with engine.connect() as conn:
            values = agency_settings.read(conn)
        if args.json:
            print(json.dumps(values))
        else:
            for key, value in values.items():
                print(f"{key} = {json.dumps(value)}    # {agency.SETTINGS[key].help}")
        return 0
    if not args.key or (args.action == "set") != (args.value is not None):
        return _fail(f"settings {args.action} needs KEY" + (" and VALUE" if args.action == "set"
                                                             else " only"))
    with engine.begin() as conn:
        before = agency_settings.read(conn).get(args.key)
        if args.action == "set":
            value = agency_settings.set_value(conn, args.key, args.value)
            print(f"{args.key} = {json.dumps(value)}; laptops take it on their next sync")
        else:
            agency_settings.unset(conn, args.key)
            value = agency.SETTINGS[args.key].default
        audit.record(conn, "setting.changed", actor=audit.cli_actor(), target=args.key,
                     detail={"from": before, "to": value})
        if args.action == "unset":
            print(f"{args.key} is back to its default, "
                  f"{json.dumps(agency.SETTINGS[args.key].default)}")
    return 0


def _export_hmis(engine, args) -> int:
    """Write the export, log it, and check it: exit 1 if the checker finds anything."""
    start = hmis.parse_day(args.start, "--from")
    end = hmis.parse_day(args.end, "--to")
    done = hmis.export(engine, args.project, start, end, args.out)
    findings = hmis_check.check(done["folder"])
    rows = done["rows"]
    _audit(engine, "export.hmis", f"team:{done['teams'][0]}", {"summary": (
        f"project {args.project!r} {start}..{end} (FY{args.fy}) export {done['export_id']}: "
        f"{rows['Client']} clients, {rows['Enrollment']} enrollments, "
        f"{rows['CurrentLivingSituation']} contacts, {rows['Exit']} exits, "
        f"{rows['Services']} services; {len(findings)} findings; to {done['folder']}")},
        outcome="success" if not findings else "failure")
    print(f"wrote HMIS export {done['export_id']} of {args.project!r} for {start} to {end} "
          f"to {done['folder']}: " + ", ".join(f"{name} {n}" for name, n in rows.items() if n))
    return _report_findings(done["folder"], findings)


def _report_findings(folder: Path, findings: list) -> int:
    for finding in findings:
        print(f"{folder}: {finding}", file=sys.stderr)
    if findings:
        print(f"{len(findings)} finding(s): the export breaks the HMIS CSV FY2026 rules above",
              file=sys.stderr)
        return 1
    print(f"{folder}: passes the HMIS CSV FY2026 checks")
    return 0


def _export_fhir(engine, args) -> int:
    start = hmis.parse_day(args.start, "--from") if args.start else None
    end = hmis.parse_day(args.end, "--to") if args.end else None
    done = fhir.export(engine, args.out, start=start, end=end, team=args.team)
    _audit(engine, "export.fhir", f"team:{args.team}" if args.team else "agency", {"summary": (
        f"{done['referrals']} referrals ({start or 'start'}..{end or 'now'}, team "
        f"{args.team or 'all'}) as {done['resources']} FHIR R4 resources to {done['file']}")})
    print(f"wrote {done['referrals']} referrals as {done['resources']} FHIR R4 resources "
          f"to {done['file']}")
    return 0


def _recovery_lines(found: dict) -> list[str]:
    lines = [f"current epoch {found['epoch']}"]
    if not found["generations"]:
        lines.append("no restore or failover recorded")
    for g in found["generations"]:
        lines.append(f"epoch {g['epoch']}: {g['reason']} at {g['started_at'] or '-'}"
                     + (f" ({g['detail']})" if g["detail"] else ""))
        if not g["devices"]:
            lines.append("  no laptop has given anything back yet")
        for d in g["devices"]:
            lines.append(
                f"  {d['username']} on {d['device_name'] or d['device_id']}: restored "
                f"{d['restored']}, brought up to date {d['merged']}, kept on the laptop "
                f"{d['kept_on_laptop']} ({d['first_at']} to {d['last_at']})")
    return lines


def _audit(engine, action: str, target: str, detail: dict, outcome: str = "success") -> None:
    with engine.begin() as conn:
        audit.record(conn, action, actor=audit.cli_actor(), target=target, detail=detail,
                     outcome=outcome)


def _audit_trail(engine, args) -> int:
    """`audit [--since WHEN] [--json]`: the trail, oldest first."""
    since = None
    if args.since:
        try:
            since = to_iso(parse_iso(args.since))
        except ValueError:
            return _fail(f"--since {args.since!r}: give a date or time such as 2026-05-01")
    with engine.connect() as conn:
        events = audit.read(conn, since)
    for event in events:
        print(json.dumps(event, ensure_ascii=False) if args.json else audit.line(event))
    return 0


def _two_factor(engine, args) -> int:
    """`two-factor enrol USER` (QR on this terminal, then the first code on stdin),
    `two-factor reset USER`, `two-factor list`."""
    if args.action == "list":
        with engine.connect() as conn:
            for name, state, left in two_factor.listing(conn):
                print(f"{name}: {state}" + (f", {left} recovery codes left" if left is not None
                                            else ""))
        return 0
    if not args.name:
        return _fail(f"two-factor {args.action} needs the user's name")
    with engine.begin() as conn:
        user = accounts.find_user(conn, args.name)
        if user is None:
            return _fail(f"no user {args.name!r}")
        if args.action == "reset":
            had = two_factor.reset(conn, user["id"])
            audit.record(conn, "two_factor.reset", actor=audit.cli_actor(),
                         target=f"user:{args.name}", detail={"had_one": had})
            print(f"{args.name}'s authenticator and recovery codes are removed; they set up a "
                  "new one at their next online sign-in" if had else
                  f"{args.name} had no authenticator")
            return 0
        started = two_factor.begin_enrolment(conn, user["id"], args.name)
    print(f"Scan this with {args.name}'s authenticator app (or type the key "
          f"{started['secret']}):\n")
    segno.make(started["uri"], error="m").terminal(compact=True)
    print("\nThen type the 6-digit code the app shows: ", end="", flush=True)
    code = sys.stdin.readline().strip()
    with engine.begin() as conn:
        found = two_factor.factor(conn, user["id"])
        step = two_factor.matching_step(found["secret"], code, found["last_step"])
        if step is None or not two_factor.claim_step(conn, user["id"], step):
            return _fail("that code does not match; run 'two-factor enrol' again")
        codes = two_factor.confirm(conn, user["id"])
        audit.record(conn, "two_factor.enrolled", actor=audit.cli_actor(),
                     target=f"user:{args.name}", detail={"by": "administrator"})
    print(f"{args.name}'s authenticator is set up. Their one-time recovery codes (give them to "
          "the user; they are shown only now):")
    print("\n".join(f"  {c}" for c in codes))
    return 0


def _throttle(engine, args) -> int:
    """`throttle [list]`, `throttle clear KEY`."""
    if args.action == "list":
        with engine.connect() as conn:
            for row in throttle.listing(conn):
                print(f"{row['key']}: {row['failures']} failures, last {row['last_failure_at']}"
                      + (f", held until {row['blocked_until']}" if row["blocked_until"] else ""))
        return 0
    if not args.key:
        return _fail("throttle clear needs KEY (user:NAME or address:IP)")
    with engine.begin() as conn:
        cleared = throttle.clear(conn, args.key)
        audit.record(conn, "signin.released", actor=audit.cli_actor(), target=args.key,
                     detail={"had_failures": cleared})
    print(f"{args.key} released" if cleared else f"{args.key} had no failed sign-ins")
    return 0


def _serve(args) -> int:
    """Serve with JSON-lines logs; flags override the TANDEM_* environment variables."""
    import uvicorn

    host = args.host or config.env_str(config.HOST, "127.0.0.1")
    port = args.port if args.port is not None else config.env_int(config.PORT, 8750, 1, 65535)
    workers = (args.workers if args.workers is not None
               else config.env_int(config.WORKERS, 1, minimum=1, maximum=64))
    level = args.log_level or config.env_choice(config.LOG_LEVEL, "info", config.LOG_LEVELS)
    oldest = args.min_app_version or config.env_str(config.MIN_APP_VERSION, P.OLDEST_LAPTOP)
    try:
        P.parse_version(oldest)
    except ValueError as e:
        return _fail(f"--min-app-version / {config.MIN_APP_VERSION}: {e}")
    if not 0 < port < 65536:
        return _fail(f"--port {port} is not a TCP port")
    if workers < 1:
        return _fail(f"--workers {workers}: must be 1 or more")
    print(json.dumps({"serving": f"http://{host}:{port}", "db": _safe(args.db),
                      "workers": workers, "min_app_version": oldest}), flush=True)
    options = {"host": host, "port": port, "log_config": logs.config(level),
               "access_log": False}
    if workers > 1:
        os.environ[config.DB] = args.db  # each worker process builds its app from these
        os.environ[config.MIN_APP_VERSION] = oldest
        # A worker importing the app on a busy host can take longer than uvicorn's 5 s default.
        uvicorn.run("sync.server.cli:app_from_env", factory=True, workers=workers,
                    timeout_worker_healthcheck=30, **options)
    else:
        from .api import create_app
        uvicorn.run(_frozen(create_app(args.db, oldest)), **options)
    return 0


def app_from_env():
    """The app for each uvicorn worker process (--workers > 1)."""
    from .api import create_app
    return _frozen(create_app(os.environ[config.DB], os.environ[config.MIN_APP_VERSION]))


# Young objects allowed before a collection: more than one request makes (a push of 500 ops
# builds thousands that live until it ends), so a request's objects die with it instead of
# being walked, and promoted, by collections it sets off itself (at the default, 700, about
# ten a batch).
GC_YOUNG = 50_000


def _frozen(app):
    """The app, with everything built so far (modules, the app, its tables) set aside from
    the garbage collector for good, which then walks only what requests make: the full
    collections that a long push sets off walked the whole process each time (in bench_sync,
    0.58 s of collecting in the server against 0.08 s frozen). Young collections wait for
    GC_YOUNG objects, so the rest goes too (none during a 20,000-op push)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])
    return app


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


def _fail(message: str) -> int:
    print(f"tandem-server: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
