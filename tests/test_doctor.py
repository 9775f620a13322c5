"""`tandem doctor`, run as an IT admin would run it."""

import json
import subprocess
import sys
from pathlib import Path

from fieldapp import demo, keys
from fieldapp.session import Profile, create_cache
from tests.conftest import PASSWORD, make_session

ROOT = Path(__file__).parents[1]


def _doctor(data_dir, stdin="", *extra):
    code = ("import sys; from fieldapp import keys; keys.DEFAULT_KDF = keys.KdfParams(2**10, 8, 1);"
            "from ui.cli import main; sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, "doctor", "--data-dir", str(data_dir),
                           *extra], input=stdin, capture_output=True, text=True, cwd=ROOT)


def test_doctor_reports_caches(data_dir):
    s = make_session(data_dir)
    from fieldapp import outreach
    outreach.log_contact(s, supplies=["water"])
    s.close()
    out = _doctor(data_dir, f"ofc.ramirez:{PASSWORD}\n", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["keyring_available"] is False
    (cache,) = report["caches"]
    assert cache["encrypted"] is True and cache["key"] == "present"
    assert cache["key_location"].startswith("file ")
    assert cache["schema_current"] is True and cache["pending_ops"] == 1


def test_doctor_without_password_still_reports_encryption(data_dir):
    make_session(data_dir).close()
    out = _doctor(data_dir)
    assert out.returncode == 0
    assert "encrypted: true" in out.stdout and "locked" in out.stdout


def test_doctor_tries_no_password_of_its_own(data_dir):
    """Not even the demo's documented one: the demo user's cache stays locked until its
    password is given."""
    user, password = demo.credentials()
    create_cache(data_dir, Profile(user, "officer", ("mhst-1",), user), password).close()
    report = json.loads(_doctor(data_dir, "", "--json").stdout)
    assert [(c["user"], c["opened"]) for c in report["caches"]] == [(user, False)]
    opened = json.loads(_doctor(data_dir, f"{user}:{password}\n", "--json").stdout)
    assert opened["caches"][0]["opened"] is True


def test_doctor_fails_when_key_missing(data_dir):
    s = make_session(data_dir)
    s.close()
    keys.KeyStore(s.cache_path).delete()
    out = _doctor(data_dir)
    assert out.returncode == 1
    assert "sign in online again as ofc.ramirez" in out.stdout


def test_doctor_fails_when_cache_unreadable(data_dir):
    s = make_session(data_dir)
    s.close()
    with open(s.cache_path, "r+b") as f:  # corrupt the first page
        f.seek(0)
        f.write(b"\0" * 4096)
    out = _doctor(data_dir, f"ofc.ramirez:{PASSWORD}\n")
    assert out.returncode == 1
    assert "unreadable" in out.stdout


def test_doctor_checks_every_page_and_lists_the_damaged_copies(data_dir):
    """What an admin sees of a damaged cache before and after the rebuild."""
    from fieldapp import cache_rebuild, outreach
    from fieldapp.session import unlock
    from tests.test_cache_rebuild import damage, filler
    s = make_session(data_dir)
    outreach.log_contact(s, supplies=["water"])
    filler(s)
    s.close()
    assert json.loads(_doctor(data_dir, f"ofc.ramirez:{PASSWORD}\n", "--json").stdout)[
        "caches"][0]["pages"] == "ok"
    damage(s.cache_path, -3)
    out = _doctor(data_dir, f"ofc.ramirez:{PASSWORD}\n")
    assert out.returncode == 1 and "ofc.ramirez's cache is damaged (HMAC" in out.stdout
    checked = unlock(data_dir, "ofc.ramirez", PASSWORD)
    assert cache_rebuild.check_pages(checked)
    checked.close()
    unlock(data_dir, "ofc.ramirez", PASSWORD).close()  # the next sign-in rebuilds
    out = _doctor(data_dir, f"ofc.ramirez:{PASSWORD}\n")
    assert out.returncode == 0, out.stdout
    assert "damaged copy set aside at a rebuild" in out.stdout and "cache.damaged-" in out.stdout


def test_doctor_reports_a_cache_whose_schema_pages_are_damaged(data_dir):
    s = make_session(data_dir)
    s.close()
    from tests.test_cache_rebuild import damage
    damage(s.cache_path, 2, 3, 4)  # past page 1, where the schema is
    out = _doctor(data_dir, f"ofc.ramirez:{PASSWORD}\n")
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "ofc.ramirez's cache is damaged" in out.stdout
