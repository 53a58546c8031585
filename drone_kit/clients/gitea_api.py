"""The low level of Gitea's REST API (`/api/v1`): one session, the two ways drone_kit signs in
(an access token, or the admin's password where Gitea accepts nothing else), retries, paging,
and Gitea's refusals turned into GiteaError lines that never carry a password or a token."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import requests

from drone_kit.clients.retry import send_with_retries
from drone_kit.errors import DroneKitError

log = logging.getLogger(__name__)
PAGE_SIZE = 50  # Gitea's default [api] MAX_RESPONSE_ITEMS; a smaller cap is followed through X-Total-Count
MAX_PAGES = 200


class GiteaError(DroneKitError):
    """Gitea could not be asked, or refused; `status` is its HTTP status when it answered."""

    def __init__(self, message: str, hint: str = "", status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


def scrubbed(text: str, secrets: Iterable[str]) -> str:
    """Pure: `text` with every non-empty secret replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def gitea_message(response: requests.Response) -> str:
    """The `message` of Gitea's error JSON ({"message", "url"}), or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    text = body.get("message") if isinstance(body, dict) else None
    return " ".join(str(text or response.text or response.reason or "").split())[:200]


class GiteaApi:
    """One Gitea, e.g. GiteaApi("http://gitea.lan:3000", token=…); Basic auth with `username` and
    `password` only for the calls that ask for it (`basic=True`)."""

    def __init__(self, url: str, token: str = "", username: str = "", password: str = "",
                 timeout: float = 30.0, attempts: int = 3, sleep: Callable[[float], None] = time.sleep,
                 session: requests.Session | None = None) -> None:
        self.url, self.token, self.username, self.password = url.rstrip("/"), token, username, password
        self.timeout, self.attempts, self.sleep = timeout, attempts, sleep
        self.session = session or requests.Session()

    def _secrets(self) -> tuple[str, str]:
        return self.token, self.password

    def _auth_headers(self, basic: bool) -> dict[str, str]:
        if basic:
            return {}
        return {"Authorization": f"token {self.token}"} if self.token else {}

    def send(self, method: str, path: str, what: str, basic: bool = False, hide: tuple[str, ...] = (),
             **kwargs: Any) -> requests.Response:
        """One request to `/api/v1{path}`, retried while there is no answer, 5xx or 429; the
        answer, whatever its status. GiteaError when Gitea never answered or refused the sign-in."""
        if basic and not (self.username and self.password):
            raise GiteaError(f"{what} needs the Gitea admin's username and password",
                             hint="Gitea creates access tokens only for a password sign-in (Basic auth)")
        auth = (self.username, self.password) if basic else None
        try:
            response = send_with_retries(self.session, method, f"{self.url}/api/v1{path}",
                                         f"Gitea {method} /api/v1{path}", self.attempts, self.sleep,
                                         timeout=self.timeout, auth=auth, headers=self._auth_headers(basic), **kwargs)
        except requests.RequestException as e:
            raise GiteaError(f"Gitea at {self.url} is unreachable ({type(e).__name__}) while trying to {what}",
                             hint=f"check that Gitea is running and answers at {self.url}") from None
        if response.status_code == 401:
            signed_in = f"the password of {self.username}" if basic else "drone_kit's access token"
            hint = ("check the admin's credentials in the platform's Secret" if basic else
                    "the stored token may have been deleted in Gitea: run `drone_kit wire` to make a new one")
            raise GiteaError(f"Gitea refused {signed_in} while trying to {what}", hint=hint, status=401)
        if response.status_code == 403:
            raise GiteaError(f"Gitea forbids drone_kit to {what}: {self.message(response, hide)}", status=403,
                             hint="the access token needs the scopes write:user and write:repository"
                             " (or all); run `drone_kit wire` to make a new one")
        return response

    def message(self, response: requests.Response, hide: tuple[str, ...] = ()) -> str:
        """Gitea's words on a refusal, with drone_kit's secrets (and `hide`) blanked out."""
        return scrubbed(gitea_message(response), (*self._secrets(), *hide))

    def refused(self, response: requests.Response, what: str, hint: str = "", hide: tuple[str, ...] = ()) -> GiteaError:
        return GiteaError(f"Gitea answered {response.status_code} while trying to {what}: "
                          f"{self.message(response, hide)}", hint=hint, status=response.status_code)

    def call(self, method: str, path: str, what: str, expect: tuple[int, ...] = (200,), basic: bool = False,
             missing_ok: bool = False, hide: tuple[str, ...] = (), **kwargs: Any) -> Any:
        """The JSON of an answer whose status is in `expect` (None for 204, and for 404 when
        `missing_ok`); GiteaError for any other."""
        response = self.send(method, path, what, basic=basic, hide=hide, **kwargs)
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code not in expect:
            raise self.refused(response, what, hide=hide)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise GiteaError(f"Gitea's answer to {method} /api/v1{path} is not JSON: "
                             f"{self.message(response)[:80]}", hint=f"check that {self.url} is Gitea") from None

    def delete(self, path: str, what: str, basic: bool = False) -> bool:
        """DELETE something: True when Gitea deleted it (204), False when there was none (404)."""
        response = self.send("DELETE", path, what, basic=basic)
        if response.status_code not in (204, 404):
            raise self.refused(response, what)
        return response.status_code == 204

    def pages(self, path: str, what: str, basic: bool = False, params: dict[str, Any] | None = None) -> list[dict]:
        """Every item of a paged list: pages until X-Total-Count items came, or an empty page."""
        items: list[dict] = []
        for page in range(1, MAX_PAGES + 1):
            response = self.send("GET", path, what, basic=basic,
                                 params={**(params or {}), "page": page, "limit": PAGE_SIZE})
            if response.status_code != 200:
                raise self.refused(response, what)
            try:
                batch = response.json()
            except ValueError:
                batch = None
            if not isinstance(batch, list):
                raise GiteaError(f"Gitea's answer to GET /api/v1{path} is not a list",
                                 hint=f"check that {self.url} is Gitea")
            items += [item for item in batch if isinstance(item, dict)]
            total = response.headers.get("X-Total-Count", "")
            if not batch or (total.isdigit() and len(items) >= int(total)):
                break
        return items
