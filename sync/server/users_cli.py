"""`tandem-server users ...` and `tandem-server devices list`: the commands, their arguments
and what they print (the work is users.py's, passwords.py's and fleet.py's). Each takes
`--json`; a refused one says why on stderr, exits 2 and changes nothing."""

import argparse
import json
import sys

from fieldapp.records import ROLES

from . import audit, fleet, passwords, users

USERS_HELP = ("accounts: list, show, set-role, set-teams, disable, enable, reset-password "
              "(each in the admin audit trail)")
DEVICES_HELP = ("every laptop: its user, version, last contact, last good sync, unsynced "
                "changes and the oldest one's age, revoked or wiped, and what needs attention")


def add_arguments(name: str, sub: argparse.ArgumentParser) -> None:
    actions = sub.add_subparsers(dest="action", required=True)

    def action(verb: str, text: str, user: bool = True) -> argparse.ArgumentParser:
        parser = actions.add_parser(verb, help=text)
        parser.add_argument("--db", default=argparse.SUPPRESS, help="database URL")
        parser.add_argument("--json", action="store_true",
                            help="JSON: one object per line for a list, else one object")
        if user:
            parser.add_argument("name", help="the user name")
        return parser

    if name == "devices":
        listing = action("list", "every device, those needing attention first", user=False)
        listing.add_argument("--user", default=None, help="only this user's")
        listing.add_argument("--flagged", action="store_true",
                             help="only those needing attention")
        return
    action("list", "every account", user=False)
    action("show", "one account and its devices")
    action("set-role", "a new role; their laptops redraw their copy at the next sync") \
        .add_argument("role", choices=ROLES)
    action("set-teams", "new teams (all of them); laptops redraw their copy at the next "
                        "sync").add_argument("teams", nargs="+", metavar="TEAM")
    action("disable", "someone who left: their tokens are revoked, their laptops keep "
                      "their unsynced work")
    action("enable", "enable a disabled account again (they sign in online again)")
    action("reset-password", "a new password, read from stdin: every sign-in of theirs is "
                             "revoked; the next online sign-in with it opens their laptops' "
                             "copies")


def run(engine, args) -> int:
    actor = audit.cli_actor()
    if args.command == "devices":
        with engine.begin() as conn:
            found = fleet.listing(conn, username=args.user, flagged_only=args.flagged)
            audit.record(conn, "devices.listed", actor=actor, detail={
                "devices": len(found), "user": args.user, "flagged": args.flagged})
        return _print_list(found, fleet.line, args.json, "device(s)")
    if args.action == "list":
        with engine.begin() as conn:
            found = users.listing(conn, actor)
        return _print_list(found, users.line, args.json, "user(s)")
    if args.action == "show":
        with engine.begin() as conn:
            shown = users.show(conn, args.name, actor)
        if args.json:
            print(json.dumps(shown, ensure_ascii=False))
        else:
            print(users.line({**shown, "devices": len(shown["devices"]), "revoked_devices": 0,
                              "last_contact_at": max((d["last_contact_at"] or "" for d in
                                                      shown["devices"]), default="") or None}))
            for d in shown["devices"]:
                print(f"  {fleet.line(d)}")
        return 0
    if args.action == "reset-password":
        password = sys.stdin.readline().rstrip("\n")
        revoked = passwords.reset(engine, args.name, password, actor)
        return _said(args, {"user": args.name, "password_reset": True,
                            "revoked_tokens": revoked},
                     f"{args.name}'s password is reset and {revoked} token(s) revoked: each of "
                     "their laptops asks for an online sign-in, which with the new password "
                     "opens its copy and sends its unsynced work")
    with engine.begin() as conn:
        if args.action == "set-role":
            users.set_role(conn, args.name, args.role, actor)
            return _said(args, {"user": args.name, "role": args.role},
                         f"{args.name} is now {args.role}; their laptops take it at their next "
                         "sync")
        if args.action == "set-teams":
            users.set_teams(conn, args.name, args.teams, actor)
            return _said(args, {"user": args.name, "teams": args.teams},
                         f"{args.name} is now on {', '.join(args.teams)}; their laptops take "
                         "it at their next sync")
        if args.action == "disable":
            revoked = users.disable(conn, args.name, actor)
            return _said(args, {"user": args.name, "disabled": True, "changed": revoked is not None,
                                "revoked_tokens": revoked or 0},
                         f"{args.name} was already disabled" if revoked is None else
                         f"{args.name} is disabled and {revoked} token(s) revoked; their "
                         "laptops keep their unsynced work (see 'users reset-password')")
        if args.action == "enable":
            changed = users.enable(conn, args.name, actor)
            return _said(args, {"user": args.name, "disabled": False, "changed": changed},
                         f"{args.name} is enabled; they sign in online again" if changed
                         else f"{args.name} was not disabled")
    raise AssertionError(args.action)


def _print_list(found: list[dict], line, as_json: bool, what: str) -> int:
    for item in found:
        print(json.dumps(item, ensure_ascii=False) if as_json else line(item))
    if not as_json:
        print(f"{len(found)} {what}", file=sys.stderr)
    return 0


def _said(args, as_json: dict, text: str) -> int:
    print(json.dumps(as_json) if args.json else text)
    return 0
