"""The `tandem` command: the desktop app, its demo, and headless commands for IT staff.

Headless commands (doctor, login, sync, search) never import Qt, so they run on a
provisioning box with no display.
"""

import argparse
import sys
from pathlib import Path

from fieldapp import __version__, paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tandem", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"tandem {__version__}")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where caches live (default: the platform's user-data directory)")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("app", help="open the desktop app (the default)")
    demo = commands.add_parser("demo", help="open the app on demo data, signed in as the demo user")
    demo.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    doctor = commands.add_parser("doctor", help="check this laptop's caches and keys")
    doctor.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    login = commands.add_parser("login", help="sign in to the agency server (password on stdin)")
    login.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    login.add_argument("--server", required=True, help="the agency server, https://...")
    login.add_argument("--user", required=True)
    login.add_argument("--code", help="the 6-digit code of your authenticator app (or a "
                                      "recovery code); asked on stdin when the server wants one")
    sync = commands.add_parser("sync", help="sync once (cache password on stdin)")
    sync.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    sync.add_argument("--user", default=None, help="whose cache (needed if several)")
    sync.add_argument("--json", action="store_true", help="print the summary as JSON")
    smoke = commands.add_parser("smoke", help="check this install headless: demo server, "
                                "cache, sync, main window rendered offscreen")
    smoke.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                       help="keep the demo files here (default: a throwaway folder)")
    search = commands.add_parser("search", help="search the resource directory "
                                 "(cache password on stdin)")
    search.add_argument("query")
    search.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    search.add_argument("--user", default=None, help="whose cache (needed if several)")
    search.add_argument("--open-now", action="store_true", help="only services open now")
    search.add_argument("--category", action="append", default=[],
                        help="a taxonomy term name or code (repeatable)")
    search.add_argument("--near", metavar="LAT,LON", help="sort by distance from this point")
    search.add_argument("--json", action="store_true", help="print results as one JSON object")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or paths.default_data_dir()

    if args.command == "doctor":
        from fieldapp import doctor as doctor_module
        return doctor_module.main(data_dir, as_json=args.json)
    if args.command == "search":
        return _search(data_dir, args)
    if args.command in ("demo", "smoke"):  # both start the demo's own agency server
        try:
            from sync import demo as demo_module
        except ModuleNotFoundError as e:
            print(f"tandem {args.command} starts its own agency server, which needs {e.name}: "
                  "pip install 'tandem[server]'", file=sys.stderr)
            return 1
    if args.command == "smoke":
        from ui import smoke as smoke_module
        return smoke_module.run(args.data_dir)
    if args.command in ("login", "sync"):
        from sync import commands as sync_commands
        if args.command == "login":
            return sync_commands.login(data_dir, args.server, args.user, args.code)
        return sync_commands.sync(data_dir, args.user, as_json=args.json)
    if args.command == "demo":
        from fieldapp.errors import TandemError
        from ui import app
        try:
            session, server = demo_module.start(data_dir)
        except TandemError as e:
            print(f"tandem: {e}", file=sys.stderr)
            return 1
        try:
            return app.run(data_dir, session=session)
        finally:
            server.stop()
    from ui import app
    return app.run(data_dir)


def _search(data_dir: Path, args) -> int:
    from fieldapp import directory, headless
    from fieldapp.errors import TandemError
    try:
        session = headless.open_session(data_dir, args.user)
    except TandemError as e:
        print(f"tandem: {e}", file=sys.stderr)
        return 1
    try:
        return directory.search_command(session.db, args.query, open_now=args.open_now,
                                        categories=args.category, near=args.near,
                                        as_json=args.json)
    finally:
        session.close()


if __name__ == "__main__":
    sys.exit(main())
