"""Can every node pull from the platform registry? Once the registry is up, one tiny pod per node
asks for an image tag nobody pushes: the registry answering "not found" over HTTP proves the
node reaches it the way k3s needs; "server gave HTTP response to HTTPS client" means that node
lacks registries.yaml. The pods are removed afterwards, whatever happened."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.platform import cluster_facts as facts
from drone_kit.platform.config import REGISTRY_NAMESPACE, PlatformConfig
from drone_kit.platform.findings import Finding, failed, ok, warning
from drone_kit.platform.k3s_fixes import registries_fix
from drone_kit.platform.objects import Obj, Resources
from drone_kit.rollouts.lines import pod_line

CHECK = "registry pull"
PROBE_PATH = "drone-kit/pull-check:probe"  # never pushed: its absence is the good answer
PROBE_RESOURCES = Resources("1m", "4Mi", "10m", "8Mi")
HTTPS_TO_HTTP = "server gave http response to https client"
UNREACHABLE = ("connection refused", "i/o timeout", "no route to host", "network is unreachable",
               "no such host", "context deadline exceeded", "connection reset")
ABSENT = ("manifest unknown", "not found")


def probe_image(config: PlatformConfig) -> str:
    return f"{config.registry_host}/{PROBE_PATH}"


def probe_pod(node: str, image: str, namespace: str, name: str) -> Obj:
    """Pure: a pod pinned to `node` (past the scheduler and any taint) that only pulls."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/name": "pull-check",
                                                                          "app.kubernetes.io/managed-by": "drone-kit"}},
            "spec": {"nodeName": node, "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                     "automountServiceAccountToken": False, "enableServiceLinks": False,
                     "tolerations": [{"operator": "Exists"}],
                     "containers": [{"name": "probe", "image": image, "imagePullPolicy": "Always",
                                     "resources": PROBE_RESOURCES.as_dict()}]}}


def judge_pull(pod: Obj, events: list[Obj], node: Obj, registry_host: str) -> Finding | None:
    """Pure: what the probe pod on `node` says about pulling from the registry; None while it
    has not said yet."""
    name = facts.name_of(node)
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    if any("running" in (s.get("state") or {}) or "terminated" in (s.get("state") or {}) for s in statuses) or \
            any(e.get("reason") == "Pulled" for e in events):
        return ok(CHECK, f"{name} pulls from {registry_host}")
    said = [str(w.get("message") or "") for s in statuses for w in [(s.get("state") or {}).get("waiting") or {}]]
    said += [str(e.get("message") or "") for e in events if e.get("reason") == "Failed"]
    text = "\n".join(said).lower()
    first = next((line for line in said if line and not line.startswith(("Error: ", "Back-off"))), "")
    if HTTPS_TO_HTTP in text:
        return failed(CHECK, f"{name} pulls from {registry_host} over HTTPS, but the registry serves plain HTTP: "
                      "its /etc/rancher/k3s/registries.yaml is missing or not read yet",
                      registries_fix(node, registry_host))
    if any(words in text for words in UNREACHABLE):
        return failed(CHECK, f"{name} cannot reach the registry at {registry_host}: {first}", [
            f"is the registry up (drone_kit status)? is server.address right, and NodePort {registry_host} open from "
            f"{name}? try there: curl http://{registry_host}/v2/"])
    if any(words in text for words in ABSENT):
        return ok(CHECK, f"{name} reaches {registry_host} over HTTP")
    if first:
        return warning(CHECK, f"{name}: the pull of the probe image failed: {first}")
    return None


def pull_check(cluster: ClusterObjects, config: PlatformConfig, namespace: str = REGISTRY_NAMESPACE,
               timeout: float = 90.0, sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> list[Finding]:
    """One probe pod per Ready node in `namespace` (which must exist), judged until each has
    answered or `timeout` passed; the pods are deleted in the end."""
    nodes = cluster.list_of("v1", "Node")
    findings = [warning(CHECK, f"{facts.name_of(n)} not checked: it is NotReady") for n in nodes
                if not facts.node_ready(n)]
    run = uuid.uuid4().hex[:6]
    probes = {f"dk-pull-check-{run}-{i}": node for i, node in enumerate(n for n in nodes if facts.node_ready(n))}
    verdicts: dict[str, Finding] = {}
    last: dict[str, Obj] = {}
    try:
        for pod_name, node in probes.items():
            cluster.create(probe_pod(facts.name_of(node), probe_image(config), namespace, pod_name))
        deadline = clock() + timeout
        while len(verdicts) < len(probes) and clock() < deadline:
            sleep(1.0)
            for pod_name, node in probes.items():
                pod = None if pod_name in verdicts else cluster.get("v1", "Pod", pod_name, namespace)
                if pod is None:
                    continue
                last[pod_name] = pod
                verdict = judge_pull(pod, cluster.events_of(namespace, "Pod", pod_name), node, config.registry_host)
                if verdict:
                    verdicts[pod_name] = verdict
    finally:
        for pod_name in probes:
            cluster.delete("v1", "Pod", pod_name, namespace, grace_seconds=0)
    for pod_name, node in probes.items():
        findings.append(verdicts.get(pod_name) or warning(
            CHECK, f"{facts.name_of(node)}: no answer within {timeout:.0f}s, the probe pod is "
                   f"{pod_line(last.get(pod_name, {}))}"))
    return findings
