"""`tandem doctor`: what an agency's IT admin needs to know about this laptop's caches.

For each cache: is the file encrypted, where its wrapped key lives, and, when the cache can be
opened (a user whose password arrives on stdin), whether every page's seal holds, its schema
version and pending outbox ops; and the damaged copies a rebuild set aside.
No password is ever guessed, not even the demo's documented one: a tool an admin runs on a
real laptop must not try passwords on the crew's caches. Exits non-zero when a cache is unreadable or its key is missing, saying
what to do.
"""

import json
import sys
from pathlib import Path

from . import __version__, keys, paths, schema
from .errors import CacheDamaged, CacheUnreadable, KeyMissing, WrongPassword
from .store import is_encrypted, open_cache, page_damage


def check(data_dir: Path, passwords: dict[str, str]) -> dict:
    """The report as a dict. `passwords` maps usernames to passwords to open their caches."""
    report = {
        "version": __version__,
        "data_dir": str(data_dir),
        "keyring_backend": keys.keyring_backend_name(),
        "keyring_available": keys.keyring_available(),
        "caches": [],
        "problems": [],
    }
    for path in paths.cache_paths(data_dir):
        username = path.parent.name
        store = keys.KeyStore(path)
        entry = {"user": username, "path": str(path), "encrypted": is_encrypted(path),
                 "key_location": store.location}
        report["caches"].append(entry)
        if not entry["encrypted"]:
            report["problems"].append(
                f"{path} is NOT encrypted: move it aside and sign in again to rebuild it")
        try:
            wrapped = store.load()
        except KeyMissing:
            entry["key"] = "missing"
            report["problems"].append(
                f"no key for {username}'s cache: sign in online again as {username} "
                "(unsynced changes in this cache cannot be recovered without its key)")
            continue
        entry["key"] = "present"
        password = passwords.get(username)
        if password is None:
            entry["opened"] = False
            continue
        try:
            db = open_cache(path, keys.unwrap(wrapped, password), migrate=False)
        except WrongPassword:
            entry["opened"] = False
            report["problems"].append(f"the password given for {username} does not open the key")
            continue
        except (CacheUnreadable, CacheDamaged) as e:
            entry["opened"] = False
            report["problems"].append(
                f"{username}'s cache is unreadable ({e}); restore it from backup or sign in again")
            continue
        try:
            entry["opened"] = True
            entry["pages"] = page_damage(db.conn) or "ok"
            if entry["pages"] != "ok":  # what else it would read may be what is damaged
                report["problems"].append(
                    f"{username}'s cache is damaged ({entry['pages']}): {username}'s next "
                    "sign-in after the app's own check sets it aside and rebuilds it")
                continue
            entry["schema_version"] = schema.schema_version(db)
            entry["schema_current"] = entry["schema_version"] == schema.latest_version()
            entry["pending_ops"] = db.execute(
                "SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
        finally:
            db.close()
    report["damaged_copies"] = [str(p) for p in sorted(
        (Path(data_dir) / "users").glob("*/cache.damaged-*.db"))]
    return report


def main(data_dir: Path, as_json: bool = False, stdin=None) -> int:
    stdin = stdin or sys.stdin
    passwords = {}
    if not stdin.isatty():
        for line in stdin.read().splitlines():
            if ":" in line:
                user, password = line.split(":", 1)
                passwords[user.strip()] = password
    report = check(Path(data_dir), passwords)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(f"Tandem {report['version']}")
        print(f"data directory: {report['data_dir']}")
        where = "OS keyring" if report["keyring_available"] else "key files beside each cache"
        print(f"keyring backend: {report['keyring_backend']} (wrapped keys kept in: {where})")
        if not report["caches"]:
            print("no caches yet: sign in to create one")
        for c in report["caches"]:
            line = f"- {c['user']}: {c['path']} encrypted: {str(c['encrypted']).lower()}, key {c['key']}"
            if c.get("pages", "ok") != "ok":
                line += ", damaged (see below)"
            elif c.get("opened"):
                line += f", schema {c['schema_version']}, pending ops {c['pending_ops']}"
            elif c.get("key") == "present":
                line += " (locked: give USER:PASSWORD on stdin to see schema and outbox)"
            print(line)
        for p in report["damaged_copies"]:
            print(f"damaged copy set aside at a rebuild (with its key beside it; delete it once "
                  f"no longer needed, it is CJI): {p}")
        for p in report["problems"]:
            print(f"PROBLEM: {p}")
    return 1 if report["problems"] else 0
