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
import signal
import subprocess
import time

import pytest
import yaml
from kubernetes import client as k8s

from drone_kit.platform import catalog
from drone_kit.platform.changes import changed_paths
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.config_file import load_config
from drone_kit.platform.upstream_manifest import parse_manifest
from tests.paths import METALLB_MANIFEST
from tests.platform.metallb_standin import CertificateInjector
from tests.platform.platform_stack import BOOTSTRAP, DRONE_KIT, prepared_platform

FIXTURE = METALLB_MANIFEST


@pytest.fixture(scope="module")
def platform(tmp_path_factory, kube_node, engine, registry, base_image, standin_images, platform_cluster,
             storage_class, volume_root):
    if not FIXTURE.is_file():
        pytest.skip(f"MetalLB's reference manifest is not here ({FIXTURE}); see its README")
    with prepared_platform(tmp_path_factory.mktemp("platform"), kube_node, engine, registry, standin_images,
                           platform_cluster, storage_class, volume_root) as platform:
        yield platform


def crash_of(node) -> str:
    """The first lines of a control-plane program's crash, if one crashed."""
    found = []
    for name, path in node.logs.items():
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        starts = [i for i, line in enumerate(lines) if line.startswith(("panic:", "fatal error:", "F1", "E1"))]
        found += [f"--- {name}:", *(line for i in starts[-8:] for line in lines[i:i + 12])]
    return "\n".join(found)


def test_an_api_server_too_old_for_metallb_is_refused_before_anything(platform, tmp_path, platform_cluster):
    published = tmp_path / "platform.yaml"
    document = yaml.safe_load(platform.config.read_text())
    document["metallb"].update(manifest_url=f"{platform.manifest_server}/metallb-native.yaml",
                               manifest_sha256=PlatformConfig().metallb.manifest_sha256)
    published.write_text(yaml.safe_dump(document))
    result = platform.run(*BOOTSTRAP, config=published)
    assert result.returncode == 1
    assert "FAILED   kubernetes version: the cluster runs Kubernetes v1.20.2, but " in result.stderr
    assert "use x-kubernetes-validations, which needs 1.25 or later" in result.stderr
    assert "INSTALL_K3S_CHANNEL=stable" in result.stderr and "nothing was applied" in result.stderr
    assert platform_cluster.get("v1", "Namespace", "metallb-system") is None


def test_metallb_whose_webhook_does_not_serve_yet_is_waited_for_then_reported(platform, tmp_path, platform_cluster):
    config = tmp_path / "platform.yaml"
    config.write_text(platform.config.read_text().replace("webhook_timeout: 180", "webhook_timeout: 20"))
    with CertificateInjector(platform_cluster.api_client, certificate=False):
        result = platform.run(*BOOTSTRAP, "--only", "metallb", config=config)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "metallb: failed timed out waiting for the webhook to accept IPAddressPool metallb-system/homelab-pool" in (
        result.stderr)
    assert "timed out after 20s waiting for the webhook" in result.stderr and "metallb.webhook_timeout" in result.stderr
    # the API server's own words about the webhook, not a guess
    assert "the webhook's last answer: " in result.stderr and "failed calling webhook" in result.stderr
    assert "Traceback" not in result.stderr
    pools = k8s.CustomObjectsApi(platform_cluster.api_client).list_namespaced_custom_object(
        "metallb.io", "v1beta1", "metallb-system", "ipaddresspools")
    assert pools["items"] == []  # nothing the webhook has not accepted


def test_a_run_killed_half_way_converges_on_the_next(platform, platform_cluster, kube_node):
    with CertificateInjector(platform_cluster.api_client):
        process = subprocess.Popen([*DRONE_KIT, *BOOTSTRAP, "--config", str(platform.config), "--kubeconfig",
                                    str(platform.kubeconfig)], env=platform.env, stderr=subprocess.PIPE, text=True)
        seen = []
        for line in process.stderr:  # type: ignore[union-attr]
            seen.append(line)
            if line.startswith("gitea: applying"):
                process.send_signal(signal.SIGKILL)
                break
        process.wait(30)
        process.stderr.close()  # type: ignore[union-attr]
        assert process.returncode == -signal.SIGKILL, "".join(seen) + crash_of(kube_node)
        assert any(line.startswith("registry: ready") for line in seen), "".join(seen)
        result = platform.run(*BOOTSTRAP)
    platform.runs.append(result)
    assert result.returncode == 0, result.stdout + result.stderr + crash_of(kube_node)
    names = [component.name for component in catalog.COMPONENTS]
    ready = [line.split(":")[0] for line in result.stderr.splitlines() if ": ready " in line]
    assert ready == names  # each one after the one before it, each one really ready
    status = platform.run("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "NOT READY" not in status.stdout


def live_objects(cluster, plan) -> dict[str, dict]:
    found = {}
    for planned in plan:
        for obj in planned.objects:
            meta = obj["metadata"]
            live = cluster.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
            found[f"{obj['kind']} {meta.get('namespace')}/{meta['name']}"] = live
    return found


def versions_of(objects: dict[str, dict]) -> dict[str, str]:
    return {what: live["metadata"]["resourceVersion"] for what, live in objects.items()}


def what_moved(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    """For a failure message: each object whose resourceVersion moved, with the fields that did
    (managedFields included: a change of owner alone moves it too)."""
    moved = [what for what in before if versions_of(before)[what] != versions_of(after)[what]]
    return [f"{what}: {changed_paths(before[what], after[what])}" for what in moved]


def secret_values(cluster) -> dict[str, dict]:
    return {f"{s['metadata']['namespace']}/{s['metadata']['name']}": s.get("data") for s in
            cluster.list_of("v1", "Secret", label_selector="app.kubernetes.io/managed-by=drone-kit")}


def test_a_second_run_changes_nothing_and_keeps_every_secret(platform, platform_cluster):
    assert platform.runs and platform.runs[-1].returncode == 0, "needs the converged platform"
    config = load_config(platform.config.read_text())
    plan = catalog.plan(config, list(catalog.COMPONENTS), lambda c, component: parse_manifest(platform.manifest))
    before, secrets = live_objects(platform_cluster, plan), secret_values(platform_cluster)
    assert len(secrets) >= 5
    started = time.monotonic()
    result = platform.run(*BOOTSTRAP)
    elapsed = time.monotonic() - started
    platform.runs.append(result)
    assert result.returncode == 0, result.stdout + result.stderr
    after = live_objects(platform_cluster, plan)
    assert f"bootstrap: 0 of {len(before)} objects changed; 0 secrets generated" in result.stdout, (
        what_moved(before, after))
    assert versions_of(after) == versions_of(before)
    assert secret_values(platform_cluster) == secrets
    print(f"no-change re-run: {elapsed:.1f}s")


def test_metallb_keeps_what_its_controller_filled_in(platform, platform_cluster):
    assert platform.runs, "needs the converged platform"
    cert = platform_cluster.get("v1", "Secret", "metallb-webhook-cert", "metallb-system")
    assert base64.b64decode(cert["data"]["tls.crt"]).startswith(b"-----BEGIN CERTIFICATE")
    hooks = platform_cluster.get("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration",
                                 "metallb-webhook-configuration")
    assert all(hook["clientConfig"].get("caBundle") for hook in hooks["webhooks"])


def no_grafana(cluster, timeout: float = 300) -> None:
    """Grafana's Deployment deleted and its pods gone: Grafana's rollout is Recreate, so a run
    that changes it first waits for the old pod to stop, which a loaded node can take long to do,
    and the run's 40 s would be spent before the new pod ever tries to pull."""
    cluster.delete("apps/v1", "Deployment", "grafana", "monitoring")
    deadline = time.monotonic() + timeout
    while cluster.list_of("v1", "Pod", "monitoring", label_selector="app.kubernetes.io/name=grafana"):
        assert time.monotonic() < deadline, "grafana's pods never went away"
        time.sleep(1)


def test_a_component_that_never_becomes_ready_stops_the_run_with_its_events(platform, platform_cluster, tmp_path):
    assert platform.runs, "needs the converged platform"
    no_grafana(platform_cluster)
    broken = tmp_path / "platform.yaml"
    document = yaml.safe_load(platform.config.read_text())
    document["images"]["grafana"] = document["images"]["grafana"].rsplit(":", 1)[0] + ":no-such-tag"
    document["timeouts"]["ready"] = 40
    broken.write_text(yaml.safe_dump(document))
    try:
        result = platform.run(*BOOTSTRAP, "--only", "grafana", config=broken)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "grafana: timed out after 40s waiting for Deployment monitoring/grafana" in result.stderr, result.stderr
        assert "no-such-tag" in result.stderr and ("ErrImagePull" in result.stderr or "BackOff" in result.stderr), (
            result.stderr)
        assert "Hint: fix what the lines above show" in result.stderr
    finally:
        restored = platform.run(*BOOTSTRAP, "--only", "grafana")
        assert restored.returncode == 0, restored.stderr


def test_diff_shows_what_would_change_field_by_field_and_applies_nothing(platform, platform_cluster, tmp_path):
    assert platform.runs, "needs the converged platform"
    changed = tmp_path / "platform.yaml"
    document = yaml.safe_load(platform.config.read_text())
    document.setdefault("monitoring", {})["prometheus_retention"] = "3d"
    changed.write_text(yaml.safe_dump(document))
    before = platform_cluster.get("apps/v1", "Deployment", "prometheus", "monitoring")["metadata"]["resourceVersion"]
    result = platform.run(*BOOTSTRAP, "--diff", config=changed)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    update = lines.index("~ update    Deployment monitoring/prometheus")
    assert lines[update + 1].strip().startswith("spec.template.spec.containers[0].args")
    assert "= unchanged Deployment gitea/gitea" in lines
    assert lines[-1].startswith("0 to create, 1 to update, ")
    after = platform_cluster.get("apps/v1", "Deployment", "prometheus", "monitoring")["metadata"]["resourceVersion"]
    assert after == before


def test_no_generated_secret_is_ever_printed(platform, platform_cluster):
    assert platform.runs, "needs the converged platform"
    values = [base64.b64decode(value).decode() for data in secret_values(platform_cluster).values()
              for value in (data or {}).values()]
    values = [value for value in values if len(value) >= 16]  # random ones, not user names
    assert len(values) >= 8
    printed = "".join(run.stdout + run.stderr for run in platform.runs)
    printed += platform.run("status").stdout + platform.run(*BOOTSTRAP, "--dry-run").stdout
    assert not [value for value in values if value in printed]
