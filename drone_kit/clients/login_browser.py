"""A cookie session that moves like a browser but one redirect at a time, for the scripted
first login: every request has a timeout and is logged as method, address and answer (never a
query, which carries OAuth codes), and every failure is one line with the manual step instead."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

import requests

from drone_kit.clients.gitea_api import scrubbed
from drone_kit.errors import DroneKitError

log = logging.getLogger(__name__)


class FirstLoginFailed(DroneKitError):
    """The scripted first login to Drone through Gitea did not get through; the hint is the
    manual step that does the same."""


def manual_step(drone: str, username: str) -> str:
    """Pure: the one thing a person does instead of the scripted login."""
    return f"log in once at {drone.rstrip('/')}/login in a browser as {username}, then run `drone_kit wire` again"


def origin(url: str) -> str:
    """Pure: scheme://host:port of an address, lower case."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def where(url: str) -> str:
    """Pure: an address without its query or fragment, for logs and messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path


class Browser:
    def __init__(self, session: requests.Session, timeout: float, hint: str, secrets: Iterable[str] = ()) -> None:
        self.session, self.timeout, self.hint, self.secrets = session, timeout, hint, tuple(secrets)

    def fail(self, message: str) -> FirstLoginFailed:
        return FirstLoginFailed(scrubbed(message, self.secrets), hint=self.hint)

    def get(self, url: str) -> requests.Response:
        return self._send("GET", url, None)

    def post(self, url: str, form: dict[str, str]) -> requests.Response:
        """POST a form, urlencoded as a browser sends it."""
        return self._send("POST", url, form)

    def _send(self, method: str, url: str, form: dict[str, str] | None) -> requests.Response:
        try:
            answer = self.session.request(method, url, data=form, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as e:
            raise self.fail(f"{method} {where(url)} got no answer ({type(e).__name__})") from None
        went = f" → {where(answer.headers['Location'])}" if answer.is_redirect else ""
        log.info("login: %s %s: HTTP %s%s", method, where(url), answer.status_code, went)
        return answer
