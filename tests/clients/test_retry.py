"""The one retry policy of every client: which failures are worth another try, how long to wait,
and the retry loop itself, run with a recording sleep instead of the clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import urllib3
from hypothesis import given
from hypothesis import strategies as st
from kubernetes.client.exceptions import ApiException

from drone_kit.clients.retry import (
    MAX_RETRY_AFTER,
    backoff_delay,
    is_transient,
    parse_retry_after,
    retrying,
    transient_status,
)

NOW = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def http_error(status: int, retry_after: str | None = None) -> requests.HTTPError:
    """What requests raises for an answer, carrying that answer."""
    response = requests.Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return requests.HTTPError(f"HTTP {status}", response=response)


@pytest.mark.parametrize("status, conflicts, transient", [
    (500, False, True), (502, False, True), (503, False, True), (504, False, True), (599, False, True),
    (429, False, True),
    (409, True, True), (409, False, False),
    (200, False, False), (201, True, False), (400, False, False), (401, False, False), (403, True, False),
    (404, True, False), (422, False, False), (499, False, False),
])
def test_transient_status(status, conflicts, transient):
    assert transient_status(status, conflicts) is transient


@pytest.mark.parametrize("value, seconds", [
    ("7", 7.0), (" 120 ", 120.0), ("0", 0.0),
    (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
    ("Fri, 01 Mar 2024 12:00:30 GMT", 30.0),
    ("Fri, 01 Mar 2024 12:00:30", 30.0),  # no zone: HTTP dates are GMT
    ("Fri, 01 Mar 2024 11:59:00 GMT", 0.0),  # already past: no wait, never a negative one
    ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
])
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value, NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "-5", "1.5", "7s", "Fri, 32 Mar 2024 12:00:30 GMT"])
def test_unreadable_retry_after_is_none(value):
    assert parse_retry_after(value, NOW) is None


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_any_printable_retry_after_is_none_or_a_wait(value):
    seconds = parse_retry_after(value, NOW)
    assert seconds is None or seconds >= 0


def test_a_superscript_digit_retry_after_is_none():
    assert parse_retry_after("²", NOW) is None


@pytest.mark.parametrize("error, conflicts, transient", [
    (ConnectionRefusedError(111, "Connection refused"), False, True),
    (TimeoutError("timed out"), False, True),
    (requests.ConnectionError("reset"), False, True),
    (urllib3.exceptions.ProtocolError("Connection aborted."), False, True),
    (http_error(503), False, True),
    (http_error(429), False, True),
    (http_error(404), False, False),
    (http_error(404), True, False),
    (ApiException(status=409, reason="Conflict"), True, True),
    (ApiException(status=409, reason="Conflict"), False, False),
    (ApiException(status=500, reason="Internal Server Error"), False, True),
    (ApiException(status=403, reason="Forbidden"), True, False),
    (ValueError("not JSON"), False, False),
    (KeyError("digest"), False, False),
])
def test_is_transient(error, conflicts, transient):
    assert is_transient(error, conflicts) is transient


@given(attempt=st.integers(1, 64), base=st.floats(0.01, 10), cap=st.floats(0.01, 120),
       rand=st.floats(0, 1, exclude_max=True))
def test_backoff_is_jittered_in_the_upper_half_of_a_capped_ceiling(attempt, base, cap, rand):
    ceiling = min(cap, base * 2 ** (attempt - 1))
    delay = backoff_delay(attempt, base, cap, rand=lambda: rand)
    assert ceiling / 2 <= delay <= ceiling <= cap


def test_backoff_doubles_until_the_cap():
    upper = [backoff_delay(attempt, 0.5, 8.0, rand=lambda: 1.0) for attempt in range(1, 8)]
    lower = [backoff_delay(attempt, 0.5, 8.0, rand=lambda: 0.0) for attempt in range(1, 8)]
    assert upper == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert lower == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


class Flaky:
    """A call that raises the given errors in turn, then returns "done"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


class Recorder:
    """A retry loop whose waits and log lines are recorded instead of slept and logged."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.lines: list[str] = []

    def retrying(self, attempts: int = 3, conflicts: bool = False):
        return retrying("GET /v2/", attempts, log_line=self.lines.append, conflicts=conflicts, sleep=self.sleeps.append)


def test_retries_until_the_call_succeeds():
    recorder, call = Recorder(), Flaky(ConnectionError("refused"), ConnectionError("refused"))
    assert recorder.retrying(attempts=3)(call) == "done"
    assert call.calls == 3
    assert len(recorder.sleeps) == 2
    assert 0.25 <= recorder.sleeps[0] <= 0.5 and 0.5 <= recorder.sleeps[1] <= 1.0  # base 0.5, doubling
    pattern = r"GET /v2/ failed \(ConnectionError\); retrying in (\d+\.\d)s \(attempt (\d) of 3\)"
    matches = [re.fullmatch(pattern, line) for line in recorder.lines]
    assert all(matches), recorder.lines
    assert [m[2] for m in matches] == ["2", "3"]
    assert [m[1] for m in matches] == [f"{delay:.1f}" for delay in recorder.sleeps]


def test_gives_up_after_the_attempts_and_raises_the_last_error():
    recorder, errors = Recorder(), [ConnectionResetError(104, f"reset {n}") for n in range(5)]
    call = Flaky(*errors)
    with pytest.raises(ConnectionResetError) as raised:
        recorder.retrying(attempts=3)(call)
    assert raised.value is errors[2]
    assert call.calls == 3
    assert len(recorder.sleeps) == len(recorder.lines) == 2


def test_a_status_is_named_in_the_log_line():
    recorder = Recorder()
    recorder.retrying(attempts=2)(Flaky(http_error(502)))
    [line] = recorder.lines
    assert line.startswith("GET /v2/ answered 502; retrying in ") and line.endswith("(attempt 2 of 2)")


def test_a_404_is_never_retried():
    recorder, not_found = Recorder(), http_error(404)
    call = Flaky(not_found)
    with pytest.raises(requests.HTTPError) as raised:
        recorder.retrying(attempts=5)(call)
    assert raised.value is not_found
    assert call.calls == 1 and recorder.sleeps == [] and recorder.lines == []


def test_a_conflict_is_retried_only_when_asked():
    retried, refused = Flaky(ApiException(status=409, reason="Conflict")), Flaky(ApiException(status=409))
    assert Recorder().retrying(conflicts=True)(retried) == "done"
    with pytest.raises(ApiException):
        Recorder().retrying(conflicts=False)(refused)
    assert (retried.calls, refused.calls) == (2, 1)


def test_retry_after_is_honoured_when_longer_than_the_backoff():
    recorder = Recorder()
    recorder.retrying(attempts=2)(Flaky(http_error(503, retry_after="7")))
    assert recorder.sleeps[0] >= 7
    assert "retrying in 7.0s" in recorder.lines[0]


def test_retry_after_shorter_than_the_backoff_does_not_shorten_it():
    recorder = Recorder()
    recorder.retrying(attempts=2)(Flaky(http_error(429, retry_after="0")))
    assert 0.25 <= recorder.sleeps[0] <= 0.5


def test_a_long_retry_after_is_cut_so_a_step_never_stalls():
    recorder = Recorder()
    recorder.retrying(attempts=2)(Flaky(http_error(503, retry_after="86400")))
    assert recorder.sleeps == [MAX_RETRY_AFTER]
