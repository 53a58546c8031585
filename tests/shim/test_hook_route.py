"""Gitea's hooks at the shim's /hook, through Starlette's TestClient: what is accepted into the
outbox, what is refused and counted. The real-process tests in test_shim.py cover delivery under
restarts and kills; these pin the route's answers without starting a process."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from tests.fakes.drone import FakeDrone
from tests.shim.support import SECRET, gitea_headers, hook_answer, push_body, shim_app, wait_for
from tests.stack.registry import free_port


@pytest.fixture
def nowhere() -> str:
    """A Drone URL nothing listens on: these tests never start the relay that would call it."""
    return f"http://127.0.0.1:{free_port()}"


def test_a_signed_hook_is_accepted_into_the_outbox(tmp_path, nowhere):
    client = TestClient(shim_app(tmp_path, nowhere))
    body = push_body("our-task/app", 1)
    headers = gitea_headers(body)
    answer = client.post("/hook", content=body, headers=headers)
    assert hook_answer(answer) == (1, False)
    [listed] = client.get("/deliveries").json()
    assert listed["delivery"] == headers["X-Gitea-Delivery"] and listed["repo"] == "our-task/app"
    assert listed["event"] == "push" and listed["status"] == "pending" and listed["attempts"] == 0
    assert 'drone_kit_shim_hooks_received_total{event="push"} 1.0' in client.get("/metrics").text


@pytest.mark.parametrize("signature", ["0" * 64, "not hex at all", ""])
def test_a_badly_signed_hook_is_refused_and_counted(tmp_path, nowhere, signature):
    client = TestClient(shim_app(tmp_path, nowhere))
    body = push_body("our-task/app", 1)
    answer = client.post("/hook", content=body, headers={**gitea_headers(body), "X-Gitea-Signature": signature})
    assert answer.status_code == 401
    assert client.get("/deliveries").json() == []
    metrics = client.get("/metrics").text
    assert 'drone_kit_shim_hooks_rejected_total{reason="signature"} 1.0' in metrics
    assert "drone_kit_shim_hooks_received_total{" not in metrics


@pytest.mark.parametrize("payload", [
    {"ref": "refs/heads/main", "after": "9f8e7d6c" * 5},
    {"repository": None},
    {"repository": {"name": "app"}},
    {"repository": {"full_name": ""}},
    {"repository": {"full_name": 42}},
    [{"repository": {"full_name": "our-task/app"}}],
])
def test_a_signed_body_without_a_repository_name_is_refused(tmp_path, nowhere, payload):
    client = TestClient(shim_app(tmp_path, nowhere))
    body = json.dumps(payload).encode()
    answer = client.post("/hook", content=body, headers=gitea_headers(body))
    assert answer.status_code == 400
    assert "repository.full_name" in answer.json()["message"]
    assert client.get("/deliveries").json() == []
    assert 'drone_kit_shim_hooks_rejected_total{reason="not-json"} 1.0' in client.get("/metrics").text


def test_a_signed_body_nested_too_deep_to_parse_is_refused_not_an_error(tmp_path, nowhere):
    client = TestClient(shim_app(tmp_path, nowhere))
    body = b'{"repository": {"full_name": "our-task/app"}, "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    answer = client.post("/hook", content=body, headers=gitea_headers(body))
    assert answer.status_code == 400 and "repository.full_name" in answer.json()["message"]
    assert client.get("/deliveries").json() == []


def test_a_body_of_max_body_bytes_is_accepted(tmp_path, nowhere):
    body = push_body("our-task/app", 1)
    client = TestClient(shim_app(tmp_path, nowhere, max_body=len(body)))
    assert client.post("/hook", content=body, headers=gitea_headers(body)).status_code == 202
    assert len(client.get("/deliveries").json()) == 1


def test_a_body_one_byte_over_max_body_is_refused(tmp_path, nowhere):
    body = push_body("our-task/app", 1)
    client = TestClient(shim_app(tmp_path, nowhere, max_body=len(body) - 1))
    answer = client.post("/hook", content=body, headers=gitea_headers(body))
    assert answer.status_code == 413 and answer.json() == {"message": f"body over {len(body) - 1} bytes"}
    assert client.get("/deliveries").json() == []
    assert 'drone_kit_shim_hooks_rejected_total{reason="too-large"} 1.0' in client.get("/metrics").text


def test_a_repeated_delivery_id_is_answered_as_a_duplicate(tmp_path, nowhere):
    client = TestClient(shim_app(tmp_path, nowhere))
    body = push_body("our-task/app", 1)
    headers = gitea_headers(body)
    answers = [hook_answer(client.post("/hook", content=body, headers=headers)) for _ in range(3)]
    assert answers == [(1, False), (1, True), (1, True)]
    assert len(client.get("/deliveries").json()) == 1
    assert 'drone_kit_shim_hooks_received_total{event="push"} 1.0' in client.get("/metrics").text


def test_hooks_without_a_delivery_id_are_never_duplicates(tmp_path, nowhere):
    client = TestClient(shim_app(tmp_path, nowhere))
    body = push_body("our-task/app", 1)
    headers = {k: v for k, v in gitea_headers(body).items() if not k.endswith("-Delivery")}
    answers = [hook_answer(client.post("/hook", content=body, headers=headers)) for _ in range(2)]
    assert answers == [(1, False), (2, False)]


def test_the_lifespan_runs_the_relay_to_drone(tmp_path):
    with FakeDrone(SECRET) as drone, TestClient(shim_app(tmp_path, drone.url)) as client:
        body = push_body("our-task/app", 1)
        headers = gitea_headers(body)
        assert client.post("/hook", content=body, headers=headers).status_code == 202
        wait_for(lambda: client.get("/deliveries").json()[0]["status"] == "delivered", timeout=10,
                 what="the relay to deliver the hook")
        metrics = client.get("/metrics").text
    assert drone.delivered_ids() == [headers["X-Gitea-Delivery"]]
    assert "drone_kit_shim_hooks_delivered_total 1.0" in metrics


def test_a_body_over_max_body_is_refused_naming_the_limit(tmp_path, nowhere):
    client = TestClient(shim_app(tmp_path, nowhere, max_body=1000))
    body = push_body("our-task/app", 1)
    answer = client.post("/hook", content=body, headers={**gitea_headers(body), "Content-Length": str(len(body))})
    assert answer.status_code == 413 and answer.json() == {"message": "body over 1000 bytes"}


def test_deliveries_come_a_page_at_a_time(tmp_path, nowhere):
    client = TestClient(shim_app(tmp_path, nowhere))
    for n in range(5):
        body = push_body("our-task/app", n)
        client.post("/hook", content=body, headers=gitea_headers(body))
    first = client.get("/deliveries?limit=2")
    assert [hook["id"] for hook in first.json()] == [5, 4]
    assert first.headers["link"] == '</deliveries?limit=2&before=4>; rel="next"'
    second = client.get("/deliveries?limit=2&before=4")
    assert [hook["id"] for hook in second.json()] == [3, 2]
    assert [hook["id"] for hook in client.get("/deliveries?limit=2&before=2").json()] == [1]
    assert [hook["id"] for hook in client.get("/deliveries?status=pending").json()] == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("query, message", [
    ("limit=0", "limit: expected a whole number from 1 to 500, got '0'"),
    ("limit=100000", "limit: expected a whole number from 1 to 500, got '100000'"),
    ("limit=ten", "limit: expected a whole number from 1 to 500, got 'ten'"),
    ("before=-1", "before: expected a whole number from 1 to 9223372036854775807, got '-1'"),
    ("status=lost", "status: expected one of pending, sending, delivered, ignored, failed, got 'lost'"),
])
def test_a_bad_deliveries_query_names_the_parameter(tmp_path, nowhere, query, message):
    answer = TestClient(shim_app(tmp_path, nowhere)).get(f"/deliveries?{query}")
    assert answer.status_code == 400 and answer.json() == {"message": message}
