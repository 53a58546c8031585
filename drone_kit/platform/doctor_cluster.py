"""`doctor`'s checks of the cluster underneath the platform (platform.md §9): 1 pulls over HTTPS,
3 servicelb or another LoadBalancer on our addresses, 7 exec format errors, 10 Raspberry Pi
basics. Pure."""

from __future__ import annotations

from drone_kit.platform import cluster_facts as facts
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.doctor_view import ClusterView
from drone_kit.platform.findings import Finding, failed, ok, warning
from drone_kit.platform.k3s_fixes import memory_cgroup_fix, registries_fix
from drone_kit.platform.objects import PART_OF, Obj
from drone_kit.platform.preflight import SVCLB_LABEL, servicelb_finding
from drone_kit.rollouts.diagnosis import HTTPS_TO_HTTP

EXEC_FORMAT = "exec format error"
HOSTNAME = "kubernetes.io/hostname"


def _node(view: ClusterView, name: str) -> Obj | None:
    return next((n for n in view.nodes if facts.name_of(n) == name), None)


def _pod(view: ClusterView, namespace: str, name: str) -> Obj:
    return next((p for p in view.pods if facts.name_of(p) == name and facts.namespace_of(p) == namespace), {})


def _waiting_messages(pod: Obj) -> list[str]:
    return [str(((s.get("state") or {}).get("waiting") or {}).get("message") or "")
            for s in (pod.get("status") or {}).get("containerStatuses") or []]


def https_pulls(view: ClusterView) -> list[Finding]:
    """1: a node's runtime talks HTTPS to the plain-HTTP registry (no registries.yaml there)."""
    broken: dict[tuple[str, str], set[str]] = {}  # (node, registry) -> pods
    sources = [(facts.namespace_of(p), facts.name_of(p), m) for p in view.pods for m in _waiting_messages(p)]
    sources += [(e["involvedObject"].get("namespace", ""), e["involvedObject"].get("name", ""), e.get("message") or "")
                for e in view.events if (e.get("involvedObject") or {}).get("kind") == "Pod"]
    for namespace, name, message in sources:
        match = HTTPS_TO_HTTP.search(message)
        live = _pod(view, namespace, name)
        if match and live:  # events outlive their pods by an hour: a deleted pod's are history
            node = (live.get("spec") or {}).get("nodeName", "")
            broken.setdefault((node, match.group(1)), set()).add(f"{namespace}/{name}")
    if not broken:
        return [ok("https pulls", "no pull failed with \"server gave HTTP response to HTTPS client\"")]
    return [failed("https pulls", f"{node or 'a node'} pulls from {host} over HTTPS, but it serves plain HTTP "
                   f"(pods {', '.join(sorted(pods))})",
                   [*registries_fix(_node(view, node), host),
                    "if the file is there already, the real error is in /var/lib/rancher/k3s/agent/containerd/"
                    "containerd.log on that node (the HTTPS default is tried last, so its error is the one shown)"])
            for (node, host), pods in sorted(broken.items())]


def load_balancers(view: ClusterView, config: PlatformConfig) -> list[Finding]:
    """3: servicelb still on, or another LoadBalancer (Traefik) holding one of our addresses."""
    svclb = [p for p in view.pods if SVCLB_LABEL in facts.labels_of(p)]
    findings = [servicelb_finding(svclb, view.daemonsets)]
    ours = {config.gitea.ip: "gitea.ip", config.drone.ip: "drone.ip", config.monitoring.grafana_ip: "grafana_ip"}
    for service in view.services:
        where = f"{facts.namespace_of(service)}/{facts.name_of(service)}"
        if facts.labels_of(service).get("app.kubernetes.io/part-of") == PART_OF:
            continue
        for ip in facts.load_balancer_ips(service):
            if ip in ours:
                findings.append(failed("load balancers", f"Service {where} holds {ip}, the platform's {ours[ip]}", [
                    f"kubectl -n {facts.namespace_of(service)} delete service {facts.name_of(service)}, or give it "
                    "another address (or disable Traefik: add traefik to `disable:` in /etc/rancher/k3s/config.yaml)"]))
            elif facts.name_of(service) == "traefik" and facts.in_pool(ip, config.metallb.pool):
                findings.append(warning("load balancers", f"k3s's Traefik ({where}) took {ip} from the pool", [
                    "add traefik to `disable:` in /etc/rancher/k3s/config.yaml and sudo systemctl restart k3s, "
                    "if you do not use it"]))
    return findings


def exec_format(view: ClusterView) -> list[Finding]:
    """7: a binary built for another architecture than its node's."""
    findings = []
    for pod in view.pods:
        namespace, name = facts.namespace_of(pod), facts.name_of(pod)
        events = " ".join(e.get("message") or "" for e in view.events if (e.get("involvedObject") or {}).get("name")
                          == name and (e.get("involvedObject") or {}).get("namespace") == namespace)
        for container in (pod.get("spec") or {}).get("containers") or []:
            status: Obj = next((s for s in (pod.get("status") or {}).get("containerStatuses") or []
                                if s.get("name") == container["name"]), {})
            ended = [((status.get(k) or {}).get("terminated") or {}).get("message") or ""
                     for k in ("state", "lastState")]
            said = " ".join([view.logs.get(f"{namespace}/{name}/{container['name']}", ""), events, *ended])
            if EXEC_FORMAT not in said.lower():
                continue
            node_name = (pod.get("spec") or {}).get("nodeName", "")
            node = _node(view, node_name)
            arch = facts.node_arch(node) if node else "unknown"
            findings.append(failed("architecture", f"{namespace}/{name} ({container['image']}) on {node_name}, "
                                   f"an {arch} node: exec format error, the image has no {arch} build", [
                "build it for both: docker buildx build --platform linux/amd64,linux/arm64 ... --push",
                f"or keep it on nodes it runs on: nodeSelector kubernetes.io/arch: "
                f"{'amd64' if arch == 'arm64' else 'arm64'}"]))
    return findings or [ok("architecture", "no exec format error")]


def pi_basics(view: ClusterView) -> list[Finding]:
    """10: a node without the memory cgroup (k3s exits at start, so the node stops reporting), and
    node-pinned volumes whose node is down."""
    findings = []
    for node in view.nodes:
        name, ready = facts.name_of(node), facts.condition(node, "Ready")
        memory = str(((node.get("status") or {}).get("capacity") or {}).get("memory", ""))
        cgroup_events = [e for e in view.events if (e.get("involvedObject") or {}).get("kind") == "Node" and
                         (e.get("involvedObject") or {}).get("name") == name and
                         "cgroup" in (e.get("message") or "").lower() and "memory" in (e.get("message") or "").lower()]
        if memory in ("", "0") or cgroup_events:
            said = cgroup_events[-1].get("message") if cgroup_events else f"memory capacity {memory or 'unreported'}"
            findings.append(failed("pi basics", f"{name} runs without the memory cgroup ({said})",
                                   memory_cgroup_fix(name)))
        elif ready.get("reason") == "NodeStatusUnknown":
            findings.append(warning("pi basics", f"{name} stopped reporting ({ready.get('message')}): k3s there is "
                                    "down or unreachable", memory_cgroup_fix(name)))
    for volume in view.volumes:
        claim, pinned = (volume.get("spec") or {}).get("claimRef") or {}, _pinned_node(volume)
        host = _node(view, pinned) if pinned else None
        if pinned and claim and (host is None or not facts.node_ready(host)):
            state = "gone" if host is None else "NotReady"
            findings.append(failed("pi basics", f"claim {claim.get('namespace')}/{claim.get('name')} lives on "
                                   f"{pinned}, which is {state}: its pods cannot start elsewhere",
                                   [f"bring {pinned} back; node-local data (local-path) cannot follow a pod "
                                    "to another node"]))
    return findings or [ok("pi basics", "every node has its memory cgroup; no volume is stranded")]


def _pinned_node(volume: Obj) -> str:
    """Pure: the one node a node-local PersistentVolume (local-path, local) lives on; '' for none."""
    terms = ((((volume.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {})
             .get("nodeSelectorTerms") or [])
    for term in terms:
        for expression in term.get("matchExpressions") or []:
            if expression.get("key") == HOSTNAME and expression.get("operator") == "In" and expression.get("values"):
                return str(expression["values"][0])
    return ""
