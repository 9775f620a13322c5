"""Accounts over their whole life, as the agency's IT runs them: who there is, what each may
see (role and teams), disabling someone who left and enabling them again. Every action, a
listing included, is an event in the admin audit trail; a refused one changes nothing.

Disabling revokes every token of the user, so their laptops stop syncing at once; a laptop
keeps its copy and its outbox (a revoked device would wipe them). To hand that work over, an
administrator enables the account, resets its password (`passwords.reset`) and signs in on
the laptop online with the new one: the copy opens again (sync/server/device_keys.py) and the
outbox goes out; then `revoke-device` wipes it (docs/deployment.md).
"""

import json

from sqlalchemy import func, select, update

from . import accounts, audit, fleet, two_factor
from .tables import app_user, device


def listing(conn, actor: str) -> list[dict]:
    """Every account, by user name: role, teams, disabled, when the password was set, the
    second factor, devices (active of all) and the last contact of any of them."""
    devices = {row.user_id: row for row in conn.execute(
        select(device.c.user_id, func.count().label("all"),
               func.count(device.c.revoked_at).label("revoked"),
               func.max(device.c.last_seen_at).label("last_contact_at"))
        .group_by(device.c.user_id))}
    out = []
    for row in conn.execute(select(app_user).order_by(app_user.c.username)).mappings():
        counts = devices.get(row["id"])
        out.append({**_account(conn, row),
                    "devices": (counts.all - counts.revoked) if counts else 0,
                    "revoked_devices": counts.revoked if counts else 0,
                    "last_contact_at": counts.last_contact_at if counts else None})
    audit.record(conn, "users.listed", actor=actor, detail={"users": len(out)})
    return out


def show(conn, username: str, actor: str) -> dict:
    """One account with each of its devices (fleet.listing's view of them)."""
    row = _user(conn, username)
    out = {**_account(conn, row), "devices": fleet.listing(conn, username=username)}
    audit.record(conn, "user.shown", actor=actor, target=f"user:{username}")
    return out


def set_role(conn, username: str, role: str, actor: str) -> None:
    row = _user(conn, username)
    accounts.change_scope(conn, username, role, json.loads(row["teams"]), actor)


def set_teams(conn, username: str, teams: list[str], actor: str) -> None:
    row = _user(conn, username)
    if len(set(teams)) != len(teams):
        raise accounts.AccountError(f"a team is named twice in {', '.join(teams)}")
    accounts.change_scope(conn, username, row["role"], teams, actor)


def disable(conn, username: str, actor: str) -> int | None:
    """Disable the account and revoke every token of it; returns how many, or None when it
    was already disabled."""
    row = _user(conn, username)
    if row["disabled"]:
        audit.record(conn, "user.disabled", actor=actor, target=f"user:{username}",
                     detail={"already": True})
        return None
    conn.execute(update(app_user).where(app_user.c.id == row["id"]).values(disabled=True))
    revoked = accounts.revoke_user_tokens(conn, row["id"])
    audit.record(conn, "user.disabled", actor=actor, target=f"user:{username}",
                 detail={"revoked_tokens": revoked})
    return revoked


def enable(conn, username: str, actor: str) -> bool:
    """Enable the account; False when it was not disabled. Its laptops sign in online again
    (its tokens stay revoked)."""
    row = _user(conn, username)
    if row["disabled"]:
        conn.execute(update(app_user).where(app_user.c.id == row["id"]).values(disabled=False))
    audit.record(conn, "user.enabled", actor=actor, target=f"user:{username}",
                 detail={} if row["disabled"] else {"already": True})
    return bool(row["disabled"])


def _user(conn, username: str):
    row = accounts.find_user(conn, username)
    if row is None:
        raise accounts.AccountError(f"no user {username!r}; 'tandem-server users list' shows "
                                    "who there is")
    return row


def _account(conn, row) -> dict:
    factor = two_factor.factor(conn, row["id"])
    return {"username": row["username"], "display_name": row["display_name"],
            "role": row["role"], "teams": json.loads(row["teams"]),
            "disabled": bool(row["disabled"]), "created_at": row["created_at"],
            "password_changed_at": row["password_changed_at"] or row["created_at"],
            "second_factor": ("set up" if factor and factor["confirmed_at"] else
                              "enrolment started" if factor else "none"),
            "unit": row["unit"], "vehicle": row["vehicle"]}


def line(user: dict) -> str:
    """One account as a line of text, for `tandem-server users list`."""
    return "  ".join([
        user["username"], repr(user["display_name"]), user["role"], ",".join(user["teams"]),
        "DISABLED" if user["disabled"] else "active",
        f"password set {user['password_changed_at']}", f"second factor {user['second_factor']}",
        f"{user['devices']} device(s)" + (f" (+{user['revoked_devices']} revoked)"
                                          if user["revoked_devices"] else ""),
        f"last contact {user['last_contact_at'] or 'never'}"])
