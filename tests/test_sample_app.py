"""The sample app: its endpoints and failure switches, served for real; its image, built from a
local base, answering on loopback; its Kubernetes manifests."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import requests
import yaml

from tests.shim.support import wait_for
from tests.stack.processes import answers, stop, wait_until_ready
from tests.stack.project_images import ROOT, sample_app_image
from tests.stack.registry import free_port

APP = ROOT / "sample-app"


@contextlib.contextmanager
def serving(tmp_path: Path, **env: str):
    port = free_port()
    log = tmp_path / f"app-{port}.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen([sys.executable, str(APP / "app.py")], stdout=handle, stderr=subprocess.STDOUT,
                                   env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env})
    url = f"http://127.0.0.1:{port}"

    try:
        wait_until_ready(process, lambda: answers(f"{url}/healthz"), "sample-app", log, 20)
        yield url
    finally:
        stop(process)


def test_endpoints(tmp_path):
    with serving(tmp_path, APP_VERSION="v7", APP_COMMIT="abc1234") as url:
        page = requests.get(url, timeout=5)
        assert page.status_code == 200 and "v7" in page.text and "abc1234" in page.text
        version = requests.get(f"{url}/version", timeout=5)
        assert version.text.strip() == "v7" and version.headers["X-App-Version"] == "v7"
        assert requests.get(f"{url}/readyz", timeout=5).json() == {"ready": True}
        requests.get(f"{url}/nope", timeout=5)
        metrics = requests.get(f"{url}/metrics", timeout=5).text
    assert 'http_requests_total{path="/",status="200"} 1.0' in metrics
    assert 'http_requests_total{path="other",status="404"} 1.0' in metrics
    assert re.search(r'http_request_duration_seconds_count\{path="/version"\} 1\.0', metrics)


def test_failure_switches(tmp_path):
    with serving(tmp_path, APP_FAIL="5xx") as url:
        assert requests.get(url, timeout=5).status_code == 500
        assert requests.get(f"{url}/readyz", timeout=5).status_code == 200
    with serving(tmp_path, APP_FAIL="unready") as url:
        assert requests.get(f"{url}/readyz", timeout=5).status_code == 503
        assert requests.get(url, timeout=5).status_code == 200
    crashed = subprocess.run([sys.executable, str(APP / "app.py")], env={**os.environ, "APP_FAIL": "crash"},
                             capture_output=True, text=True, timeout=30)
    assert crashed.returncode == 3 and "APP_FAIL=crash" in crashed.stderr


def test_image_builds_from_a_local_base_and_answers(engine, tmp_path):
    image = engine.client.images.get(sample_app_image(engine, "v9", "feedbee"))
    assert image.attrs["Config"]["User"] == "10001:10001"
    assert image.attrs["Config"]["Labels"]["org.opencontainers.image.version"] == "v9"
    port = free_port()
    container = engine.client.containers.run(image.id, network_mode="host", detach=True,
                                             environment={"PORT": str(port), "HOST": "127.0.0.1"})
    try:
        url = f"http://127.0.0.1:{port}"

        def serving() -> bool:
            container.reload()
            assert container.status == "running", container.logs().decode()
            return answers(f"{url}/version")

        wait_for(serving, timeout=30, what="the sample app's container")
        assert requests.get(f"{url}/version", timeout=5).text.strip() == "v9"
    finally:
        container.remove(force=True)


def test_manifests_roll_safely_and_are_scraped():
    deployment = yaml.safe_load((APP / "k8s" / "deployment.yaml").read_text())
    service = yaml.safe_load((APP / "k8s" / "service.yaml").read_text())
    spec = deployment["spec"]
    assert spec["replicas"] == 2 and spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    container = spec["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["limits"] and container["resources"]["requests"]
    assert spec["template"]["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert service["spec"]["type"] == "LoadBalancer" and service["spec"]["selector"] == {"app": "sample-app"}
