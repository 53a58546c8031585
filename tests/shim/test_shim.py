"""The webhook shim for real: uvicorn on loopback, a fake Drone and a fake Grafana, real payloads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drone_kit.shim.signatures import gitea_signature
from tests.fakes.drone import FakeDrone
from tests.fakes.http_server import FakeHandler, LoopbackServer
from tests.shim.support import (
    GITEA,
    SECRET,
    gitea_headers,
    hook_answer,
    push_body,
    running_shim,
    signed_drone_event,
    wait_for,
)

FIXTURES = ["push-branch.json", "push-tag.json", "create-tag.json"]
HEADER_TEXT = st.characters(min_codepoint=32, max_codepoint=126)  # what an HTTP client can send in a header


@pytest.fixture
def drone():
    fake = FakeDrone(SECRET)
    yield fake
    fake.down()


@pytest.fixture
def shim(tmp_path, drone):
    with running_shim(tmp_path, drone.url, drone_token=drone.token, webhook_secret="wh-secret") as url:
        yield url


def test_real_payloads_are_relayed_unchanged(shim, drone):
    sent = []
    for name in FIXTURES:
        body = (GITEA / name).read_bytes()
        event = json.loads((GITEA / "signatures.json").read_text())[name]["X-Gitea-Event"]
        headers = gitea_headers(body, event)
        answer = requests.post(f"{shim}/hook?secret={SECRET}", data=body, headers=headers, timeout=5)
        assert answer.status_code == 202, answer.text
        sent.append((headers["X-Gitea-Delivery"], body))
    wait_for(lambda: len(drone.deliveries) == 3, what="3 deliveries")
    for (delivery, body), got in zip(sent, drone.deliveries, strict=True):
        # The secret in the hook URL is never stored: the relay signs each hook with the configured one.
        assert got["delivery"] == delivery and got["body"] == body and got["query"] == ""
        sent_headers = {name.lower(): value for name, value in got["headers"].items()}
        assert sent_headers["x-gitea-signature"] == gitea_signature(body, SECRET)
    wait_for(lambda: [d["status"] for d in requests.get(f"{shim}/deliveries", timeout=5).json()] == ["delivered"] * 3,
             what="the outbox to show 3 delivered")
    listed = requests.get(f"{shim}/deliveries", timeout=5).json()
    assert SECRET not in json.dumps(listed)
    metrics = requests.get(f"{shim}/metrics", timeout=5).text
    assert 'drone_kit_shim_hooks_received_total{event="push"} 2.0' in metrics
    assert "drone_kit_shim_hooks_delivered_total 3.0" in metrics


def test_signature_in_the_query_when_the_header_is_empty(shim, drone):
    body = push_body("our-task/app", 1)
    headers = gitea_headers(body, secret="")
    assert requests.post(f"{shim}/hook?secret={SECRET}", data=body, headers=headers, timeout=5).status_code == 202
    assert requests.post(f"{shim}/hook?secret=nope", data=body, headers=headers, timeout=5).status_code == 401


@pytest.mark.parametrize("case, status, reason", [
    ("wrong signature", 401, "signature"), ("missing signature", 401, "signature"),
    ("oversize", 413, "too-large"), ("invalid json", 400, "not-json"),
])
def test_bad_hooks_are_refused(shim, drone, case, status, reason):
    body = push_body("our-task/app", 1)
    headers = gitea_headers(body)
    if case == "wrong signature":
        headers["X-Gitea-Signature"] = "0" * 64
    elif case == "missing signature":
        headers["X-Gitea-Signature"] = ""
    elif case == "oversize":
        body = b"{" + b" " * (6 * 1024 * 1024) + b"}"
    elif case == "invalid json":
        body = b"{not json"
        headers = gitea_headers(body)
    answer = requests.post(f"{shim}/hook", data=body, headers=headers, timeout=10)
    assert answer.status_code == status
    assert f'drone_kit_shim_hooks_rejected_total{{reason="{reason}"}} 1.0' in requests.get(f"{shim}/metrics").text
    time.sleep(0.3)
    assert drone.deliveries == []


def test_a_repeated_delivery_is_relayed_once(shim, drone):
    body = push_body("our-task/app", 7)
    headers = gitea_headers(body)
    answers = [hook_answer(requests.post(f"{shim}/hook", data=body, headers=headers, timeout=5)) for _ in range(3)]
    assert [duplicate for _, duplicate in answers] == [False, True, True]
    wait_for(lambda: len(drone.deliveries) == 1)
    time.sleep(0.3)
    assert len(drone.deliveries) == 1


def test_drone_down_for_30s_loses_nothing_and_keeps_order(tmp_path, drone):
    drone.down()
    with running_shim(tmp_path, drone.url) as shim:
        repos = [f"our-task/app{i}" for i in range(5)]
        expected = {repo: [] for repo in repos}
        session = requests.Session()
        started = time.monotonic()
        for n in range(500):
            repo = repos[n % 5]
            body = push_body(repo, n)
            headers = gitea_headers(body)
            assert session.post(f"{shim}/hook", data=body, headers=headers, timeout=5).status_code == 202
            expected[repo].append(headers["X-Gitea-Delivery"])
        time.sleep(max(0.0, 30 - (time.monotonic() - started)))
        assert drone.deliveries == []
        drone.up()
        wait_for(lambda: len(drone.deliveries) >= 500, timeout=60, what="500 deliveries")
        time.sleep(0.5)
    ids = drone.delivered_ids()
    assert len(ids) == len(set(ids)) == 500
    for repo in repos:
        assert [d["delivery"] for d in drone.deliveries if d["repo"] == repo] == expected[repo]


def test_sigkill_in_the_middle_loses_nothing_and_delivers_nothing_twice(tmp_path, drone):
    accepted = []
    port = None
    with running_shim(tmp_path, drone.url, drone_token=drone.token) as shim:
        port = int(shim.rsplit(":", 1)[1])
        session = requests.Session()
        victim = _shim_pid(port)
        for n in range(300):
            body = push_body(f"our-task/app{n % 3}", n)
            headers = gitea_headers(body)
            if n == 150:
                os.kill(victim, signal.SIGKILL)
                break
            assert session.post(shim + "/hook", data=body, headers=headers, timeout=5).status_code == 202
            accepted.append(headers["X-Gitea-Delivery"])
    with running_shim(tmp_path, drone.url, port=port, drone_token=drone.token):
        wait_for(lambda: len(set(drone.delivered_ids())) >= len(accepted), timeout=60, what="every accepted hook")
        time.sleep(0.5)
    ids = drone.delivered_ids()
    assert sorted(set(ids)) == sorted(accepted)
    assert len(ids) == len(set(ids)), "a push was delivered twice"


def _shim_pid(port: int) -> int:
    listening = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    for line in listening.splitlines():
        if "pid=" in line:
            return int(line.split("pid=")[1].split(",")[0])
    raise AssertionError("no process listens on the shim's port")


def test_cannot_find_repository_fails_then_replays(tmp_path, drone):
    drone.unknown_repos.add("our-task/new")
    with running_shim(tmp_path, drone.url) as shim:
        body = push_body("our-task/new", 1)
        requests.post(f"{shim}/hook", data=body, headers=gitea_headers(body), timeout=5)
        wait_for(lambda: requests.get(f"{shim}/deliveries").json()[0]["status"] == "failed", what="failed")
        failed = requests.get(f"{shim}/deliveries").json()[0]
        assert "Cannot find repository" in failed["error"]
        drone.unknown_repos.clear()
        replay = subprocess.run([sys.executable, "-m", "drone_kit", "shim", "replay", str(failed["id"]),
                                 "--outbox", str(tmp_path / "outbox.sqlite")], capture_output=True, text=True)
        assert replay.returncode == 0, replay.stderr
        assert "1 hook queued for delivery" in replay.stderr
        wait_for(lambda: len(drone.deliveries) == 1, what="the replayed hook")


def test_auto_activate_syncs_activates_and_retries(tmp_path, drone):
    drone.unknown_repos.add("our-task/new")
    with running_shim(tmp_path, drone.url, drone_token=drone.token, auto_activate="true") as shim:
        body = push_body("our-task/new", 1)
        requests.post(f"{shim}/hook", data=body, headers=gitea_headers(body), timeout=5)
        wait_for(lambda: len(drone.deliveries) == 1, what="delivery after activation")
    assert drone.syncs >= 1 and drone.activated == ["our-task/new"]


def test_a_slow_drone_does_not_slow_gitea_down(tmp_path, drone):
    drone.delay = 2.0  # Drone handles a hook synchronously: slow on a Raspberry Pi
    with running_shim(tmp_path, drone.url) as shim:
        took = []
        for n in range(3):
            body = push_body("our-task/app", n)
            started = time.monotonic()
            assert requests.post(f"{shim}/hook", data=body, headers=gitea_headers(body), timeout=5).status_code == 202
            took.append(time.monotonic() - started)
        assert max(took) < 0.5  # Gitea's delivery timeout is 5 s
        wait_for(lambda: len(drone.deliveries) == 3, timeout=30, what="all three, one after another")


def drone_event(build: dict, secret: str = "wh-secret") -> tuple[bytes, dict]:
    return signed_drone_event({"event": "build", "action": "updated", "repo": {"slug": "our-task/app"}, "build": build},
                              secret)


def test_drone_events_feed_metrics_and_grafana(tmp_path, drone):
    annotations = []

    class Grafana(FakeHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            annotations.append((self.headers.get("Authorization"), json.loads(body)))
            self.answer(200, {})

    now = int(time.time())
    with LoopbackServer(Grafana) as grafana, running_shim(tmp_path, drone.url, webhook_secret="wh-secret",
                                                          grafana_token="g-token", grafana_url=grafana.url) as shim:
        deploy_step = [{"steps": [{"name": "build"}, {"name": "deploy"}]}]
        for status, commit in (("failure", "a" * 40), ("success", "b" * 40)):
            body, headers = drone_event({"number": 4, "status": status, "event": "push", "target": "main",
                                         "after": commit, "link": "http://drone/x/4", "started": now - 100,
                                         "finished": now, "timestamp": now - 600, "stages": deploy_step})
            assert requests.post(f"{shim}/drone/events", data=body, headers=headers, timeout=5).status_code == 204
        body, headers = drone_event({"status": "success", "finished": now}, secret="wrong")
        assert requests.post(f"{shim}/drone/events", data=body, headers=headers, timeout=5).status_code == 401
        metrics = requests.get(f"{shim}/metrics", timeout=5).text
    assert 'drone_kit_builds_total{repo="our-task/app",status="success"} 1.0' in metrics
    assert 'drone_kit_deploys_total{repo="our-task/app",status="failure"} 1.0' in metrics
    assert 'drone_kit_change_failure_ratio{repo="our-task/app"} 0.5' in metrics
    assert 'drone_kit_lead_time_seconds_sum{repo="our-task/app"} 600.0' in metrics
    [(auth, annotation)] = annotations
    assert auth == "Bearer g-token"
    assert annotation["tags"] == ["deploy", "our-task/app", "main", "bbbbbbbb"]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=2000), event=st.text(alphabet=HEADER_TEXT, max_size=30),
       signature=st.text(alphabet=HEADER_TEXT, max_size=80), query=st.text(max_size=40))
def test_fuzzed_hooks_never_crash_the_shim(shim, body, event, signature, query):
    headers = {"X-Gitea-Event": event.strip(), "X-Gitea-Signature": signature.strip()}
    answer = requests.post(f"{shim}/hook", params={"secret": query}, data=body, headers=headers, timeout=5)
    assert answer.status_code in (202, 400, 401, 413)
    assert requests.get(f"{shim}/healthz", timeout=5).status_code == 200


def test_a_real_prometheus_scrapes_the_shim(shim, drone):
    from tests.stack.prometheus import running_prometheus
    from tests.stack.require import require_binary

    body = push_body("our-task/app", 1)
    requests.post(f"{shim}/hook", data=body, headers=gitea_headers(body), timeout=5)
    with running_prometheus(require_binary("prometheus", "prometheus"), [shim.removeprefix("http://")]) as prometheus:
        def received() -> list:
            answer = requests.get(f"{prometheus}/api/v1/query", params={"query": "drone_kit_shim_hooks_received_total"},
                                  timeout=5).json()
            return answer["data"]["result"]
        wait_for(lambda: received(), what="the metric in Prometheus")
        assert received()[0]["metric"]["event"] == "push" and received()[0]["value"][1] == "1"


def test_card_templates_are_served_for_drones_ui(shim):
    card = requests.get(f"{shim}/cards/deploy.json", timeout=5)
    assert card.status_code == 200 and card.json()["type"] == "AdaptiveCard"
    assert card.headers["Access-Control-Allow-Origin"] == "*"
    assert requests.get(f"{shim}/cards/nope.json", timeout=5).status_code == 404
