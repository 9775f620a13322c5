"""A laptop process for the kill test: edits and syncs in a loop until it is SIGKILLed."""

import random
import sys
from pathlib import Path

from fieldapp import changes
from fieldapp.session import unlock
from sync import engine

data_dir, username, password, follow_up_id = sys.argv[1:5]
session = unlock(Path(data_dir), username, password)
print("ready", flush=True)
while True:
    for i in range(random.randint(1, 40)):
        changes.create(session, "outreach_contact", {
            "team": session.profile.team, "contacted_at": "2026-05-01T10:00:00.000Z",
            "note": f"contact {random.random()}"})
    note = changes.get(session, "follow_up", follow_up_id)["note"]
    changes.patch(session, "follow_up", follow_up_id, {"note": str(int(note or 0) + 1)})
    engine.run_sync(session, batch_size=random.choice([5, 60, 500]), backoff_s=0.05)
