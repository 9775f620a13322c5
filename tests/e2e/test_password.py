"""Issue 23: an officer changes their password in Settings, on the real app and server, with
typed keys: the agency's rules refuse a weak one under its field, the server takes a good one
(and says so in its audit trail), the laptop's cache opens with it and no longer with the old
one, and with the server down a change is refused in plain words and nothing changes."""

import json

import requests

from tests.e2e.harness import PASSWORD, server_command

USER = "ofc.ramirez"
NEW = "copper lantern mesa sunrise"  # fictional, tests only
LATER = "violet harbour kettle noon"  # the change tried with the server down


def open_settings(laptop):
    laptop.key("ctrl+comma")
    return laptop.wait_widget(name="changePassword", shown=True)


def change_password(laptop, current: str, new: str) -> None:
    """Type into the Password section as a user does and press Change password (the code
    field only when the account has an authenticator; this agency's is optional)."""
    laptop.fill(current, name="currentPassword")
    laptop.fill(new, name="newPassword")
    laptop.fill(new, name="repeatPassword")
    laptop.click_widget(name="changePassword")


def refusal_under(laptop, field: str, below: str) -> str:
    """The error shown between a field and the next one: what the user reads under it."""
    def shown(s):
        top = s.one(name=field)["rect"]
        bottom = s.one(name=below)["rect"]
        return next((w["text"] for w in s.find(name="fieldError", shown=True) if w["text"]
                     and top[1] + top[3] <= w["rect"][1] < bottom[1]), None)
    return laptop.wait_for(shown, f"a message under {field}", 30)


def password_events(agency) -> list[dict]:
    """`tandem-server audit --json`: the server's record of password changes."""
    out = server_command("audit", "--json", db=agency.db)
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [e for e in events if e["action"] == "password.change" and e["actor"] == USER]


def server_login(agency, password: str) -> int:
    """A raw sign-in, as a stranger's client sends it (sync/server/api.py LoginBody)."""
    return requests.post(f"{agency.url}/v1/login", timeout=30,
                         json={"username": USER, "password": password}).status_code


def test_an_officer_changes_their_password_in_settings(world):
    agency = world.agency()
    laptop = world.laptop("officer").start()
    laptop.sign_in(USER, server=agency.url)
    laptop.wait_sync(0)
    open_settings(laptop)

    # A weak password: refused under its field, in the agency's words; nothing changed.
    change_password(laptop, PASSWORD, "Password1234")
    said = refusal_under(laptop, "newPassword", "repeatPassword")
    assert said.startswith("The new password is refused: too easy to guess"), said
    assert [e["outcome"] for e in password_events(agency)] == ["refused"]

    # A good one: accepted, the fields emptied.
    change_password(laptop, PASSWORD, NEW)
    laptop.wait_widget(name="passwordSaid", text="^Changed", timeout=30)
    snap = laptop.snapshot()
    assert all(snap.one(name=n)["length"] == 0
               for n in ("currentPassword", "newPassword", "repeatPassword"))
    assert [e["outcome"] for e in password_events(agency)] == ["refused", "success"]
    assert server_login(agency, NEW) == 200
    assert server_login(agency, PASSWORD) in (401, 403)

    # Sign out; the old password is refused on the sign-in screen, the new one opens the cache.
    laptop.key("Escape")
    laptop.sign_out()
    laptop.wait_window("sign in")
    laptop.fill(USER, name="username")
    laptop.fill(PASSWORD, name="password")
    box = laptop.wait_widget(name="acknowledge")
    if not box["checked"]:
        laptop.click(box)
    laptop.click_widget(name="signIn")
    laptop.wait_widget(name="fieldError", text="did not accept this username and password",
                       shown=True, timeout=30)
    assert laptop.snapshot().window(cls="MainWindow") is None
    laptop.sign_in(USER, NEW)
    laptop.sync_now()

    # The server down: a change is refused in plain words, what was typed stays, the server
    # and this laptop still take NEW alone.
    agency.stop()
    open_settings(laptop)
    change_password(laptop, NEW, LATER)
    said = refusal_under(laptop, "newPassword", "repeatPassword")
    assert said.startswith("The password was not changed") and "cannot reach" in said, said
    assert laptop.snapshot().one(name="newPassword")["length"] == len(LATER)
    laptop.key("ctrl+shift+l")  # the cache opens with NEW, not with LATER
    laptop.fill(LATER, name="unlockPassword")
    laptop.key("Return")
    laptop.wait_widget(name="fieldError", shown=True, text="^wrong password", timeout=30)
    laptop.fill(NEW, name="unlockPassword")
    laptop.key("Return")
    laptop.wait_widget(name="changePassword", shown=True, timeout=30)
    agency.start()
    assert server_login(agency, NEW) == 200  # first: a right one clears the failures' wait
    assert server_login(agency, LATER) in (401, 403)
    assert [e["outcome"] for e in password_events(agency)] == ["refused", "success"]
    assert not laptop.problems(), laptop.problems()
