"""A damaged cache and a real agency server: rebuilt offline, the laptop still syncs (its
sign-in to the server is carried over) and gets its team's records back; damaged beyond
rebuilding (the pages that say whose it is), an online sign-in starts anew and says so.
What a rebuild keeps, page by page: tests/test_cache_rebuild.py."""

from fieldapp import outreach
from sync import engine, online
from tests.conftest import PASSWORD
from tests.test_cache_rebuild import damage, filler, signed_in_after_the_check


def test_a_cache_rebuilt_offline_still_syncs_and_gets_its_records_back(agency, laptop):
    officer = laptop("ofc.ramirez")
    outreach.log_contact(officer, supplies=["water"], place="Under the 4th Ave bridge")
    engine.run_sync(officer)
    outreach.log_contact(officer, supplies=["socks"], place="Santa Rita Park")  # not yet sent
    filler(officer)
    data_dir, path = officer.data_dir, officer.cache_path
    officer.close()
    damage(path, -3)

    again = signed_in_after_the_check(data_dir)  # offline, as after a night in the car
    try:
        assert "1 change(s) not yet sent" in again.damage_notice
        done = engine.run_sync(again)  # no new sign-in: the refresh token was carried over
        assert done["pushed"] == 1 and done["check"] == "ok", done
        places = sorted(r[0] for r in again.db.execute("SELECT place FROM outreach_contact"))
        assert places == ["Santa Rita Park", "Under the 4th Ave bridge"]
    finally:
        again.close()


def test_a_cache_damaged_beyond_rebuilding_starts_anew_at_an_online_sign_in(agency, laptop):
    officer = laptop("ofc.ramirez")
    outreach.log_contact(officer, supplies=["water"], place="Under the 4th Ave bridge")
    assert engine.run_sync(officer)["pushed"] == 1
    data_dir, path = officer.data_dir, officer.cache_path
    officer.close()
    damage(path, 1)

    again = online.login(data_dir, agency.url, "ofc.ramirez", PASSWORD)
    try:
        assert again.damage_notice.startswith("This laptop's copy of your records was damaged "
                                              "beyond rebuilding, so signing in online started "
                                              "a new one")
        aside = list(path.parent.glob("cache.damaged-*.db"))
        assert len(aside) == 1 and aside[0].name in again.damage_notice
        engine.run_sync(again)
        places = [r[0] for r in again.db.execute("SELECT place FROM outreach_contact")]
        assert places == ["Under the 4th Ave bridge"]
    finally:
        again.close()
