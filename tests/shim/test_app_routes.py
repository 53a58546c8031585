"""The shim's other routes through Starlette's TestClient: Drone's signed build events, the card
templates Drone's UI fetches, and the health checks. No process, no Drone unless a route asks it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.fakes.drone import FakeDrone
from tests.shim.support import (
    SECRET,
    drone_build_event,
    drone_signed_headers,
    shim_app,
    signed_drone_event,
)
from tests.stack.registry import free_port

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
