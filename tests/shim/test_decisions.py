"""What the relay makes of each answer Drone gives to a forwarded hook."""

from __future__ import annotations

import pytest

from drone_kit.shim.delivery import delivery_outcome

# Drone's /hook answers (drone handler/api and go-scm), as the relay receives them: status, body text.
CANNOT_FIND = '{"message":"Cannot find repository"}\n'
BAD_SIGNATURE = '{"message":"Invalid webhook signature"}\n'


@pytest.mark.parametrize("status, body", [
    (200, '{"id":41,"number":9,"status":"pending"}'),
    (200, ""),  # events Drone ignores (a delete, a tag creation it does not build)
    (204, ""),
    (299, ""),
    (200, CANNOT_FIND),  # the status decides, not what the body happens to say
])
def test_2xx_is_delivered(status, body):
    assert delivery_outcome(status, body, auto_activate=False) == "delivered"
    assert delivery_outcome(status, body, auto_activate=True) == "delivered"


@pytest.mark.parametrize("status, body", [
    (500, '{"message":"database is locked"}'),
    (502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),  # Drone behind a proxy, restarting
    (503, ""),
    (504, ""),
    (500, CANNOT_FIND),
    (429, '{"message":"too many requests"}'),
    (None, "Drone unreachable: ConnectionError"),
    (None, "Drone unreachable: ReadTimeout"),
])
def test_a_failure_another_try_can_fix_is_retried(status, body):
    assert delivery_outcome(status, body, auto_activate=False) == "retry"
    assert delivery_outcome(status, body, auto_activate=True) == "retry"


@pytest.mark.parametrize("body", [CANNOT_FIND, "cannot find repository", '{"message":"CANNOT FIND REPOSITORY"}'])
def test_an_unknown_repository_is_synced_only_with_auto_activate(body):
    assert delivery_outcome(400, body, auto_activate=True) == "sync"
    assert delivery_outcome(400, body, auto_activate=False) == "failed"


@pytest.mark.parametrize("status, body", [
    (400, BAD_SIGNATURE),
    (400, '{"message":"Invalid webhook payload"}'),
    (401, '{"message":"Unauthorized"}'),
    (403, '{"message":"Forbidden"}'),
    (404, "404 page not found\n"),  # Drone without the /hook route: the URL is wrong
    (409, '{"message":"conflict"}'),  # a hook is not a write the relay re-reads
    (413, ""),
])
def test_any_other_4xx_fails_for_good(status, body):
    assert delivery_outcome(status, body, auto_activate=False) == "failed"
    assert delivery_outcome(status, body, auto_activate=True) == "failed"
