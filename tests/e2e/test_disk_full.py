"""A full disk in the car, on the real app: the encounter's draft, saved after every pause in
typing, could not be written, and each try opened a dialog that took the keys being typed (the
place typed after it was lost). Now the form says so beside its heading, keeps what is typed,
and saves the draft by itself once there is room. Closing or signing out while the draft is
unsaved is refused, with why. A sync that cannot write says the disk is full, not that the
laptop is offline."""

import subprocess
import uuid
from pathlib import Path

import pytest


@pytest.fixture
def small_disk(tmp_path):
    """A real 64 MiB file system (tmpfs) for the laptop's data folder; mounting needs root."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def fill_up(disk: Path) -> Path:
    """Write until the file system refuses (ENOSPC); returns the filler file's path."""
    filler = disk / f"filler-{uuid.uuid4().hex}"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_keeps_what_is_typed_and_saves_the_draft_once_there_is_room(
        world, small_disk):
    agency = world.agency()
    laptop = world.laptop("officer")
    laptop.data_dir = small_disk / "data"  # the cache on the small disk; the probe's files not
    try:
        laptop.start()
        laptop.sign_in("ofc.ramirez", server=agency.url)
        laptop.wait_sync(0)
        laptop.go("encounter")
        mark = laptop.mark()
        filler = fill_up(small_disk)

        laptop.click_widget(name="situation_welfare_check")
        laptop.click_widget(placeholder="address or landmark")
        laptop.type("Under the 4th Ave bridge")
        laptop.wait_widget(name="draftState", text="^Draft not saved · The disk is full")
        laptop.type(", north side")  # typing on while the draft keeps failing
        typed = len("Under the 4th Ave bridge, north side")  # the probe gives lengths, not text
        laptop.wait_for(lambda s: s.one(placeholder="address or landmark")["length"] == typed,
                        f"the place field to hold all {typed} characters typed")
        assert laptop.error_dialogs(mark) == []  # no dialog took the keys
        laptop.x.screenshot(laptop.dir / "disk-full.png")

        mark = laptop.mark()  # closing would drop the place typed: refused, and why
        laptop.key("alt+F4")
        said = laptop.expected_dialog("environmentError", after=mark)
        assert said["text"].startswith("Not closed: the encounter being typed is not saved.")
        laptop.key("Return")
        laptop.wait_for(lambda s: not s.find(name="environmentError") and s.one(
            placeholder="address or landmark")["length"] == typed, "the form, still filled in")
        assert laptop.running

        mark = laptop.mark()
        laptop.key("F5")  # a sync asked for: it cannot write either, and says so, not "Offline"
        said = laptop.expected_dialog("environmentError", after=mark)
        assert said["text"].startswith("The disk is full.")
        laptop.key("Return")
        laptop.wait_widget(text="^● Sync failed · The disk is full")
        mark = laptop.mark()

        filler.unlink()  # room again: the draft is saved without a key pressed
        laptop.wait_widget(name="draftState", text="^Draft saved$", timeout=30)
        laptop.key("ctrl+s")
        laptop.wait_widget(name="draftState", text="^Encounter saved at")
        laptop.sync_now()
        places = [r["data"] for r in agency.rows(
            "SELECT data FROM record WHERE table_name = 'encounter'")]
        assert sum("Under the 4th Ave bridge, north side" in p for p in places) == 1
        assert laptop.error_dialogs(mark) == [] and not laptop.events("traceback")
    finally:
        laptop.stop()
