"""The shim's other routes through Starlette's TestClient: Drone's signed build events, the card
templates Drone's UI fetches, the health checks, and what /metrics and /deliveries say once the
relay the app runs has failed or ignored a hook. No process, no Drone unless a test asks it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.fakes.drone import FakeDrone
from tests.shim.support import (
    SECRET,
    drone_build_event,
    drone_signed_headers,
    gitea_headers,
    push_body,
    shim_app,
    signed_drone_event,
    wait_for,
)
from tests.stack.registry import free_port

REPO = "our-task/app"
WEBHOOK_SECRET = "drone-webhook-s3cret"
USER_CREATED = {"event": "user", "action": "created", "user": {"id": 2, "login": "alice", "admin": False}}


@pytest.fixture
def client(tmp_path) -> TestClient:
    """The shim without its lifespan: no relay, so the Drone it is given is never called."""
    return TestClient(shim_app(tmp_path, f"http://127.0.0.1:{free_port()}", webhook_secret=WEBHOOK_SECRET))


def refused_events(client: TestClient) -> str | None:
    """The count of refused Drone events in /metrics, as Prometheus writes it."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith('drone_kit_shim_hooks_rejected_total{reason="drone-signature"}'):
            return line.rsplit(" ", 1)[1]
    return None


def test_an_unsigned_drone_event_is_refused(client):
    body, _ = signed_drone_event(USER_CREATED, WEBHOOK_SECRET)
    answer = client.post("/drone/events", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 401 and answer.json() == {"message": "no signature"}
    assert refused_events(client) == "1.0"


def test_a_drone_event_signed_with_another_secret_is_refused(client):
    body, headers = signed_drone_event(drone_build_event("success"), "not-the-secret")
    answer = client.post("/drone/events", content=body, headers=headers)
    assert answer.status_code == 401 and answer.json() == {"message": "bad signature"}
    assert refused_events(client) == "1.0"
    assert "drone_kit_builds_total{" not in client.get("/metrics").text


def test_a_drone_event_changed_after_signing_is_refused(client):
    body, headers = signed_drone_event(drone_build_event("failure"), WEBHOOK_SECRET)
    answer = client.post("/drone/events", content=body.replace(b'"failure"', b'"success"'), headers=headers)
    assert answer.status_code == 401 and answer.json() == {"message": "the Digest does not match the body"}


def test_without_a_webhook_secret_no_drone_event_is_trusted(tmp_path):
    client = TestClient(shim_app(tmp_path, f"http://127.0.0.1:{free_port()}"))
    body, headers = signed_drone_event(drone_build_event("success"), "")  # an empty key is no key
    answer = client.post("/drone/events", content=body, headers=headers)
    assert answer.status_code == 401 and answer.json() == {"message": "no webhook secret configured"}


def test_a_signed_drone_event_is_accepted(client):
    body, headers = signed_drone_event(USER_CREATED, WEBHOOK_SECRET)
    answer = client.post("/drone/events", content=body, headers=headers)
    assert answer.status_code == 204 and answer.content == b""
    assert refused_events(client) is None
    assert "drone_kit_builds_total{" not in client.get("/metrics").text  # not a build: nothing to count


def test_a_signed_finished_build_is_counted(client):
    body, headers = signed_drone_event(drone_build_event("success"), WEBHOOK_SECRET)
    assert client.post("/drone/events", content=body, headers=headers).status_code == 204
    metrics = client.get("/metrics").text
    assert 'drone_kit_builds_total{repo="our-task/app",status="success"} 1.0' in metrics
    assert 'drone_kit_build_duration_seconds_sum{repo="our-task/app"} 90.0' in metrics
    assert "drone_kit_deploys_total{" not in metrics  # no deploy step in this build


@pytest.mark.parametrize("payload", [b"{not json", b"[]", b'{"event": "build", "build": ["not", "a", "build"]}'])
def test_a_signed_body_that_is_not_a_drone_event_is_refused(client, payload):
    answer = client.post("/drone/events", content=payload, headers=drone_signed_headers(payload, WEBHOOK_SECRET))
    assert answer.status_code == 400
    assert 'drone_kit_shim_hooks_rejected_total{reason="not-json"} 1.0' in client.get("/metrics").text


@pytest.mark.parametrize("kind", ["image", "deploy", "verify"])
def test_card_templates_are_served_to_any_origin(client, kind):
    answer = client.get(f"/cards/{kind}.json")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"  # Drone's UI fetches it from its own origin
    card = answer.json()
    assert card["type"] == "AdaptiveCard" and card["body"][0]["type"] == "TextBlock"


@pytest.mark.parametrize("path", ["/cards/nope.json", "/cards/Deploy.json", "/cards/.json"])
def test_an_unknown_card_is_404(client, path):
    answer = client.get(path)
    assert answer.status_code == 404


def test_healthz_answers_without_drone(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"ok": True}


def test_readyz_says_drone_is_unreachable(client):
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"outbox_writable": True, "drone_reachable": False}


def test_readyz_with_drone_up(tmp_path):
    with FakeDrone(SECRET) as drone:
        answer = TestClient(shim_app(tmp_path, drone.url)).get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"outbox_writable": True, "drone_reachable": True}


def sample(client: TestClient, name: str) -> float | None:
    """The value of an unlabelled sample in /metrics."""
    for line in client.get("/metrics").text.splitlines():
        found, _, value = line.partition(" ")
        if found == name:
            return float(value)
    return None


def post_push(client: TestClient, n: int) -> None:
    body = push_body(REPO, n)
    assert client.post("/hook", content=body, headers=gitea_headers(body)).status_code == 202


def listed(client: TestClient) -> list[dict]:
    return client.get("/deliveries").json()


def test_a_hook_drone_refuses_for_good_is_counted_and_listed_as_failed(tmp_path):
    # One attempt: Drone's trigger error fails the hook at once instead of after the retry budget.
    with FakeDrone(SECRET) as drone, TestClient(shim_app(tmp_path, drone.url, retry_attempts=1)) as client:
        drone.fail_commits[f"{2:040x}"] = (500, "Not Found")  # no .drone.yml at that commit
        post_push(client, 1)
        post_push(client, 2)
        # The relay counts a hook just after writing its status: wait for both.
        wait_for(lambda: [d["status"] for d in listed(client)] == ["failed", "delivered"]
                 and sample(client, "drone_kit_shim_hooks_failed_total"), timeout=10, what="the hook to fail")
        failed, _ = listed(client)
        counts = {name: sample(client, f"drone_kit_shim_{name}") for name in (
            "hooks_failed_total", "hooks_delivered_total", "hooks_ignored_total", "hooks_retried_total",
            "outbox_failed")}
    assert counts == {"hooks_failed_total": 1.0, "hooks_delivered_total": 1.0, "hooks_ignored_total": 0.0,
                      "hooks_retried_total": 0.0, "outbox_failed": 1.0}
    assert failed["attempts"] == 1 and failed["error"].startswith("HTTP 500") and "Not Found" in failed["error"]


def test_a_hook_for_a_repository_disabled_in_drone_is_counted_and_listed_as_ignored(tmp_path):
    with FakeDrone(SECRET) as drone, TestClient(shim_app(tmp_path, drone.url)) as client:
        drone.inactive_repos.add(REPO)
        post_push(client, 1)
        wait_for(lambda: [d["status"] for d in listed(client)] == ["ignored"]
                 and sample(client, "drone_kit_shim_hooks_ignored_total"), timeout=10, what="the hook to be ignored")
        [ignored] = listed(client)
        counts = {name: sample(client, f"drone_kit_shim_{name}") for name in (
            "hooks_ignored_total", "hooks_failed_total", "hooks_delivered_total", "outbox_failed")}
    assert counts == {"hooks_ignored_total": 1.0, "hooks_failed_total": 0.0, "hooks_delivered_total": 0.0,
                      "outbox_failed": 0.0}
    assert "disabled in Drone" in ignored["error"] and drone.builds.get(REPO, []) == []
