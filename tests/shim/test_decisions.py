"""The shim's pure decisions: what the relay makes of each answer Drone gives to a forwarded hook,
when it stops retrying, what of a hook is stored, and which of Drone's builds a hook made."""

from __future__ import annotations

import json

import pytest

from drone_kit.shim.decisions import (
    ZERO_SHA,
    RetryLimits,
    build_of,
    delivery_outcome,
    expects_build,
    gives_up,
    query_without_secrets,
    stored_headers,
)
from tests.shim.support import gitea_headers, push_body

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
    assert delivery_outcome(400, body, auto_activate=False) == "not-found"


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


def test_a_push_answered_with_nothing_means_the_repository_is_not_active():
    # Drone answers 200 with no body when the repository was activated once and is disabled now; a
    # build (or `null` for [skip ci]) when it is active.
    assert delivery_outcome(200, "", auto_activate=False, build_expected=True) == "inactive"
    assert delivery_outcome(200, "\n", auto_activate=True, build_expected=True) == "activate"
    assert delivery_outcome(200, "null\n", auto_activate=False, build_expected=True) == "delivered"
    assert delivery_outcome(200, '{"number":3}', auto_activate=False, build_expected=True) == "delivered"
    assert delivery_outcome(204, "", auto_activate=False, build_expected=True) == "delivered"


@pytest.mark.parametrize("event, change, expected", [
    ("push", {}, True),
    ("push", {"after": ZERO_SHA}, False),  # a branch or tag deleted
    ("pull_request", {"action": "opened"}, True),
    ("pull_request", {"action": "synchronized"}, True),
    ("pull_request", {"action": "closed"}, False),
    ("pull_request", {"action": "reopened"}, False),  # go-scm drops it
    ("create", {}, False),
    ("delete", {}, False),
])
def test_which_hooks_drone_builds_from(event, change, expected):
    payload = {**json.loads(push_body("our-task/app", 7)), **change}
    assert expects_build(event, json.dumps(payload).encode()) is expected


def test_a_body_that_is_not_an_object_expects_no_build():
    assert not expects_build("push", b"[1, 2]") and not expects_build("push", b"not json")


LIMITS = RetryLimits(attempts=5, age=600)


@pytest.mark.parametrize("attempts, first, now, expected", [
    (1, 1000.0, 1000.0, False),
    (4, 1000.0, 1599.0, False),
    (5, 1000.0, 1001.0, True),  # out of attempts
    (2, 1000.0, 1600.0, True),  # out of time since the first attempt
    (2, None, 5000.0, False),  # not tried before: the age starts now
])
def test_retries_stop_at_the_first_limit_reached(attempts, first, now, expected):
    assert gives_up(attempts, first, now, LIMITS) is expected


def test_nothing_secret_of_a_gitea_delivery_is_kept():
    body = push_body("our-task/app", 1)
    headers = {**gitea_headers(body), "Authorization": "Bearer gitea-hook-token", "Host": "shim:8080",
               "Content-Length": str(len(body))}
    kept = stored_headers(headers)
    assert set(kept) == {"content-type", "x-gitea-delivery", "x-gitea-event", "x-gitea-event-type"}
    assert "gitea-hook-token" not in json.dumps(kept) and headers["X-Gitea-Signature"] not in json.dumps(kept)


@pytest.mark.parametrize("query, expected", [
    ("secret=s3cret", ""),
    ("secret=s3cret&branch=main", "branch=main"),
    ("access_token=t0ken&SECRET=x&a=1", "a=1"),
    ("", ""),
])
def test_the_hook_urls_secret_is_never_kept(query, expected):
    assert query_without_secrets(query) == expected


NOW = 1_790_000_000


def hook_build(**fields) -> dict:
    """A build as Drone lists it, made by a hook at NOW unless `fields` say otherwise."""
    return {"trigger": "@hook", "event": "push", "created": NOW, **fields}


def test_a_build_is_matched_to_the_push_that_made_it():
    payload = json.loads(push_body("our-task/app", 9))
    same = {"after": payload["after"], "ref": payload["ref"]}
    assert build_of("push", payload, hook_build(**same), NOW - 60)
    assert not build_of("push", payload, hook_build(after=payload["after"], ref="refs/heads/other"), NOW - 60)
    assert not build_of("push", payload, hook_build(after="f" * 40, ref=payload["ref"]), NOW - 60)


def test_a_build_of_the_same_commit_not_made_by_this_push_is_not_its_build():
    payload = json.loads(push_body("our-task/app", 9))
    same = {"after": payload["after"], "ref": payload["ref"]}
    # made before the hook arrived: the same commit pushed to the same branch earlier
    assert not build_of("push", payload, hook_build(**same, created=NOW - 61), NOW - 60)
    # a promotion, a rollback or a restart by a user; a cron build; a manual build
    assert not build_of("push", payload, hook_build(**same, trigger="octocat", event="promote"), NOW - 60)
    assert not build_of("push", payload, hook_build(**same, trigger="octocat", event="rollback"), NOW - 60)
    assert not build_of("push", payload, hook_build(**same, trigger="octocat"), NOW - 60)
    assert not build_of("push", payload, hook_build(**same, trigger="@cron", event="cron"), NOW - 60)
    assert not build_of("push", payload, hook_build(**same, trigger="octocat", event="custom"), NOW - 60)


def test_a_pushed_tag_is_matched_to_drones_tag_build():
    payload = {**json.loads(push_body("our-task/app", 9)), "ref": "refs/tags/v1.0"}
    tag = {"after": payload["after"], "ref": "refs/tags/v1.0"}
    assert build_of("push", payload, hook_build(**tag, event="tag"), NOW - 60)
    assert not build_of("push", payload, hook_build(**tag, event="push"), NOW - 60)


def test_a_build_is_matched_to_the_pull_request_that_made_it():
    payload = {"action": "synchronized", "pull_request": {"number": 4, "head": {"sha": "a" * 40}}}
    pull = {"event": "pull_request", "after": "a" * 40}
    assert build_of("pull_request", payload, hook_build(**pull, ref="refs/pull/4/head"), NOW - 60)
    assert not build_of("pull_request", payload, hook_build(**pull, ref="refs/pull/5/head"), NOW - 60)
    assert not build_of("pull_request", payload, hook_build(**pull, ref="refs/pull/4/head", created=NOW - 61),
                        NOW - 60)
