"""Drone's calls to Gitea, as go-scm's gitea driver and Drone's token renewer make them.

Sources (read, not copied): go-scm v1.42.2 (the version Drone 2's go.mod pins)
scm/driver/gitea/gitea.go (`wrapper.do`: any status above 300 is the error
`http.StatusText(status)`, nothing of Gitea's message), user.go (`api/v1/user`; the login is
`username`, else `login`), repo.go (List `api/v1/user/repos?limit=100&page=…`, ListHooks,
CreateHook: `?secret=` set on the target, type gitea, active, content type json;
convertHookEvent's order), content.go (`api/v1/repos/{slug}/raw/{ref}/{path}`), util.go,
scm/client.go (the next page is read from the `Link` header only), scm/transport/oauth2
(oauth2.go: `Authorization: Bearer <token>`, sent even with an empty token; refresh.go: a refresh
POSTs grant_type=refresh_token with the client as Basic auth; its error is the description
alone); harness/harness branch `drone` service/token/renew.go (renew a minute before expiry,
never without a refresh token), cmd/drone-server/inject_client.go.
"""

from __future__ import annotations

import re
import time
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import requests

from tests.fakes.drone_gitea_config import go_url_scheme

if TYPE_CHECKING:
    from tests.fakes.drone_gitea_config import DroneConfig
    from tests.fakes.drone_gitea_store import DroneUser

# DRONE_INCOMING_WEBHOOK_EVENTS' default (branch, deployment, push, tag, pull_request) through
# convertHookEvent: deployment has no Gitea event, branch and tag both mean create and delete.
HOOK_EVENTS = ["pull_request", "create", "delete", "push"]
PAGE_SIZE = 100
EXPIRY_MARGIN = 60  # renew.go expiryDelta
NEXT_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="next"')
TIMEOUT = 10.0


class ScmError(Exception):
    """An error as Drone holds it: its text is what Drone writes into its answers."""


def status_text(status: int) -> str:
    """Go's http.StatusText."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def next_page(link_header: str) -> int:
    """The `page` of the Link header's rel="next" address, 0 when there is none (populatePageValues)."""
    found = NEXT_LINK.search(link_header or "")
    page = re.search(r"[?&]page=(\d+)", found[1]) if found else None
    return int(page[1]) if page else 0


def send(method: str, url: str, **kwargs: object) -> requests.Response:
    """One request from Drone's Go HTTP client, failing with the words Go's client would use."""
    op = method.capitalize()
    scheme = go_url_scheme(url)
    if scheme not in ("http", "https"):
        raise ScmError(f'{op} "{url}": unsupported protocol scheme "{scheme}"')
    try:
        return requests.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)  # type: ignore[arg-type]
    except requests.ConnectionError:
        raise ScmError(f'{op} "{url}": dial tcp: connect: connection refused') from None
    except requests.Timeout:
        raise ScmError(f'{op} "{url}": context deadline exceeded') from None


def expired(user: DroneUser) -> bool:
    """renew.go expired(): never without a refresh token, nor with a token that has no expiry."""
    if not user.refresh or (user.expiry == 0 and user.token):
        return False
    return user.expiry - EXPIRY_MARGIN < time.time()


class GiteaScm:
    def __init__(self, config: DroneConfig) -> None:
        self.config = config

    def _do(self, method: str, path: str, token: str, json: object = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}".strip()}  # Go trims the value: an empty token is `Bearer`
        answer = send(method, f"{self.config.gitea_base}/{path}", headers=headers, json=json)
        if answer.status_code > 300:
            raise ScmError(status_text(answer.status_code))
        return answer

    def find_user(self, token: str) -> dict:
        found = self._do("GET", "api/v1/user", token).json()
        return {"login": found.get("username") or found.get("login") or "", "email": found.get("email") or "",
                "avatar": found.get("avatar_url") or ""}

    def list_repos(self, token: str) -> list[dict]:
        """service/repo/repo.go List: pages of 100 until the Link header names no next page."""
        repos: list[dict] = []
        page = 0
        while True:
            query = urlencode({"limit": PAGE_SIZE, **({"page": page} if page else {})})  # Go sorts the keys
            answer = self._do("GET", f"api/v1/user/repos?{query}", token)
            repos += [r for r in answer.json() or [] if r]
            page = next_page(answer.headers.get("Link", ""))
            if not page:
                return repos

    def find_repo(self, token: str, slug: str) -> dict:
        return self._do("GET", f"api/v1/repos/{slug}", token).json()

    def hooks(self, token: str, slug: str) -> list[dict]:
        return self._do("GET", f"api/v1/repos/{slug}/hooks?limit={PAGE_SIZE}", token).json() or []

    def create_hook(self, token: str, slug: str, target: str, secret: str) -> dict:
        body = {"id": 0, "type": "gitea", "events": HOOK_EVENTS, "active": True,
                "config": {"url": f"{target}?secret={quote(secret, safe='')}", "content_type": "json",
                           "secret": secret}}
        return self._do("POST", f"api/v1/repos/{slug}/hooks", token, json=body).json()

    def delete_hook(self, token: str, slug: str, hook_id: int) -> None:
        self._do("DELETE", f"api/v1/repos/{slug}/hooks/{hook_id}", token)

    def raw_file(self, token: str, slug: str, ref: str, path: str) -> bytes:
        return self._do("GET", f"api/v1/repos/{slug}/raw/{ref}/{path}", token).content

    def renew(self, user: DroneUser, force: bool = False) -> None:
        """renew.go: a token about to expire is refreshed at Gitea, and the user keeps the new pair."""
        if not force and not expired(user):
            return
        answer = send("POST", f"{self.config.gitea_base}/login/oauth/access_token",
                      data={"grant_type": "refresh_token", "refresh_token": user.refresh},
                      auth=(self.config.client_id, self.config.client_secret))
        try:
            body = answer.json()
        except ValueError as e:
            raise ScmError(f"invalid character in token response: {e}") from None
        if answer.status_code > 299:
            raise ScmError(str(body.get("error_description") or ""))
        user.token, user.refresh = body.get("access_token", ""), body.get("refresh_token", "")
        user.expiry = int(time.time()) + int(body.get("expires_in") or 0)
