"""Pre-flight's pure checks on hand-written and recorded API objects, the registry pull verdicts on
a real node's recorded events, and registries.yaml written into files."""

from __future__ import annotations

import json
import stat
from dataclasses import replace

import pytest
import yaml

from drone_kit.errors import DroneKitError
from drone_kit.platform.config import MetallbSection, PlatformConfig, ServerSection
from drone_kit.platform.findings import FAILED, OK, WARNING, finding_lines, worst
from drone_kit.platform.preflight import (
    choose_kubeconfig,
    no_cluster,
    node_findings,
    pool_finding,
    preflight_findings,
    server_finding,
    servicelb_finding,
    storage_class_finding,
)
from drone_kit.platform.preflight_run import open_cluster
from drone_kit.platform.pull_check import judge_pull, probe_image, probe_pod
from drone_kit.platform.registries_file import merged_registries, registries_yaml, write_registries_yaml
from tests.paths import FIXTURES

CONFIG = PlatformConfig()


def node(name: str, arch: str = "arm64", ready: bool = True, address: str = "192.168.1.70",
         control_plane: bool = True, reason: str = "KubeletReady") -> dict:
    labels = {"kubernetes.io/arch": arch}
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = "true"
    return {"kind": "Node", "metadata": {"name": name, "labels": labels},
            "status": {"nodeInfo": {"architecture": arch}, "capacity": {"memory": "3880000Ki"},
                       "addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": name}],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown", "reason": reason,
                                       "message": "Kubelet stopped posting node status." if not ready else ""}]}}


def storage_class(name: str, default: bool = False) -> dict:
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {"kind": "StorageClass", "metadata": {"name": name, "annotations": annotations}}


def svclb_pod(namespace: str = "kube-system", daemonset: str = "svclb-traefik-a1b2c3") -> dict:
    return {"kind": "Pod", "metadata": {"name": f"{daemonset}-x7k2p", "namespace": namespace,
                                        "labels": {"svccontroller.k3s.cattle.io/svcname": "traefik"},
                                        "ownerReferences": [{"kind": "DaemonSet", "name": daemonset}]}}


def test_the_kubeconfig_is_k3s_s_own_then_kubeconfig_then_the_users():
    everything = {"/etc/rancher/k3s/k3s.yaml", "/tmp/b", "/home/pi/.kube/config"}
    environ = {"KUBECONFIG": "/tmp/a:/tmp/b", "HOME": "/home/pi"}
    assert choose_kubeconfig("/x/given", environ, everything.__contains__) == ("/x/given", "given with --kubeconfig")
    assert choose_kubeconfig(None, environ, everything.__contains__)[0] == "/etc/rancher/k3s/k3s.yaml"
    without_k3s = everything - {"/etc/rancher/k3s/k3s.yaml"}
    assert choose_kubeconfig(None, environ, without_k3s.__contains__) == ("/tmp/b", "from KUBECONFIG")
    assert choose_kubeconfig(None, {"HOME": "/home/pi"}, without_k3s.__contains__)[0] == "/home/pi/.kube/config"
    path, why = choose_kubeconfig(None, environ, lambda _: False)
    assert path is None and "/etc/rancher/k3s/k3s.yaml" in why and "KUBECONFIG=/tmp/a:/tmp/b" in why


def test_no_cluster_explains_how_to_get_k3s_without_servicelb():
    finding = no_cluster("no kubeconfig found")
    assert finding.status == FAILED
    assert ("  curl -sfL https://get.k3s.io | sh -s - --disable servicelb --disable traefik "
            "--write-kubeconfig-mode 644") in finding.fix
    text = "\n".join(finding.fix)
    assert "/etc/rancher/k3s/config.yaml" in text and "  - servicelb" in text


def test_nodes_ready_with_their_architecture():
    findings = node_findings([node("pi-server"), node("nuc", "amd64", address="192.168.1.71", control_plane=False),
                              node("pi-zero", "arm", address="192.168.1.72", control_plane=False),
                              node("pi-agent", ready=False, reason="NodeStatusUnknown", control_plane=False)])
    assert [(f.status, f.message.split(":")[0].split(" ")[0]) for f in findings] == [
        (OK, "pi-server"), (OK, "nuc"), (WARNING, "pi-zero"), (FAILED, "pi-agent")]
    assert findings[0].message == "pi-server: Ready, arm64"
    assert "NodeStatusUnknown" in findings[3].message and "k3s-agent" in findings[3].fix[0]
    assert node_findings([])[0].status == FAILED


def test_the_configured_storage_class_must_exist_and_a_default_is_wanted():
    missing = storage_class_finding([storage_class("nfs", default=True)], CONFIG)
    assert missing.status == FAILED and "local-path" in missing.message and "nfs" in missing.message
    assert storage_class_finding([storage_class("local-path", default=True)], CONFIG).message.endswith("is the default")
    assert storage_class_finding([storage_class("local-path"), storage_class("nfs", True)], CONFIG).status == OK
    no_default = storage_class_finding([storage_class("local-path")], CONFIG)
    assert no_default.status == WARNING and "kubectl patch storageclass local-path" in no_default.fix[0]


def test_servicelb_on_gives_the_exact_instruction():
    assert servicelb_finding([], []).status == OK
    found = servicelb_finding([svclb_pod()], [])
    assert found.status == FAILED and "1 svclb pod" in found.message
    assert "  kubectl -n kube-system delete daemonset svclb-traefik-a1b2c3" in found.fix
    assert "    - servicelb" in found.fix and "then: sudo systemctl restart k3s" in found.fix
    by_daemonset = servicelb_finding([], [{"metadata": {"name": "svclb-gitea", "namespace": "kube-system"}},
                                          {"metadata": {"name": "kube-proxy", "namespace": "kube-system"}}])
    assert by_daemonset.status == FAILED and "svclb-gitea" in by_daemonset.message
    assert "kube-proxy" not in "\n".join(by_daemonset.fix)


def test_the_pool_must_not_hold_a_node_address():
    assert pool_finding([node("pi-server")], CONFIG).status == OK
    clash = pool_finding([node("pi-server"), node("pi-agent", address="192.168.1.205")], CONFIG)
    assert clash.status == FAILED and "pi-agent (192.168.1.205)" in clash.message
    as_cidr = replace(CONFIG, metallb=MetallbSection(pool="192.168.1.64/28"))
    assert pool_finding([node("pi-server")], as_cidr).status == FAILED
    assert pool_finding([], replace(CONFIG, metallb=MetallbSection(pool="lots"))).status == FAILED


def test_the_server_node_by_name_or_control_plane_label():
    nodes = [node("pi-server"), node("pi-agent", address="192.168.1.71", control_plane=False)]
    assert server_finding(nodes, CONFIG).message == "pi-server at 192.168.1.70"
    named = replace(CONFIG, server=ServerSection(node="pi-3"))
    unknown = server_finding(nodes, named)
    assert unknown.status == FAILED and "no node is named pi-3" in unknown.message
    assert "pi-server, pi-agent" in unknown.message
    assert server_finding(nodes[1:], CONFIG).status == FAILED
    moved = replace(CONFIG, server=ServerSection(address="192.168.1.99"))
    assert server_finding(nodes, moved).status == WARNING


def test_all_checks_together_and_how_they_print():
    findings = preflight_findings(CONFIG, [node("pi-server")], [storage_class("local-path", True)], [svclb_pod()], [])
    assert worst(findings) == FAILED and [f.check for f in findings] == [
        "nodes", "server node", "storage class", "servicelb", "metallb pool"]
    lines = finding_lines(findings)
    assert lines[0] == "OK       nodes: pi-server: Ready, arm64"
    assert any(line.startswith("FAILED   servicelb: ") for line in lines)


# --- the registry pull check, judged on what a real kubelet said (tests/fixtures/k8s-rollouts) ---

def recorded(name: str, pod_prefix: str) -> tuple[dict, list[dict]]:
    """The last state of the recording's pod whose name starts with `pod_prefix`, and its events."""
    rows = [json.loads(line) for line in (FIXTURES / "k8s-rollouts" / f"{name}.jsonl").read_text().splitlines()]
    pods = [r["object"] for r in rows if r["kind"] == "Pod" and r["object"]["metadata"]["name"].startswith(pod_prefix)]
    events = [r["object"] for r in rows if r["kind"] == "Event"
              and r["object"]["involvedObject"]["name"].startswith(pod_prefix)]
    return pods[-1], events


def test_https_to_a_plain_http_registry_gives_that_node_s_registries_yaml():
    pod, events = recorded("registry-http-vs-https", "web-7bf744779f")
    agent = node("lab-node", control_plane=False)
    verdict = judge_pull(pod, events, agent, "10.231.0.2:5000")
    assert verdict is not None and verdict.status == FAILED and "over HTTPS" in verdict.message
    assert verdict.fix[0].startswith("On node lab-node, write /etc/rancher/k3s/registries.yaml")
    assert yaml.safe_load("\n".join(line[2:] for line in verdict.fix[1:5])) == {
        "mirrors": {"10.231.0.2:5000": {"endpoint": ["http://10.231.0.2:5000"]}}}
    assert verdict.fix[-1] == "then: sudo systemctl restart k3s-agent"
    server = judge_pull(pod, events, node("lab-node"), "10.231.0.2:5000")
    assert server is not None and server.fix[-1] == "then: sudo systemctl restart k3s"


def test_manifest_unknown_means_the_node_reaches_the_registry():
    pod, events = recorded("image-pull-missing", "web-56b4b8c5c7")
    verdict = judge_pull(pod, events, node("lab-node"), "127.0.0.1:5000")
    assert verdict is not None and verdict.status == OK and "over HTTP" in verdict.message


def test_refused_pulled_and_not_yet():
    refused = {"status": {"containerStatuses": [{"name": "probe", "state": {"waiting": {
        "reason": "ErrImagePull", "message": 'rpc error: code = Unknown desc = Error response from daemon: '
                                             'Get "https://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: '
                                             'connection refused'}}}]}}
    verdict = judge_pull(refused, [], node("pi"), "127.0.0.1:1")
    assert verdict is not None and verdict.status == FAILED and "cannot reach" in verdict.message
    assert "curl http://127.0.0.1:1/v2/" in verdict.fix[0]
    pulled = judge_pull({"status": {}}, [{"reason": "Pulled", "message": "Successfully pulled"}], node("pi"), "r:1")
    assert pulled is not None and pulled.status == OK
    assert judge_pull({"status": {"phase": "Pending"}}, [{"reason": "Scheduled"}], node("pi"), "r:1") is None


def test_the_probe_pod_only_pulls_on_its_node():
    pod = probe_pod("pi-agent", probe_image(CONFIG), "registry", "dk-pull-check-1")
    spec = pod["spec"]
    assert spec["nodeName"] == "pi-agent" and spec["restartPolicy"] == "Never"
    assert spec["containers"][0]["image"] == "192.168.1.70:30500/drone-kit/pull-check:probe"
    assert spec["containers"][0]["imagePullPolicy"] == "Always"
    assert spec["containers"][0]["resources"]["limits"]["memory"] == "8Mi"


# --- registries.yaml ---

def test_registries_yaml_is_k3s_s_mirror_entry():
    text = registries_yaml("192.168.1.70:30500")
    assert text == ('mirrors:\n  "192.168.1.70:30500":\n    endpoint:\n      - "http://192.168.1.70:30500"\n')
    assert merged_registries(text, "192.168.1.70:30500") is None


def test_writing_creates_the_file(tmp_path):
    path = tmp_path / "k3s" / "registries.yaml"
    assert write_registries_yaml(path, "192.168.1.70:30500") is True
    assert path.read_text() == registries_yaml("192.168.1.70:30500")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    inode = path.stat().st_ino
    assert write_registries_yaml(path, "192.168.1.70:30500") is False
    assert path.stat().st_ino == inode  # not rewritten


def test_writing_merges_into_an_existing_file_and_keeps_its_mode(tmp_path):
    path = tmp_path / "registries.yaml"
    path.write_text('mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example"]\n'
                    '  "192.168.1.70:30500":\n    endpoint: ["https://192.168.1.70:30500"]\n'
                    '    rewrite: {"^a/(.*)": "b/$1"}\n'
                    'configs:\n  "ghcr.io":\n    auth: {username: me, password: secret}\n')
    path.chmod(0o600)
    assert write_registries_yaml(path, "192.168.1.70:30500") is True
    document = yaml.safe_load(path.read_text())
    assert document["mirrors"]["192.168.1.70:30500"] == {"endpoint": ["http://192.168.1.70:30500"],
                                                         "rewrite": {"^a/(.*)": "b/$1"}}
    assert document["mirrors"]["docker.io"] == {"endpoint": ["https://mirror.example"]}
    assert document["configs"] == {"ghcr.io": {"auth": {"username": "me", "password": "secret"}}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["registries.yaml"]  # no temporary file left


def test_a_file_that_is_not_a_mapping_is_left_alone(tmp_path):
    path = tmp_path / "registries.yaml"
    for text in ("mirrors: [a, b]\n", "- just\n- a list\n", "mirrors: {a: [\n"):
        path.write_text(text)
        with pytest.raises(DroneKitError):
            write_registries_yaml(path, "192.168.1.70:30500")
        assert path.read_text() == text


def test_a_kubeconfig_that_cannot_be_used_is_a_finding(tmp_path):
    missing, finding = open_cluster(str(tmp_path / "nope.yaml"), {}, print)
    assert missing is None and finding.status == FAILED and "cannot read" in finding.message
    (tmp_path / "notes.yaml").write_text("shopping: [milk]\n")
    cluster, finding = open_cluster(str(tmp_path / "notes.yaml"), {}, print)
    assert cluster is None and finding.status == FAILED and "not a usable kubeconfig" in finding.message
