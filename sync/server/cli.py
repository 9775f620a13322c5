"""The `tandem-server` command: set up the agency database, manage accounts, import the
resource directory, serve the API."""

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from fieldapp.errors import ValidationError
from fieldapp.followup_import import ImportFileError
from fieldapp.hsds import DirectoryError
from fieldapp.metrics import Parameters
from fieldapp.records import ROLES
from fieldapp.timeutil import to_iso, utc_now

from . import (
    accounts, config, directory, exchange, imports, integrations, logs, recovery, report, restore,
)
from .db import BadDatabaseUrl, make_engine, migrate

DEFAULT_DB = "sqlite:///agency.db"
RESTORED_NOTE = (
    "A new history generation began: each laptop gives back what the database lacks on its "
    "next sync ('tandem-server recoveries' lists them). Accounts and devices added or changed "
    "since the backup are gone: add them again; laptops registered since sign in again.")


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
                       ("import-followups", "import the CRC discharge list (CSV) as follow-ups"),
                       ("add-integration", "register a CAD integration; prints its key once"),
                       ("backup", "copy the SQLite database, consistent, while it serves"),
                       ("restore", "put a SQLite backup in place; laptops give back what "
                                   "it lacks"),
                       ("mark-restored", "after pg_restore or a failover: a new history "
                                         "generation, so laptops give back what it lacks"),
                       ("recoveries", "restores and failovers, and what each laptop gave back")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--db", default=argparse.SUPPRESS, help="database URL")
        if name == "serve":
            sub.add_argument("--host", help=f"default ${config.HOST}, else 127.0.0.1")
            sub.add_argument("--port", type=int, help=f"default ${config.PORT}, else 8750")
            sub.add_argument("--workers", type=int,
                             help=f"worker processes (default ${config.WORKERS}, else 1)")
            sub.add_argument("--log-level", choices=config.LOG_LEVELS,
                             help=f"default ${config.LOG_LEVEL}, else info")
        if name == "add-user":
            sub.add_argument("name")
            sub.add_argument("--role", required=True, choices=ROLES)
            sub.add_argument("--team", required=True, action="append",
                             help="a team the user belongs to (repeat for supervisors)")
            sub.add_argument("--display-name", default="")
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
        if name == "report":
            sub.add_argument("--month", required=True, help="YYYY-MM")
            sub.add_argument("--team", default=None, help="one team (default: the program)")
            sub.add_argument("--format", required=True, choices=("csv", "pdf", "json"))
            sub.add_argument("--out", required=True, type=Path, help="the file to write")
            sub.add_argument("--tz", default="America/Phoenix",
                             help="the agency's IANA time zone (default America/Phoenix)")
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
                                            args.display_name)
            print(f"added user {args.name} (id {user_id}, role {args.role}, "
                  f"teams {', '.join(args.team)})")
            return 0
        if args.command == "revoke-device":
            with engine.begin() as conn:
                revoked = accounts.revoke_device(conn, args.device_id)
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
            print(json.dumps({"deleted_before": before, **result}))
            return 0
        if args.command == "backup":
            print(json.dumps(restore.backup(args.db, args.out)))
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
            print("\n".join(directory.summary_lines(result)))
            return 0
        if args.command == "report":
            parameters = Parameters(args.crc_target_minutes, args.booking_baseline_minutes)
            out = report.write(engine, args.month, args.team, args.format, args.out,
                               tz=args.tz, parameters=parameters)
            print(f"wrote the {args.month} report for {args.team or 'the whole program'} "
                  f"to {out}")
            return 0
        if args.command == "import-followups":
            plan = imports.import_followups(engine, args.path, args.team)
            print("\n".join(plan.summary_lines()))
            return 1 if plan.problems else 0
        if args.command == "add-integration":
            with engine.begin() as conn:
                key = integrations.add_integration(conn, args.name, args.team)
            print(f"added integration {args.name} for team {args.team}; its key (shown only "
                  f"now, send it as the X-Integration-Key header):\n{key}")
            return 0
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


def _serve(args) -> int:
    """Serve with JSON-lines logs; flags override the TANDEM_* environment variables."""
    import uvicorn

    host = args.host or config.env_str(config.HOST, "127.0.0.1")
    port = args.port if args.port is not None else config.env_int(config.PORT, 8750, 1, 65535)
    workers = (args.workers if args.workers is not None
               else config.env_int(config.WORKERS, 1, minimum=1, maximum=64))
    level = args.log_level or config.env_choice(config.LOG_LEVEL, "info", config.LOG_LEVELS)
    if not 0 < port < 65536:
        return _fail(f"--port {port} is not a TCP port")
    if workers < 1:
        return _fail(f"--workers {workers}: must be 1 or more")
    print(json.dumps({"serving": f"http://{host}:{port}", "db": _safe(args.db),
                      "workers": workers}), flush=True)
    options = {"host": host, "port": port, "log_config": logs.config(level),
               "access_log": False}
    if workers > 1:
        os.environ[config.DB] = args.db  # each worker process builds its app from it
        # A worker importing the app on a busy host can take longer than uvicorn's 5 s default.
        uvicorn.run("sync.server.cli:app_from_env", factory=True, workers=workers,
                    timeout_worker_healthcheck=30, **options)
    else:
        from .api import create_app
        uvicorn.run(create_app(args.db), **options)
    return 0


def app_from_env():
    """The app for each uvicorn worker process (--workers > 1)."""
    from .api import create_app
    return create_app(os.environ[config.DB])


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


def _fail(message: str) -> int:
    print(f"tandem-server: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
