"""The intake board spoken to as a browser would, over raw HTTP (requests): sign in with the
form, read pages, post the forms with the page's token."""

import re

import requests

COOKIE = "tandem_intake"


class Board:
    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.http = requests.Session()
        self.csrf = None

    def sign_in(self, username: str, password: str, code: str = "") -> requests.Response:
        answer = self.http.post(f"{self.url}/intake/sign-in",
                                data={"username": username, "password": password, "code": code},
                                allow_redirects=False, timeout=30)
        if answer.status_code == 303 or (answer.status_code == 200 and COOKIE in answer.cookies):
            self.page()
        return answer

    def page(self) -> str:
        answer = self.http.get(f"{self.url}/intake", allow_redirects=False, timeout=30)
        answer.raise_for_status()
        found = re.search(r'name="intake-csrf" content="([0-9a-f]+)"', answer.text)
        self.csrf = found and found[1]
        return answer.text

    def rows(self) -> requests.Response:
        return self.http.get(f"{self.url}/intake/rows", allow_redirects=False, timeout=30)

    def post(self, path: str, **fields) -> requests.Response:
        return self.http.post(f"{self.url}/intake{path}", data={"csrf": self.csrf, **fields},
                              allow_redirects=False, timeout=30)

    def stamp(self, notice_id: str, action: str) -> requests.Response:
        return self.post(f"/notices/{notice_id}/{action}")

    def enrol(self, username: str, password: str) -> requests.Response:
        return self.http.post(f"{self.url}/intake/enrol",
                              data={"username": username, "password": password},
                              allow_redirects=False, timeout=30)
