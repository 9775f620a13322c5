"""A laptop process for the kill test: edits and syncs in a loop until it is SIGKILLed.

It says on stdout when a sync starts ("sync"), before each HTTP request it makes ("request")
and when a sync has ended ("synced"), so the test kills it inside a sync and can tell that it
did."""

import random
import sys
from pathlib import Path

import requests

from fieldapp import changes
from fieldapp.session import unlock
from sync import engine

data_dir, username, password, follow_up_id = sys.argv[1:5]
session = unlock(Path(data_dir), username, password)
send = requests.Session.request


def announced(self, *args, **kwargs):
    sys.stdout.write("request\n")  # one write: two threads' requests never share a line
    sys.stdout.flush()
    return send(self, *args, **kwargs)


requests.Session.request = announced
print("ready", flush=True)
while True:
    for i in range(random.randint(1, 40)):
        changes.create(session, "outreach_contact", {
            "team": session.profile.team, "contacted_at": "2026-05-01T10:00:00.000Z",
            "note": f"contact {random.random()}"})
    note = changes.get(session, "follow_up", follow_up_id)["note"]
    changes.patch(session, "follow_up", follow_up_id, {"note": str(int(note or 0) + 1)})
    print("sync", flush=True)
    engine.run_sync(session, batch_size=random.choice([5, 60, 500]), backoff_s=0.05)
    print("synced", flush=True)
