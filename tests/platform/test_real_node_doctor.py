"""Pre-flight and `doctor` against the suite's real Kubernetes node, for the breakages that can be
produced there: servicelb's pods, a StorageClass that does not exist, a registry a node cannot
pull from (nothing listening; plain HTTP where the node's runtime speaks HTTPS)."""

from __future__ import annotations

import time
import uuid

import pytest

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.clients.kubeconfig import api_client
from drone_kit.platform.config import PlatformConfig, RegistrySection, ServerSection
from drone_kit.platform.doctor import doctor
from drone_kit.platform.findings import FAILED, OK, finding_lines
from drone_kit.platform.preflight_run import open_cluster, preflight
from drone_kit.platform.pull_check import pull_check
from tests.stack.kubernetes import NODE_NAME
from tests.stack.netns import netns_host
from tests.stack.registry import free_port, running_registry
from tests.stack.require import require_binary


@pytest.fixture(scope="module")
def cluster(kube_node) -> ClusterObjects:
    return ClusterObjects(api_client(kube_node.kubeconfig(), None, {}), log=print)


@pytest.fixture(scope="module")
def http_registry():
    """A plain-HTTP registry on a real, non-loopback address: the node's engine talks HTTPS to it."""
    with netns_host() as host, running_registry(require_binary("docker-registry", "docker-registry"),
                                                address=host.address, wrap=host.command, port=5000) as registry:
        yield registry


@pytest.fixture
def namespace(cluster):
    name = f"dk-doctor-{uuid.uuid4().hex[:6]}"
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    cluster.delete("v1", "Namespace", name)


def config_for(registry_host: str, storage_class: str = "dk-no-such-class") -> PlatformConfig:
    address, port = registry_host.rsplit(":", 1)
    return PlatformConfig(server=ServerSection(address=address, node=NODE_NAME, storage_class=storage_class),
                          registry=RegistrySection(node_port=int(port)))


def pod(name: str, namespace: str, image: str, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace,
                                                            "labels": labels or {}},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                "name": "main", "image": image, "command": ["sleep", "3600"],
                "resources": {"limits": {"cpu": "50m", "memory": "16Mi"}}}]}}


def by_check(findings, check):
    return [f for f in findings if f.check == check]


def test_preflight_finds_a_missing_storage_class_and_servicelb_pods(cluster, base_image, registry):
    findings = preflight(cluster, config_for(registry.host))
    print("\n".join(finding_lines(findings)))
    assert by_check(findings, "api")[0].status == OK
    assert [f.status for f in by_check(findings, "nodes")] == [OK]
    assert by_check(findings, "nodes")[0].message.startswith(f"{NODE_NAME}: Ready, ")
    assert by_check(findings, "server node")[0].status != FAILED
    missing = by_check(findings, "storage class")[0]
    assert missing.status == FAILED and "StorageClass dk-no-such-class (server.storage_class) does not exist" in \
        missing.message
    assert by_check(findings, "servicelb")[0].status == OK

    name = f"svclb-traefik-{uuid.uuid4().hex[:6]}"
    cluster.create(pod(name, "kube-system", base_image, {"svccontroller.k3s.cattle.io/svcname": "traefik"}))
    try:
        servicelb = by_check(preflight(cluster, config_for(registry.host)), "servicelb")[0]
        assert servicelb.status == FAILED and "1 svclb pod(s)" in servicelb.message
        assert "  disable:" in servicelb.fix and "    - servicelb" in servicelb.fix
        diagnosed = by_check(doctor(cluster, config_for(registry.host)), "servicelb")
        assert [f.status for f in diagnosed] == [FAILED]
    finally:
        cluster.delete("v1", "Pod", name, "kube-system", grace_seconds=0)


def test_preflight_through_a_kubeconfig_file_and_an_api_that_does_not_answer(kube_node, registry, tmp_path):
    path = tmp_path / "kubeconfig.yaml"
    path.write_text(kube_node.kubeconfig())
    opened, how = open_cluster(str(path), {}, print)
    assert opened is not None and how.status == OK and how.message == f"{path} (given with --kubeconfig)"
    assert by_check(preflight(opened, config_for(registry.host), str(path)), "api")[0].status == OK
    gone = kube_node.kubeconfig().replace(kube_node.server, f"https://127.0.0.1:{free_port()}")
    silent = ClusterObjects(api_client(gone, None, {}), log=print, attempts=1)
    findings = preflight(silent, config_for(registry.host), str(path))
    assert [(f.check, f.status) for f in findings] == [("api", FAILED)]
    assert findings[0].message.startswith("cannot reach the Kubernetes API at https://127.0.0.1:")
    assert any("replace it in `server:`" in line for line in findings[0].fix)


def probes_left(cluster, namespace) -> list[str]:
    return [p["metadata"]["name"] for p in cluster.list_of("v1", "Pod", namespace, "app.kubernetes.io/name=pull-check")
            if not p["metadata"].get("deletionTimestamp")]


def test_the_node_pulls_from_the_suite_s_registry(cluster, registry, namespace):
    findings = pull_check(cluster, config_for(registry.host), namespace, timeout=60)
    assert [(f.status, f.message) for f in findings] == [(OK, f"{NODE_NAME} reaches {registry.host} over HTTP")]
    assert probes_left(cluster, namespace) == []


def test_a_registry_nothing_listens_on_is_unreachable(cluster, namespace):
    host = f"127.0.0.1:{free_port()}"
    findings = pull_check(cluster, config_for(host), namespace, timeout=60)
    assert [f.status for f in findings] == [FAILED]
    assert findings[0].message.startswith(f"{NODE_NAME} cannot reach the registry at {host}: ")
    assert "connection refused" in findings[0].message
    assert probes_left(cluster, namespace) == []


def test_a_plain_http_registry_gets_the_node_s_registries_yaml(cluster, http_registry, namespace):
    findings = pull_check(cluster, config_for(http_registry.host), namespace, timeout=60)
    assert [f.status for f in findings] == [FAILED], findings
    fix = findings[0].fix
    assert fix[0].startswith(f"On node {NODE_NAME}, write /etc/rancher/k3s/registries.yaml")
    assert f'    "{http_registry.host}":' in fix and f'        - "http://{http_registry.host}"' in fix
    assert fix[-1] in ("then: sudo systemctl restart k3s", "then: sudo systemctl restart k3s-agent")
    assert probes_left(cluster, namespace) == []


def test_doctor_diagnoses_a_pod_pulling_over_https(cluster, http_registry, namespace, registry):
    cluster.create(pod("app", namespace, f"{http_registry.host}/our-task/app:v1"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = (cluster.get("v1", "Pod", "app", namespace) or {}).get("status", {}).get("containerStatuses") or []
        if any("HTTPS client" in (s["state"].get("waiting") or {}).get("message", "") for s in statuses):
            break
        time.sleep(1)
    findings = doctor(cluster, config_for(registry.host))
    print("\n".join(finding_lines(findings)))
    pulls = [f for f in by_check(findings, "https pulls") if http_registry.host in f.message]
    assert len(pulls) == 1 and pulls[0].status == FAILED
    assert pulls[0].message.startswith(f"{NODE_NAME} pulls from {http_registry.host} over HTTPS")
    assert f"{namespace}/app" in pulls[0].message
    assert f'        - "http://{http_registry.host}"' in pulls[0].fix
    assert len(by_check(findings, "pi basics")) == 1 and by_check(findings, "pi basics")[0].status == OK
