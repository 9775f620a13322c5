"""The `tandem` command: the desktop app, its demo, and headless commands for IT staff.

Headless commands (doctor, login, sync, search) never import Qt, so they run on a
provisioning box with no display.
"""

import argparse
import sys
from pathlib import Path

from fieldapp import paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tandem", description=__doc__.splitlines()[0])
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
    sync = commands.add_parser("sync", help="sync once (cache password on stdin)")
    sync.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    sync.add_argument("--user", default=None, help="whose cache (needed if several)")
    sync.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or paths.default_data_dir()

    if args.command == "doctor":
        from fieldapp import doctor as doctor_module
        return doctor_module.main(data_dir, as_json=args.json)
    if args.command in ("login", "sync"):
        from sync import commands as sync_commands
        if args.command == "login":
            return sync_commands.login(data_dir, args.server, args.user)
        return sync_commands.sync(data_dir, args.user, as_json=args.json)
    if args.command == "demo":
        from sync import demo as demo_module
        from ui import app
        session, server = demo_module.start(data_dir)
        try:
            return app.run(data_dir, session=session)
        finally:
            server.stop()
    from ui import app
    return app.run(data_dir)


if __name__ == "__main__":
    sys.exit(main())
