"""One retry policy for every client: which failures another try can fix, how long to wait
before it, and the tenacity loop that logs each attempt in one line.

Worth another try: no answer (connection refused or reset, a timeout), 5xx, 429, and 409 where
the caller asks (a conflicting write the caller re-reads). Any other answer is final. A server's
`Retry-After` is honoured when it asks for longer than the backoff would wait.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import tenacity
import urllib3

log = logging.getLogger(__name__)
MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is cut to this, so a step never stalls on one


def transient_status(status: int, conflicts: bool = False) -> bool:
    """Pure: whether an HTTP status is worth another try: 5xx, 429, and 409 when `conflicts`."""
    return status >= 500 or status == 429 or (conflicts and status == 409)


def backoff_delay(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Pure: seconds to wait after failed attempt `attempt` (1, 2, …): exponential from `base`,
    capped at `cap`, with jitter in the upper half so retries of many clients spread out."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return ceiling / 2 + rand() * ceiling / 2


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Pure: the seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # str.isdigit() also takes digits float() refuses, like ²
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def failure_status(error: BaseException) -> int | None:
    """The HTTP status a failure carries (kubernetes' ApiException, requests' HTTPError), if any."""
    status = getattr(error, "status", None)
    if status is None:
        status = getattr(getattr(error, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def is_transient(error: BaseException, conflicts: bool = False) -> bool:
    """Whether another try may succeed: a retryable status, or no answer at all."""
    status = failure_status(error)
    if status is not None:
        return transient_status(status, conflicts)
    # requests' errors are OSErrors; urllib3's (under the kubernetes client) are not.
    return isinstance(error, (OSError, urllib3.exceptions.HTTPError))


def _headers(error: BaseException) -> Mapping[str, Any]:
    headers = getattr(error, "headers", None)
    if headers is None:
        headers = getattr(getattr(error, "response", None), "headers", None)
    return headers or {}


def _problem(error: BaseException) -> str:
    status = failure_status(error)
    return f"answered {status}" if status is not None else f"failed ({type(error).__name__})"


class _Backoff(tenacity.wait.wait_base):
    def __init__(self, base: float, cap: float) -> None:
        self.base, self.cap = base, cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        delay = backoff_delay(retry_state.attempt_number, self.base, self.cap)
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if error is not None:
            asked = parse_retry_after(_headers(error).get("Retry-After"), datetime.now(UTC))
            if asked is not None:
                delay = max(delay, min(asked, MAX_RETRY_AFTER))
        return delay


def retrying(what: str, attempts: int, log_line: Callable[[str], None] = log.warning, base: float = 0.5,
             cap: float = 8.0, conflicts: bool = False,
             sleep: Callable[[float], None] = time.sleep) -> tenacity.Retrying:
    """A retry loop for one request: `retrying(...)(function, *args)` calls it until it succeeds,
    fails for good, or `attempts` ran out; then the last error is raised as it was."""

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log_line(f"{what} {_problem(error) if error else 'failed'}; retrying in {delay:.1f}s "
                 f"(attempt {state.attempt_number + 1} of {attempts})")

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        retry=tenacity.retry_if_exception(lambda error: is_transient(error, conflicts)),
        wait=_Backoff(base, cap),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )


def send_with_retries(session: requests.Session, method: str, url: str, what: str, attempts: int = 3,
                      sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> requests.Response:
    """One request through requests, retried while there is no answer or it is 5xx or 429; the
    last answer (a 5xx too, once the attempts ran out). Raises requests' error when nothing ever
    answered."""

    def send() -> requests.Response:
        response = session.request(method, url, **kwargs)
        if transient_status(response.status_code):
            raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
        return response

    try:
        return retrying(what, attempts, sleep=sleep)(send)
    except requests.HTTPError as e:
        if e.response is None:
            raise
        return e.response
