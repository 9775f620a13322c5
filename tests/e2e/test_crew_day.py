"""A crew's day, out of process: the real agency server and two real laptops (the officer's at
1024×768, the clinician's at 1366×768) on X servers, driven with the mouse and keyboard.

A CAD call posted to the server over HTTP reaches the car; the officer takes it, the clinician
writes the encounter (its disposition clears the call), the server is killed mid-shift and
comes back, the unit does a CRC drop-off offline and ends the shift; on the officer's laptop
the officer signs out and the sergeant signs in, returns the shift; the officer signs back in and amends the
encounter; the sergeant approves. At the end the server holds every change exactly once, no
laptop has anything left to send, no error dialog was shown, and no process printed a
traceback.
"""

import json

from tests.e2e.harness import PASSWORD, SMALL, WIDE

INCIDENT = "CAD-2026-114233"
UNIT = "MHST-11"


def tap_status(laptop, status: str, words: str) -> None:
    """Tap a status button on the shift screen; the current status then reads `words`."""
    laptop.click_widget(name=f"status_{status}")
    laptop.wait_widget(name="currentStatus", text=f"^{words} since")


def test_a_crew_day(world):
    agency = world.agency()
    cad_key = agency.add_integration("pima-cad", "mhst-1")
    officer_laptop = world.laptop("officer-laptop", SMALL).start()
    clinician_laptop = world.laptop("clinician-laptop", WIDE).start()
    officer_laptop.sign_in("ofc.ramirez", server=agency.url)
    clinician_laptop.sign_in("clin.okafor", server=agency.url)

    # The officer starts the shift with the clinician as partner, picked from the team roster
    # the first sync brings to the open shift screen.
    officer = officer_laptop
    officer.choose_partner("clin.okafor")
    officer.fill(UNIT, placeholder="e.g. 2M14")
    officer.fill("4471", placeholder="e.g. 4471")
    officer.key("ctrl+Return")
    officer.wait_widget(name="status_en_route", shown=True)
    officer.sync_now()

    # Dispatch posts a call for the unit; it reaches both laptops by sync.
    agency.post_cad(cad_key, incident=INCIDENT, priority=1, unit=UNIT,
                    summary="Man on the bridge rail, talking about jumping",
                    place="Broadway Blvd bridge over the Tucson Wash")
    officer.sync_now()
    officer.go("assignments")
    officer.click_row(INCIDENT, cls="QTableView")
    officer.key("ctrl+k")
    officer.row(rf"{INCIDENT}.*Acknowledged", cls="QTableView")
    officer.key("ctrl+t")
    officer.row(rf"{INCIDENT}.*Taken", cls="QTableView")
    officer.go("shift")
    officer.wait_widget(name="currentStatus", text="^En route since")  # taking it did that
    tap_status(officer, "on_scene", "On scene")
    officer.sync_now()

    # The clinician writes the encounter from the call, with her clinical note.
    clinician = clinician_laptop
    clinician.sync_now()
    clinician.go("assignments")
    clinician.click_row(INCIDENT, cls="QTableView")
    mark = clinician.mark()
    clinician.key("ctrl+e")
    clinician.wait_event("screen", lambda e: e["key"] == "encounter", after=mark)
    clinician.click_widget(name="situation_suicidal_ideation")
    clinician.click_widget(placeholder="address or landmark")
    clinician.type("Broadway Blvd bridge, east rail")
    clinician.choose(clinician.snapshot().combo("Transported CRC voluntary"),
                     "Transported CRC voluntary")
    clinician.click_widget(name="policeNote")
    clinician.type("Talked him off the rail with the clinician; agreed to go to the CRC.")
    clinician.click_widget(name="clinicalNote")
    clinician.type("Passive ideation, no plan today; agrees to voluntary evaluation.")
    clinician.key("ctrl+s")
    clinician.wait_widget(cls="QLabel", text="^Encounter saved at")

    # The agency server dies mid-shift; the car carries on offline.
    agency.kill()
    tap_status(officer, "transporting", "Transporting")
    officer.go("crc")
    officer.key("ctrl+Return")
    officer.wait_widget(name="handOff", shown=True)
    officer.key("ctrl+Return")
    officer.wait_widget(name="clearDropoff", shown=True)
    officer.key("ctrl+Return")
    officer.wait_widget(name="arrive", shown=True)
    mark = officer.mark()
    officer.key("F5")
    assert not officer.wait_sync(mark, ok=None)["ok"], "a sync succeeded with the server down"
    mark = clinician.mark()
    clinician.key("F5")
    assert not clinician.wait_sync(mark, ok=None)["ok"]

    # The server is back, on the same address; both laptops catch up.
    agency.start()
    clinician.sync_now()
    officer.sync_now()

    # The encounter's disposition cleared the call (entered once, for one call one record):
    # it is off the officer's open list. The officer ends the shift.
    officer.go("assignments")
    officer.wait_for(lambda s: s.find(cls="QTableView", screen="assignments") and not any(
        r["match"] for v in s.find(cls="QTableView") for r in v["rows"]),
        "the call to leave the open list", find=[INCIDENT])
    officer.go("shift")
    officer.key("ctrl+shift+e")
    officer.click_widget(cls="QPushButton", text="Yes")
    officer.wait_window("Shift summary")
    officer.click_widget(cls="QPushButton", text="Close")
    officer.sync_now()

    # Switch user on the officer's laptop: the sergeant reviews and returns the shift.
    officer.sign_out()
    sergeant = officer_laptop
    sergeant.sign_in("sgt.morales", server=agency.url)
    sergeant.sync_now()
    sergeant.row(UNIT, name="", cls="QTableView")
    sergeant.click_row(UNIT, cls="QTableView")
    sergeant.click_widget(name="reviewComment")
    sergeant.type("Add what he said about the bridge to the police note.")
    sergeant.key("alt+r")
    sergeant.row(rf"{UNIT}.*Returned", cls="QTableView")
    sergeant.sync_now()
    sergeant.sign_out()

    # The officer signs back in (offline sign-in on this laptop) and amends the encounter.
    officer.sign_in("ofc.ramirez")
    officer.sync_now()
    officer.wait_widget(name="returnedComment", shown=True)
    officer.click_widget(name="amendRecord")
    officer.wait_window("Amend a record")
    officer.click_row("Encounter", name="amendRecords")
    officer.click_widget(name="amend_police_note")
    officer.key("ctrl+End")
    officer.type(" He said he had been on the rail for an hour.")
    officer.click_widget(name="amendReason")
    officer.type("Sergeant asked what he said about the bridge.")
    officer.key("ctrl+s")
    officer.wait_widget(name="amendSaved", text="^Amended")
    officer.click_widget(name="closeAmend")
    officer.sync_now()
    officer.sign_out()

    # The sergeant approves the amended shift.
    sergeant.sign_in("sgt.morales")
    sergeant.sync_now()
    sergeant.row(rf"{UNIT}.*Amended", cls="QTableView")
    sergeant.click_row(UNIT, cls="QTableView")
    sergeant.click_widget(name="approveShift")
    sergeant.wait_for(lambda s: not any(r["match"] for v in s.find(cls="QTableView")
                                        for r in v["rows"]),
                      "the approved shift to leave the review queue", find=[UNIT])
    sergeant.sync_now()
    clinician.sync_now()

    # The server holds every change exactly once.
    def records(table):
        return [{**json.loads(r["data"]), "id": r["id"]} for r in agency.rows(
            "SELECT id, data FROM record WHERE table_name = ? AND deleted = 0", table)]

    shifts = records("shift")
    assert len(shifts) == 1 and shifts[0]["unit"] == UNIT and shifts[0]["ended_at"]
    statuses = sorted(e["status"] for e in records("shift_event"))
    assert statuses == sorted(["in_service", "en_route", "on_scene", "transporting", "at_crc",
                               "available", "out_of_service"]), statuses
    calls = records("assignment")
    assert [(c["cad_incident"], c["status"], c["disposition"]) for c in calls] == [
        (INCIDENT, "cleared", "transported_crc_voluntary")]
    encounters = records("encounter")
    assert len(encounters) == 1
    assert encounters[0]["police_note"].endswith("on the rail for an hour.")
    assert encounters[0]["assignment_id"] == calls[0]["id"]
    assert len(records("clinical_note")) == 1
    dropoffs = records("crc_dropoff")
    assert len(dropoffs) == 1 and dropoffs[0]["handed_off_at"] and dropoffs[0]["cleared_at"]
    assert sorted(r["decision"] for r in records("shift_review")) == ["approved", "returned"]
    assert len(records("amendment")) == 1

    # Nothing is left on either laptop, and nobody saw an error.
    for laptop, users in ((officer_laptop, ("ofc.ramirez", "sgt.morales")),
                          (clinician_laptop, ("clin.okafor",))):
        laptop.stop()
        doctor = laptop.command("doctor", "--json",
                                stdin="".join(f"{u}:{PASSWORD}\n" for u in users))
        report = json.loads(doctor.stdout)
        pending = {c["user"]: c.get("pending_ops") for c in report["caches"]}
        assert pending == dict.fromkeys(users, 0), f"changes left on a laptop: {pending}"
        assert not laptop.problems(), laptop.problems()
    assert "Traceback" not in agency.log.read_text()
