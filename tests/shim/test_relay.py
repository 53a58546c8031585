"""The relay against the honest fake Drone, in this process with a clock of the test's own: a
commit Drone keeps refusing fails after its retry budget and lets the next hook go; a disabled
repository's hook is ignored, or activated and re-sent; after a crash every in-flight hook is
checked against Drone's builds, paging back through them, before it is sent again."""

from __future__ import annotations

import json

import pytest
import requests

from drone_kit.clients.drone import DroneClient
from drone_kit.shim.decisions import RetryLimits, stored_headers
from drone_kit.shim.delivery import Relay
from drone_kit.shim.outbox import NewHook, Outbox
from tests.fakes.drone import FakeDrone
from tests.shim.support import SECRET, Clock, gitea_headers, push_body

REPO = "our-task/app"


@pytest.fixture
def drone():
    with FakeDrone(SECRET) as fake:
        yield fake


def relay_for(tmp_path, drone: FakeDrone, clock: Clock, **options) -> tuple[Relay, Outbox, list[str]]:
    outbox, outcomes = Outbox(tmp_path / "outbox.sqlite"), []
    relay = Relay(outbox, DroneClient(drone.url, drone.token), SECRET, retry_base=0.01, retry_max=0.01,
                  on_result=lambda hook, outcome, now: outcomes.append(outcome), clock=clock, **options)
    return relay, outbox, outcomes


def add_push(outbox: Outbox, n: int, received: float, repo: str = REPO) -> int:
    body = push_body(repo, n)
    headers = stored_headers(gitea_headers(body))
    return outbox.add(NewHook(headers["x-gitea-delivery"], repo, "push", headers, "", body, received))[0]


def drain(relay: Relay, outbox: Outbox, clock: Clock, step: float = 1.0, rounds: int = 1000) -> None:
    """Deliver what is due, then let `step` seconds pass, until nothing is waiting."""
    for _ in range(rounds):
        for hook in outbox.due(clock.now):
            relay.deliver(hook)
        if outbox.depth()[0] == 0:
            return
        clock.now += step
    raise AssertionError("the outbox never emptied")


def statuses(outbox: Outbox) -> list[str]:
    return [hook.status for hook in reversed(outbox.page(100))]


def test_a_commit_drone_keeps_refusing_fails_after_its_attempts_and_the_next_hook_goes(tmp_path, drone):
    clock = Clock()
    relay, outbox, outcomes = relay_for(tmp_path, drone, clock, limits=RetryLimits(attempts=3, age=3600))
    ids = [add_push(outbox, n, clock.now) for n in (1, 2, 3)]
    drone.fail_commits[f"{2:040x}"] = (500, "Not Found")  # no .drone.yml at that commit
    drain(relay, outbox, clock)
    assert statuses(outbox) == ["delivered", "failed", "delivered"]
    [failed] = outbox.page(1, status="failed")
    assert failed.id == ids[1] and failed.attempts == 3 and failed.last_error.startswith("HTTP 500")
    assert [build["after"] for build in drone.builds[REPO]] == [f"{1:040x}", f"{3:040x}"]
    assert outcomes.count("failed") == 1 and outcomes.count("retry") == 2


def test_a_drone_that_stays_down_fails_the_hook_at_its_age_limit(tmp_path, drone):
    clock = Clock()
    relay, outbox, _ = relay_for(tmp_path, drone, clock, limits=RetryLimits(attempts=100, age=30))
    add_push(outbox, 1, clock.now)
    drone.down()
    drain(relay, outbox, clock, step=10)
    [hook] = outbox.page(1)
    assert hook.status == "failed" and hook.attempts == 4  # at 0, 10, 20 and 30 s
    assert hook.last_error.startswith("Drone unreachable")


def test_a_push_to_a_repository_disabled_in_drone_is_counted_as_ignored(tmp_path, drone):
    clock = Clock()
    relay, outbox, outcomes = relay_for(tmp_path, drone, clock)
    drone.inactive_repos.add(REPO)
    add_push(outbox, 1, clock.now)
    drain(relay, outbox, clock)
    [hook] = outbox.page(1)
    assert hook.status == "ignored" and "disabled in Drone" in hook.last_error
    assert outcomes == ["inactive"] and drone.builds.get(REPO, []) == [] and drone.activated == []


def test_a_push_to_a_repository_drone_knows_but_never_activated_is_counted_as_ignored(tmp_path, drone):
    clock = Clock()
    relay, outbox, outcomes = relay_for(tmp_path, drone, clock)
    drone.never_activated.add(REPO)
    drone.unknown_repos.add("our-task/other")
    add_push(outbox, 1, clock.now)
    add_push(outbox, 2, clock.now, repo="our-task/other")
    drain(relay, outbox, clock)
    known, unknown = reversed(outbox.page(2))
    assert known.status == "ignored" and "not activated in Drone" in known.last_error
    assert unknown.status == "failed" and "Cannot find repository" in unknown.last_error
    assert sorted(outcomes) == ["failed", "inactive"] and drone.activated == [] and drone.builds == {}


def test_without_a_drone_token_a_repository_drone_does_not_build_from_fails(tmp_path, drone):
    clock = Clock()
    relay, outbox, outcomes = relay_for(tmp_path, drone, clock)
    relay.drone = DroneClient(drone.url)
    drone.never_activated.add(REPO)
    add_push(outbox, 1, clock.now)
    drain(relay, outbox, clock)
    assert statuses(outbox) == ["failed"] and outcomes == ["failed"]


def test_with_auto_activate_a_disabled_repository_is_activated_and_the_hook_sent_again(tmp_path, drone):
    clock = Clock()
    relay, outbox, outcomes = relay_for(tmp_path, drone, clock, auto_activate=True)
    drone.inactive_repos.add(REPO)
    add_push(outbox, 1, clock.now)
    drain(relay, outbox, clock)
    assert statuses(outbox) == ["delivered"] and outcomes == ["activate", "delivered"]
    assert drone.activated == [REPO] and [b["after"] for b in drone.builds[REPO]] == [f"{1:040x}"]


def push_to_drone(drone: FakeDrone, n: int) -> None:
    body = push_body(REPO, n)
    assert requests.post(f"{drone.url}/hook", data=body, headers=gitea_headers(body), timeout=5).status_code == 200


def test_every_in_flight_hook_is_checked_against_drones_builds_whatever_the_backlog(tmp_path, drone):
    clock = Clock()
    relay, outbox, _ = relay_for(tmp_path, drone, clock)
    built = add_push(outbox, 1, clock.now - 5)  # sent, and built, just before the crash…
    push_to_drone(drone, 1)
    for n in range(2, 252):  # …and 250 builds since: it is on Drone's third page
        push_to_drone(drone, n)
    lost = add_push(outbox, 9999, clock.now - 5, repo="our-task/other")  # sent, never reached Drone
    for n in range(300):  # a backlog behind them
        add_push(outbox, 10_000 + n, clock.now)
    for hook_id in (built, lost):
        outbox.sending(hook_id, clock.now - 5)
    sent_before = len(drone.deliveries)
    relay.recover()
    by_id = {hook.id: hook for hook in outbox.page(500)}
    assert by_id[built].status == "delivered"  # found on page 3: not sent again
    assert by_id[lost].status == "pending" and by_id[lost].last_error == "the shim stopped while sending"
    assert len(drone.deliveries) == sent_before
    drain(relay, outbox, clock)
    afters = [json.loads(d["body"])["after"] for d in drone.deliveries]
    assert afters.count(f"{1:040x}") == 1 and afters.count(f"{9999:040x}") == 1


def test_a_build_of_the_same_commit_made_before_the_hook_came_is_not_taken_for_its_build(tmp_path, drone):
    clock = Clock()
    relay, outbox, _ = relay_for(tmp_path, drone, clock)
    push_to_drone(drone, 1)  # this commit, pushed to this branch and built ten minutes before…
    clock.now += 600
    again = add_push(outbox, 1, clock.now - 5)  # …is pushed to it again, and the shim dies sending it
    outbox.sending(again, clock.now - 5)
    relay.recover()
    assert outbox.page(10)[0].status == "pending"
    drain(relay, outbox, clock)
    assert [json.loads(d["body"])["after"] for d in drone.deliveries] == [f"{1:040x}"] * 2
