"""The verify plugin against a real app on loopback scraped by a real Prometheus; rollback and
soak through the fake Kubernetes API."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
import requests

from drone_kit.plugins.verify import VERIFY
from drone_kit.step.plugin import run_plugin
from drone_kit.step.results import read_result, write_result
from tests.fakes.kube_api import FakeCluster
from tests.rollouts.recordings import load
from tests.stack.prometheus import running_prometheus
from tests.stack.registry import free_port
from tests.stack.require import require_binary

RATIO = ('sum(rate(app_requests_total{{version="{v}",status=~"5.."}}[5s]) or vector(0))'
         ' / sum(rate(app_requests_total{{version="{v}"}}[5s]))')


@pytest.fixture(scope="module")
def app():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "tests.fakes.app:app", "--host", "127.0.0.1",
                                "--port", str(port), "--log-level", "warning"])
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{url}/version", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    stop = threading.Event()

    def traffic():  # steady load, so rates exist
        session = requests.Session()
        while not stop.is_set():
            session.get(url, timeout=2)
            time.sleep(0.05)

    threading.Thread(target=traffic, daemon=True).start()
    yield url
    stop.set()
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def prometheus(app):
    with running_prometheus(require_binary("prometheus", "prometheus"), [app.removeprefix("http://")]) as url:
        yield url


def become(app: str, version: str, mode: str = "ok", settle: float = 3.0) -> None:
    requests.post(f"{app}/control", json={"version": version, "mode": mode}, timeout=2)
    time.sleep(settle)  # a few scrapes of the new version


def verify(tmp_path, capsys, **settings):
    env = {"DRONE_WORKSPACE": str(tmp_path), "DRONE_COMMIT_SHA": "abcdef12" + "0" * 32, "DRONE_BUILD_NUMBER": "8",
           **{f"PLUGIN_{k.upper()}": v if isinstance(v, str) else json.dumps(v) for k, v in settings.items()}}
    code = run_plugin(VERIFY, env)
    out, err = capsys.readouterr()
    return code, err, read_result(tmp_path, "verify")


def ratio_query(version: str, **fields) -> list[dict]:
    return [{"name": "5xx ratio", "query": RATIO.format(v=version), "condition": "< 0.01", "interval": "1s",
             "count": 3, "failure_limit": 2, **fields}]


def test_a_healthy_new_version_passes(app, prometheus, tmp_path, capsys):
    become(app, "v2")
    code, err, result = verify(tmp_path, capsys, url=app, expect_body="hello from v2", version_url=f"{app}/version",
                               expect_version="v2", prometheus=prometheus, queries=ratio_query("v2"), rollback="false")
    assert code == 0, err
    assert result["outcome"] == "pass"
    assert f"PASS http {app}: 200 in" in err and "PASS version" in err
    assert "PASS 5xx ratio run 3/3: 0 (expected < 0.01" in err


def test_a_version_answering_5xx_fails_after_the_failure_limit_and_rolls_back(app, prometheus, tmp_path, capsys):
    become(app, "v3", "5xx")
    cluster = FakeCluster(load("success"))
    try:
        deployment = cluster.current["Deployment"]["web"]
        write_result(tmp_path, "deploy", {"namespace": "demo", "outcome": "success", "build_number": 8,
                                          "deployments": [{"name": "web", "from_image": "127.0.0.1:5000/demo/web:v1",
                                                           "to_image": cluster.image, "changed": True,
                                                           "template": deployment["spec"]["template"]}]})
        code, err, result = verify(tmp_path, capsys, prometheus=prometheus, queries=ratio_query("v3"),
                                   kubeconfig=cluster.kubeconfig())
    finally:
        cluster.close()
        become(app, "v1", settle=0)
    assert code == 1
    assert result["outcome"] == "fail" and result["rollback"] == "rolled-back"
    assert "FAIL 5xx ratio run 2/3: 1 (expected < 0.01; bad 2 of 2 allowed to fail)" in err
    assert "run 3/3" not in err  # decided at the failure limit
    assert "Error: verification failed: 5xx ratio:" in err and "rolled back" in err
    assert [kind for kind, _ in cluster.patches] == ["application/json-patch+json"]


def test_the_old_version_answering_fails_expect_version(app, tmp_path, capsys):
    become(app, "v1", settle=0)
    code, err, result = verify(tmp_path, capsys, url=app, version_header="X-App-Version", expect_version="v2",
                               attempts="2", interval="100ms", rollback="false")
    assert code == 1
    assert "X-App-Version is 'v1': the old version still answers?" in err
    assert result["checks"][0]["outcome"] == "fail"


@pytest.mark.parametrize("policy, code, outcome", [("pass", 0, "pass"), ("fail", 1, "fail"),
                                                    ("inconclusive", 1, "inconclusive")])
def test_an_empty_result_follows_its_policy(prometheus, tmp_path, capsys, policy, code, outcome):
    query = [{"name": "nothing", "query": 'sum(app_requests_total{version="never"})', "condition": "> 0",
              "interval": "1s", "count": 2, "on_empty": policy}]
    got, err, result = verify(tmp_path, capsys, prometheus=prometheus, queries=query, rollback="false")
    assert (got, result["outcome"]) == (code, outcome), err
    assert "nothing run 1/2: empty result" in err
    if outcome == "inconclusive":
        assert "Error: verification inconclusive" in err and "nothing was rolled back" in err


def test_an_invalid_query_shows_prometheus_error(prometheus, tmp_path, capsys):
    query = [{"name": "typo", "query": "sum(rate(app_requests_total[5s]", "condition": "< 1"}]
    code, err, _ = verify(tmp_path, capsys, prometheus=prometheus, queries=query, rollback="false")
    assert code == 1
    assert "Error: settings.queries (typo): Prometheus refused the query" in err and "bad_data" in err


def test_an_unreachable_prometheus(tmp_path, capsys):
    query = [{"name": "q", "query": "up", "condition": "> 0"}]
    code, err, _ = verify(tmp_path, capsys, prometheus=f"http://127.0.0.1:{free_port()}", queries=query,
                          rollback="false")
    assert code == 1 and "is unreachable" in err


def test_malformed_queries_name_the_key(tmp_path, capsys):
    code, err, _ = verify(tmp_path, capsys, prometheus="http://127.0.0.1:1",
                          queries=[{"name": "q", "query": "up", "condition": "soon", "count": "many"}])
    assert code == 2
    assert "settings.queries[0].condition: expected a comparison like '< 0.01' or '>= 1', got 'soon'" in err
    assert "settings.queries[0].count: expected a whole number >= 1, got 'many'" in err


def test_a_restart_during_the_soak_fails(tmp_path, capsys):
    cluster = FakeCluster(load("crashloop"))
    try:
        cluster.start()
        time.sleep(0.6)  # the new ReplicaSet and its pod exist
        write_result(tmp_path, "deploy", {"namespace": "demo", "deployments": [{
            "name": "web", "from_image": "127.0.0.1:5000/demo/web:v1", "template": None}]})
        code, err, result = verify(tmp_path, capsys, soak="10s", kubeconfig=cluster.kubeconfig(), rollback="false")
    finally:
        cluster.close()
    assert code == 1
    assert "FAIL soak: pod web-55bd5f7bfb-jmdq9 restarted (0 -> 1 restarts)" in err


def test_nothing_to_verify_is_an_error(tmp_path, capsys):
    code, err, result = verify(tmp_path, capsys)
    assert code == 2 and "Error: nothing to verify: set settings.url" in err and result is None
