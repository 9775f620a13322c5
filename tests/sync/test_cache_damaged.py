"""A laptop whose cache is damaged beyond rebuilding (the pages that say whose it is) signs in
online and starts anew: told so, with the damaged copy kept, and its team's records back from
a real agency server with the first sync. Rebuilding in place: tests/test_cache_rebuild.py."""

from fieldapp import outreach
from sync import engine, online
from tests.conftest import PASSWORD
from tests.test_cache_rebuild import damage


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
