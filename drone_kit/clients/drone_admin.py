"""Drone's REST API as an admin uses it to wire repositories (harness/drone handler/api/api.go):
sync the user's repositories from Gitea, activate one, change its settings, follow its builds.
Unlike the shim's DroneClient, every refusal is an error saying what Drone answered; the token
never appears in one."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from drone_kit.clients.gitea_api import scrubbed
from drone_kit.clients.retry import send_with_retries
from drone_kit.clients.slugs import api_path
from drone_kit.errors import DroneKitError


class DroneError(DroneKitError):
    """Drone could not be asked, or refused; `status` is its HTTP status when it answered."""

    def __init__(self, message: str, hint: str = "", status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


def repo_path(slug: str) -> str:
    path = api_path(slug)
    if path is None:
        raise DroneError(f"{slug!r} is not a repository name", hint="name it OWNER/NAME")
    return f"/api/repos/{path}"


class DroneAdmin:
    def __init__(self, url: str, token: str, timeout: float = 30.0, attempts: int = 3,
                 sleep: Callable[[float], None] = time.sleep, session: requests.Session | None = None) -> None:
        self.url, self.token, self.timeout, self.attempts, self.sleep = url.rstrip("/"), token, timeout, attempts, sleep
        self.session = session or requests.Session()

    def call(self, method: str, path: str, what: str, expect: tuple[int, ...] = (200,), missing_ok: bool = False,
             **kwargs: Any) -> Any:
        """The JSON of an answer whose status is in `expect` (None for an empty one, and for 404
        when `missing_ok`); DroneError for any other."""
        try:
            response = send_with_retries(self.session, method, f"{self.url}{path}", f"Drone {method} {path}",
                                         self.attempts, self.sleep, timeout=self.timeout,
                                         headers={"Authorization": f"Bearer {self.token}"}, **kwargs)
        except requests.RequestException as e:
            raise DroneError(f"Drone at {self.url} is unreachable ({type(e).__name__}) while trying to {what}",
                             hint=f"check that Drone is running and answers at {self.url}") from None
        if response.status_code == 401:
            raise DroneError(f"Drone refused the admin's token while trying to {what}", status=401,
                             hint="run `drone_kit wire`: it gives Drone the admin's token (DRONE_USER_CREATE)")
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code not in expect:
            raise DroneError(f"Drone answered {response.status_code} while trying to {what}: {self._said(response)}",
                             status=response.status_code)
        try:
            return response.json() if response.content else None
        except ValueError:
            raise DroneError(f"Drone's answer to {method} {path} is not JSON",
                             hint=f"check that {self.url} is Drone") from None

    def _said(self, response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            body = None
        text = body.get("message") if isinstance(body, dict) else response.text
        return scrubbed(" ".join(str(text or "").split())[:200], (self.token,))

    def user(self) -> dict:
        return self.call("GET", "/api/user", "read the admin's account")

    def sync(self) -> list[dict]:
        """Drone reads the admin's repositories from Gitea again (with the admin's Gitea token)."""
        return self.call("POST", "/api/user/repos", "sync the repositories from Gitea") or []

    def repo(self, slug: str) -> dict | None:
        return self.call("GET", repo_path(slug), f"read the repository {slug}", missing_ok=True)

    def activate(self, slug: str) -> dict:
        """Activate: Drone replaces its hook in Gitea (one pointing at DRONE_SERVER_PROXY_HOST)."""
        return self.call("POST", repo_path(slug), f"activate {slug}")

    def update(self, slug: str, settings: dict[str, Any]) -> dict:
        return self.call("PATCH", repo_path(slug), f"change the settings of {slug}", json=settings)

    def builds(self, slug: str, page: int = 1, per_page: int = 25) -> list[dict]:
        return self.call("GET", f"{repo_path(slug)}/builds", f"list the builds of {slug}",
                         params={"page": page, "per_page": per_page}) or []

    def build(self, slug: str, number: int) -> dict:
        return self.call("GET", f"{repo_path(slug)}/builds/{int(number)}", f"read build {number} of {slug}")

    def logs(self, slug: str, number: int, stage: int, step: int) -> list[dict]:
        return self.call("GET", f"{repo_path(slug)}/builds/{int(number)}/logs/{int(stage)}/{int(step)}",
                         f"read the log of build {number} of {slug}") or []
