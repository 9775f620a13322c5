"""A cache damaged on the laptop's disk, on the real app: the page check after sign-in says so
and what to do; signing in again rebuilds it, the window says what was kept, the draft typed
before is there, no bug report shows, and the team's records come back with the sync. (Before,
the app worked on the damaged file and stacked "did not expect" dialogs.)"""

from fieldapp.session import unlock
from tests.e2e.harness import PASSWORD, SMALL
from tests.test_cache_rebuild import damage, filler

PLACE = "Behind the Ronstadt transit center"


def directory_filler(data_dir, username: str) -> None:
    """Rows the server also has, written last so the last pages of the file are theirs: the
    damage then falls where a rebuild loses nothing typed (tests/test_cache_rebuild.py damages
    the rest)."""
    session = unlock(data_dir, username, PASSWORD)
    try:
        filler(session)
    finally:
        session.close()


def test_a_damaged_cache_is_rebuilt_at_sign_in_with_the_draft_typed_before(world):
    agency = world.agency()
    laptop = world.laptop("officer", SMALL).start()
    laptop.sign_in("ofc.ramirez", server=agency.url)
    laptop.wait_sync(0)
    laptop.go("encounter")
    laptop.click_widget(name="situation_welfare_check")
    laptop.click_widget(placeholder="address or landmark")
    laptop.type(PLACE)
    laptop.wait_widget(name="draftState", text="^Draft saved$")
    laptop.key("alt+F4")
    assert laptop.wait_exit() == 0

    directory_filler(laptop.data_dir, "ofc.ramirez")
    damage(laptop.data_dir / "users" / "ofc.ramirez" / "cache.db", -3, -30)

    laptop.start()
    mark = laptop.mark()
    laptop.sign_in("ofc.ramirez")  # offline sign-in, as after a night in the car
    said = laptop.wait_event("dialog", where=lambda e: e["name"] == "cacheDamaged", after=mark,
                             timeout=40)  # the page check, once the crew is at work
    assert "Sign out and sign in again" in said["text"]
    laptop.key("Return")
    laptop.sign_out()
    mark = laptop.mark()
    laptop.sign_in("ofc.ramirez")
    said = laptop.wait_event("dialog", where=lambda e: e["name"] == "cacheRebuilt", after=mark)
    # (signing out sent the changes waiting, the sign-in's audit among them)
    assert "has been rebuilt: 0 change(s) not yet sent and 1 draft(s) were kept" in said["text"]
    laptop.screenshot(laptop.dir / "rebuilt.png")
    laptop.key("Return")

    laptop.go("encounter")
    laptop.wait_widget(name="draftState", text="^Draft restored$")
    assert laptop.snapshot().one(placeholder="address or landmark")["length"] == len(PLACE)
    laptop.sync_now()
    laptop.go("followups")
    laptop.row("Ortiz", cls="QTableView", screen="followups")  # the team's records, back
    assert laptop.problems() == []
    aside = list((laptop.data_dir / "users" / "ofc.ramirez").glob("cache.damaged-*.db"))
    assert len(aside) == 1 and aside[0].name in said["text"]
