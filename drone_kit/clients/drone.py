"""Drone's HTTP API, as the shim uses it: hooks handed on to `/hook`, repository sync and
activation, the builds of a repository, and the health check. Answers come back as data; what
they mean is decided by the caller."""

from __future__ import annotations

import logging

import requests

log = logging.getLogger(__name__)

# The headers Drone's hook parser reads (go-scm: Gitea, Gogs and GitHub drivers) and its token.
FORWARDED_HEADERS = (
    "content-type", "x-gitea-delivery", "x-gitea-event", "x-gitea-event-type", "x-gitea-signature",
    "x-gogs-delivery", "x-gogs-event", "x-gogs-signature", "x-github-delivery", "x-github-event",
    "x-hub-signature", "x-hub-signature-256", "authorization",
)


class DroneUnavailable(Exception):
    """Drone could not be asked (no answer, or an answer that is not what its API sends)."""


class DroneClient:
    def __init__(self, url: str, token: str = "", timeout: float = 30.0) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout
        self.session = requests.Session()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def deliver_hook(self, query: str, headers: dict[str, str], body: bytes) -> tuple[int | None, str]:
        """POST the hook as Gitea sent it; (Drone's status, the start of its answer), or
        (None, why there was no answer)."""
        forwarded = {k: v for k, v in headers.items() if k.lower() in FORWARDED_HEADERS}
        url = f"{self.url}/hook" + (f"?{query}" if query else "")
        try:
            response = self.session.post(url, data=body, headers=forwarded, timeout=self.timeout)
        except requests.RequestException as e:
            return None, f"Drone unreachable: {type(e).__name__}"
        return response.status_code, response.text[:500]

    def _call(self, method: str, path: str) -> None:
        """One admin call whose answer is only logged when it is a refusal (best effort)."""
        try:
            answer = self.session.request(method, f"{self.url}{path}", headers=self._auth(), timeout=self.timeout)
        except requests.RequestException as e:
            log.warning("%s %s to Drone failed: %s", method, path, type(e).__name__)
            return
        if answer.status_code >= 400:
            log.warning("Drone answered %s to %s %s: %s", answer.status_code, method, path, answer.text[:200].strip())

    def sync_repositories(self) -> None:
        """Ask Drone to read the user's repositories from Gitea again."""
        self._call("POST", "/api/user/repos")

    def activate(self, repo: str) -> None:
        self._call("POST", f"/api/repos/{repo}")

    def repository(self, repo: str) -> dict | None:
        """The repository as Drone has it (`active` says whether it builds), None when Drone does not
        know it; DroneUnavailable when Drone cannot say."""
        try:
            response = self.session.get(f"{self.url}/api/repos/{repo}", headers=self._auth(), timeout=self.timeout)
            found = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError) as e:
            raise DroneUnavailable(type(e).__name__) from e
        if response.status_code == 404:
            return None
        if not isinstance(found, dict):
            raise DroneUnavailable(f"HTTP {response.status_code}")
        return found

    def builds(self, repo: str, page: int = 1, per_page: int = 100) -> list[dict]:
        """One page of a repository's builds, newest first (Drone caps `per_page` at 100);
        DroneUnavailable when Drone cannot say."""
        try:
            response = self.session.get(f"{self.url}/api/repos/{repo}/builds",
                                        params={"page": page, "per_page": per_page},
                                        headers=self._auth(), timeout=self.timeout)
            builds = response.json()
        except (requests.RequestException, ValueError) as e:
            raise DroneUnavailable(type(e).__name__) from e
        if not isinstance(builds, list):
            raise DroneUnavailable(f"HTTP {response.status_code}")
        return [build for build in builds if isinstance(build, dict)]

    def reachable(self) -> bool:
        try:
            self.session.get(f"{self.url}/healthz", timeout=3)
        except requests.RequestException:
            return False
        return True
