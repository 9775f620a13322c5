"""The agency server fuzzed from its own OpenAPI description (schemathesis) through a real
embedded uvicorn, on SQLite and PostgreSQL, authenticated as a real user: every schemathesis
check (no 5xx, every status, header, content type and body as the description says, schema-
invalid requests refused, valid ones accepted), and no answer carries another team's records
or a clinical note its reader has no release for. A bounded number of examples per endpoint.

The schema is the app's own document, read once at import (schemathesis' lazy fixture
loader does not run on pytest 9); each endpoint's test gets a fresh seeded server."""

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from fieldapp import encounters
from sync import credentials, engine
from sync.server.api import create_app

from sync_helpers import outreach

OTHER_TEAM = "OTHER-TEAM-SECRET-7f3a"
CLINICAL = "CLINICAL-SECRET-91bc"


@pytest.fixture
def fuzz(agency, laptop):
    """Records of team mhst-1 (one a clinical note) and a signed-in officer of mhst-2."""
    clinician = laptop("clin.okafor", "clinician", teams=("mhst-1",))
    outreach(clinician, 2, note=OTHER_TEAM)
    encounter = encounters.save_encounter(clinician, {"presenting_situation": "welfare_check",
                                                      "police_note": OTHER_TEAM})
    encounters.add_clinical_note(clinician, encounter, CLINICAL)
    engine.run_sync(clinician)
    neighbour = laptop("ofc.diaz", "officer", teams=("mhst-2",))
    outreach(neighbour, 1, note="mhst-2 contact")
    engine.run_sync(neighbour)
    link = credentials.transport_for(neighbour)
    link._refresh()
    return {"token": link.access_token, "url": agency.url}


def _openapi() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(f"sqlite:///{folder}/unused.db")
        document = app.openapi()
        app.state.engine.dispose()
    return document


schema = schemathesis.openapi.from_dict(_openapi())


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzzed_requests_meet_every_check_and_see_no_other_teams_data(case, fuzz):
    if case.headers is not None and "authorization" in {k.lower() for k in case.headers}:
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
    response = case.call_and_validate(base_url=fuzz["url"],
                                      headers={"Authorization": f"Bearer {fuzz['token']}"})
    assert response.status_code < 500, response.text[:500]
    assert OTHER_TEAM not in response.text and CLINICAL not in response.text
