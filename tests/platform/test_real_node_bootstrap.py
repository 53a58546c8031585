"""`drone_kit bootstrap` against the suite's real Kubernetes node, run as an operator runs it (the
command, a platform.yaml, a kubeconfig). The node cannot pull upstream images, so platform.yaml's
image overrides point at the stand-ins of tests/platform/standins.py and metallb_standin.py; the
platform registry's NodePort is a real registry process on 127.0.0.1:<node port>, which is where
the node reaches it; MetalLB's manifest is "downloaded" from a loopback server.

One platform is installed for the module, in the order an operator would meet things: MetalLB
whose webhook does not serve yet (the run waits, then stops with the webhook's own error); a run
SIGKILLed half-way; a run that converges; a second run that changes nothing.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s

from drone_kit import __version__
from drone_kit.platform import catalog
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.config_file import load_config
from drone_kit.platform.upstream_manifest import parse_manifest
from tests.paths import METALLB_MANIFEST
from tests.platform.conftest import provide_volumes
from tests.platform.metallb_standin import CertificateInjector, metallb_images, without_cel_rules
from tests.stack.project_images import import_base, project_image
from tests.stack.registry import running_registry
from tests.stack.require import require_binary

FIXTURE = METALLB_MANIFEST
DRONE_KIT = [sys.executable, "-m", "drone_kit"]


def free_node_port() -> int:
    """A free loopback port in Kubernetes' NodePort range (30000-32767)."""
    for port in range(30500, 32767):
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            return port
    raise RuntimeError("no free port in the NodePort range")


@contextlib.contextmanager
def serving(directory: Path):
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Platform:
    config: Path
    kubeconfig: Path
    env: dict[str, str]
    runs: list[subprocess.CompletedProcess]  # the module's runs so far, in order
    manifest: str  # MetalLB's, as served to bootstrap
    manifest_server: str

    def run(self, *args: str, config: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([*DRONE_KIT, *args, "--config", str(config or self.config), "--kubeconfig",
                               str(self.kubeconfig)], env=self.env, capture_output=True, text=True, timeout=timeout)


def platform_yaml(pool_host: str, node_port: int, images: dict[str, str], manifest_url: str, storage_class: str,
                  sha256: str, **timeouts: float) -> str:
    return yaml.safe_dump({
        "server": {"address": "127.0.0.1", "node": "localhost", "storage_class": storage_class},
        "metallb": {"pool": f"{pool_host}.200-{pool_host}.210", "manifest_url": manifest_url, "manifest_sha256": sha256,
                    "webhook_timeout": timeouts.get("webhook", 180)},
        "registry": {"node_port": node_port},
        "gitea": {"ip": f"{pool_host}.201"}, "drone": {"ip": f"{pool_host}.202"},
        "monitoring": {"grafana_ip": f"{pool_host}.203"},
        "images": images, "timeouts": {"ready": timeouts.get("ready", 300)},
    })


def push_shim(engine, registry_host: str) -> None:
    """The shim's real image where bootstrap looks for it: <registry>/drone-kit/shim:<version>."""
    target = f"{registry_host}/drone-kit/shim"
    engine.client.images.get(project_image(engine, "shim")).tag(target, __version__)
    for line in engine.client.api.push(target, __version__, stream=True, decode=True):
        assert "error" not in line, line


@pytest.fixture(scope="module")
def platform(tmp_path_factory, kube_node, engine, registry, base_image, standin_images, platform_cluster,
             storage_class, volume_root):
    if not FIXTURE.is_file():
        pytest.skip(f"MetalLB's reference manifest is not here ({FIXTURE}); see its README")
    work = tmp_path_factory.mktemp("platform")
    (work / "manifests").mkdir()
    (work / "manifests" / "metallb-native.yaml").write_bytes(FIXTURE.read_bytes())
    manifest_for_node = yaml.safe_dump_all(without_cel_rules(parse_manifest(FIXTURE.read_text())))
    (work / "manifests" / "metallb-for-1.20.yaml").write_text(manifest_for_node)
    kubeconfig = work / "kubeconfig"
    kubeconfig.write_text(kube_node.kubeconfig())
    controller, speaker = metallb_images(engine.client, registry, import_base(engine))
    images = {**standin_images, "metallb_controller": controller, "metallb_speaker": speaker}
    port = free_node_port()
    env = {**os.environ, "CI": "true", "XDG_CACHE_HOME": str(work / "cache"), "KUBECONFIG": "/nonexistent"}
    with serving(work / "manifests") as url, running_registry(require_binary("docker-registry", "docker-registry"),
                                                               port=port) as node_registry:
        push_shim(engine, node_registry.host)
        text = platform_yaml("10.254.0", port, images, f"{url}/metallb-for-1.20.yaml", storage_class,
                             sha256=hashlib.sha256(manifest_for_node.encode()).hexdigest())
        (work / "platform.yaml").write_text(text)
        config = load_config(text)
        plan = catalog.plan(config, list(catalog.COMPONENTS), lambda c, component: parse_manifest(manifest_for_node))
        provide_volumes(platform_cluster, volume_root, [obj for p in plan for obj in p.objects])
        yield Platform(work / "platform.yaml", kubeconfig, env, [], manifest_for_node, url)


def test_an_api_server_too_old_for_metallb_is_refused_before_anything(platform, tmp_path, platform_cluster):
    published = tmp_path / "platform.yaml"
    document = yaml.safe_load(platform.config.read_text())
    document["metallb"].update(manifest_url=f"{platform.manifest_server}/metallb-native.yaml",
                               manifest_sha256=PlatformConfig().metallb.manifest_sha256)
    published.write_text(yaml.safe_dump(document))
    result = platform.run("bootstrap", config=published)
    assert result.returncode == 1
    assert "FAILED   kubernetes version: the cluster runs Kubernetes v1.20.2, but " in result.stderr
    assert "use x-kubernetes-validations, which needs 1.25 or later" in result.stderr
    assert "INSTALL_K3S_CHANNEL=stable" in result.stderr and "nothing was applied" in result.stderr
    assert platform_cluster.get("v1", "Namespace", "metallb-system") is None


def test_metallb_whose_webhook_does_not_serve_yet_is_waited_for_then_reported(platform, tmp_path, platform_cluster):
    config = tmp_path / "platform.yaml"
    config.write_text(platform.config.read_text().replace("webhook_timeout: 180", "webhook_timeout: 20"))
    with CertificateInjector(platform_cluster.api_client, certificate=False):
        result = platform.run("bootstrap", "--only", "metallb", config=config)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "metallb: waiting for the admission webhook to serve" in result.stderr
    assert "timed out after 20s waiting for the webhook to accept IPAddressPool metallb-system/homelab-pool" in (
        result.stderr)
    # the API server's own words about the webhook, not a guess
    assert "the webhook's last answer: " in result.stderr and "failed calling webhook" in result.stderr
    assert "Traceback" not in result.stderr
    pools = k8s.CustomObjectsApi(platform_cluster.api_client).list_namespaced_custom_object(
        "metallb.io", "v1beta1", "metallb-system", "ipaddresspools")
    assert pools["items"] == []  # nothing the webhook has not accepted


def test_a_run_killed_half_way_converges_on_the_next(platform, platform_cluster):
    with CertificateInjector(platform_cluster.api_client):
        process = subprocess.Popen([*DRONE_KIT, "bootstrap", "--config", str(platform.config), "--kubeconfig",
                                    str(platform.kubeconfig)], env=platform.env, stderr=subprocess.PIPE, text=True)
        seen = []
        for line in process.stderr:  # type: ignore[union-attr]
            seen.append(line)
            if line.startswith("gitea: applying"):
                process.send_signal(signal.SIGKILL)
                break
        process.wait(30)
        assert process.returncode == -signal.SIGKILL
        assert any(line.startswith("registry: ready") for line in seen), "".join(seen)
        result = platform.run("bootstrap")
    platform.runs.append(result)
    assert result.returncode == 0, result.stdout + result.stderr
    names = [component.name for component in catalog.COMPONENTS]
    ready = [line.split(":")[0] for line in result.stderr.splitlines() if ": ready " in line]
    assert ready == names  # each one after the one before it, each one really ready
    status = platform.run("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "NOT READY" not in status.stdout


def live_versions(cluster, plan) -> dict[str, str]:
    versions = {}
    for planned in plan:
        for obj in planned.objects:
            meta = obj["metadata"]
            live = cluster.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
            versions[f"{obj['kind']} {meta.get('namespace')}/{meta['name']}"] = live["metadata"]["resourceVersion"]
    return versions


def secret_values(cluster) -> dict[str, dict]:
    return {f"{s['metadata']['namespace']}/{s['metadata']['name']}": s.get("data") for s in
            cluster.list_of("v1", "Secret", label_selector="app.kubernetes.io/managed-by=drone-kit")}


def test_a_second_run_changes_nothing_and_keeps_every_secret(platform, platform_cluster):
    assert platform.runs and platform.runs[-1].returncode == 0, "needs the converged platform"
    config = load_config(platform.config.read_text())
    plan = catalog.plan(config, list(catalog.COMPONENTS), lambda c, component: parse_manifest(platform.manifest))
    before, secrets = live_versions(platform_cluster, plan), secret_values(platform_cluster)
    assert len(secrets) >= 5
    started = time.monotonic()
    result = platform.run("bootstrap")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"bootstrap: 0 of {len(before)} objects changed; 0 secrets generated" in result.stdout
    assert live_versions(platform_cluster, plan) == before
    assert secret_values(platform_cluster) == secrets
    print(f"no-change re-run: {elapsed:.1f}s")


def test_metallb_keeps_what_its_controller_filled_in(platform, platform_cluster):
    assert platform.runs, "needs the converged platform"
    cert = platform_cluster.get("v1", "Secret", "metallb-webhook-cert", "metallb-system")
    assert base64.b64decode(cert["data"]["tls.crt"]).startswith(b"-----BEGIN CERTIFICATE")
    hooks = platform_cluster.get("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration",
                                 "metallb-webhook-configuration")
    assert all(hook["clientConfig"].get("caBundle") for hook in hooks["webhooks"])


def test_a_component_that_never_becomes_ready_stops_the_run_with_its_events(platform, tmp_path):
    assert platform.runs, "needs the converged platform"
    broken = tmp_path / "platform.yaml"
    document = yaml.safe_load(platform.config.read_text())
    document["images"]["grafana"] = document["images"]["grafana"].rsplit(":", 1)[0] + ":no-such-tag"
    document["timeouts"]["ready"] = 40
    broken.write_text(yaml.safe_dump(document))
    try:
        result = platform.run("bootstrap", "--only", "grafana", config=broken)
        assert result.returncode == 1
        assert "grafana: timed out after 40s waiting for Deployment monitoring/grafana" in result.stderr
        assert "no-such-tag" in result.stderr and ("ErrImagePull" in result.stderr or "BackOff" in result.stderr)
        assert "Hint: fix what the lines above show" in result.stderr
    finally:
        restored = platform.run("bootstrap", "--only", "grafana")
        assert restored.returncode == 0, restored.stderr
