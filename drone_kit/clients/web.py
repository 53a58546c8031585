"""Plain HTTP GETs: against the app being verified (what answered, or why nothing did), and
downloads of published files."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests

from drone_kit.errors import DroneKitError


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # names compare case-insensitively
    text: str
    milliseconds: float


class WebClient:
    """One keep-alive session; every request has the same timeout."""

    def __init__(self, timeout: float) -> None:
        self.session = requests.Session()
        self.timeout = timeout

    def get(self, url: str) -> Answer | str:
        """The answer, or a few words on why there was none, e.g. "no answer (ConnectTimeout)"."""
        started = time.monotonic()
        try:
            response = self.session.get(url, timeout=self.timeout)
            text = response.text
        except requests.RequestException as e:
            return f"no answer ({type(e).__name__})"
        return Answer(response.status_code, response.headers, text, (time.monotonic() - started) * 1000)


class DownloadFailed(DroneKitError):
    """A file could not be downloaded: no answer, or an answer other than 200."""


def download(url: str, timeout: float = 30.0) -> bytes:
    """The body of a GET of `url` answered 200 (redirects followed, proxies from the environment);
    DownloadFailed saying why there is none."""
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as e:
        raise DownloadFailed(f"GET {url}: no answer ({type(e).__name__})") from e
    if response.status_code != 200:
        raise DownloadFailed(f"GET {url}: HTTP {response.status_code} {response.reason or ''}".rstrip())
    return response.content
