"""Small builders and fault injectors shared by the sync tests."""

import requests
from requests.adapters import HTTPAdapter

from fieldapp import changes, followups, persons


def outreach(session, n, note="x"):
    return [changes.create(session, "outreach_contact", {
        "team": session.profile.team, "contacted_at": "2026-05-01T10:00:00.000Z",
        "note": f"{note} {i}"}) for i in range(n)]


def follow_up(session):
    person = persons.add_person(session, {"kind": "alias", "alias": "Blue Jacket"})
    return followups.create_follow_up(session, {
        "person_id": person, "reason": "post_crisis_check", "due_on": "2026-06-01"})


class LoseResponses(HTTPAdapter):
    """Sends the request for real, then throws the response away: the server committed, the
    laptop never hears about it."""

    def __init__(self, path: str, times: int = 1):
        super().__init__()
        self.path, self.remaining, self.lost = path, times, 0

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        if self.path in request.url and self.remaining > 0:
            self.remaining -= 1
            self.lost += 1
            _ = response.content
            raise requests.ConnectionError("response lost after the server committed")
        return response


def http_with(adapter) -> requests.Session:
    http = requests.Session()
    http.mount("http://", adapter)
    return http


class CutResponses(HTTPAdapter):
    """Cuts the body of matching answers at a random byte, as a dropped connection would."""

    def __init__(self, path: str, times: int, rng):
        super().__init__()
        self.path, self.remaining, self.rng, self.cut = path, times, rng, 0

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        if self.path in request.url and self.remaining > 0 and len(response.content) > 2:
            self.remaining -= 1
            self.cut += 1
            response._content = response.content[:self.rng.randrange(1, len(response.content) - 1)]
        return response
