"""Pre-flight: before anything is applied, is this a cluster the platform can live on? Which
kubeconfig, every node Ready and of a supported architecture, the configured StorageClass,
servicelb off, the MetalLB pool clear of the nodes' own addresses, the server node known.
Every check is pure, over the objects the API returned; `preflight_run` gathers them."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from drone_kit.platform import cluster_facts as facts
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.findings import Finding, failed, ok, warning
from drone_kit.platform.k3s_fixes import K3S_CONFIG, install_k3s_fix, servicelb_fix
from drone_kit.platform.objects import Obj

K3S_KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
SVCLB_LABEL = "svccontroller.k3s.cattle.io/svcname"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
ARCHITECTURES = ("amd64", "arm64")  # what the pinned upstream images are built for


def choose_kubeconfig(explicit: str | None, environ: Mapping[str, str],
                      exists: Callable[[str], bool]) -> tuple[str | None, str]:
    """Pure: (path, why) of the kubeconfig to use: --kubeconfig, then k3s's own (on the server
    node), then the first existing file of KUBECONFIG, then ~/.kube/config; (None, why) for none."""
    if explicit:
        return explicit, "given with --kubeconfig"
    if exists(K3S_KUBECONFIG):
        return K3S_KUBECONFIG, "k3s's own kubeconfig (this is the k3s server)"
    for path in (p for p in environ.get("KUBECONFIG", "").split(":") if p):
        if exists(path):
            return path, "from KUBECONFIG"
    home_config = f"{environ['HOME']}/.kube/config" if environ.get("HOME") else ""
    if home_config and exists(home_config):
        return home_config, "the user's ~/.kube/config"
    looked = [K3S_KUBECONFIG, *(["KUBECONFIG=" + environ["KUBECONFIG"]] if environ.get("KUBECONFIG") else []),
              *([home_config] if home_config else [])]
    return None, f"no kubeconfig found (looked at {', '.join(looked)})"


def no_cluster(why: str) -> Finding:
    return failed("kubeconfig", f"{why}: is there a k3s cluster yet?", install_k3s_fix())


def node_findings(nodes: list[Obj]) -> list[Finding]:
    if not nodes:
        return [failed("nodes", "the cluster has no nodes", ["on the server: sudo systemctl status k3s"])]
    findings = []
    for node in nodes:
        name, arch = facts.name_of(node), facts.node_arch(node)
        if not facts.node_ready(node):
            ready = facts.condition(node, "Ready")
            why = f" ({ready.get('reason')}: {ready.get('message')})" if ready else ""
            unit = "k3s" if facts.is_control_plane(node) else "k3s-agent"
            findings.append(failed("nodes", f"{name} is NotReady{why}, {arch}", [
                f"on {name}: sudo systemctl status {unit}; its journal says why (journalctl -u {unit})"]))
        elif arch not in ARCHITECTURES:
            findings.append(warning("nodes", f"{name}: Ready, {arch}: the platform's images exist for "
                                    f"{' and '.join(ARCHITECTURES)} only", [
                f"install a 64-bit OS on {name} (Raspberry Pi OS 64-bit), or keep the platform off it"]))
        else:
            findings.append(ok("nodes", f"{name}: Ready, {arch}"))
    return findings


def storage_class_finding(classes: list[Obj], config: PlatformConfig) -> Finding:
    wanted = config.server.storage_class
    defaults = [facts.name_of(c) for c in classes
                if (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
    if not any(facts.name_of(c) == wanted for c in classes):
        existing = ", ".join(sorted(facts.name_of(c) for c in classes)) or "none"
        return failed("storage class", f"StorageClass {wanted} (server.storage_class) does not exist; "
                      f"the cluster has: {existing}", [
            f"set server.storage_class in platform.yaml to one that exists, or bring back k3s's local-path: "
            f"remove local-storage from `disable:` in {K3S_CONFIG} and sudo systemctl restart k3s"])
    if wanted in defaults:
        return ok("storage class", f"StorageClass {wanted} exists and is the default")
    if defaults:
        return ok("storage class", f"StorageClass {wanted} exists (the default is {', '.join(defaults)})")
    return warning("storage class", f"StorageClass {wanted} exists, but no StorageClass is the default: "
                   "claims that name none stay Pending", [
        f"kubectl patch storageclass {wanted} -p "
        f"'{{\"metadata\":{{\"annotations\":{{\"{DEFAULT_CLASS}\":\"true\"}}}}}}'"])


def servicelb_finding(svclb_pods: list[Obj], daemonsets: list[Obj]) -> Finding:
    """`svclb_pods`: pods labelled by k3s's service load balancer; `daemonsets`: kube-system's."""
    owners = {(facts.namespace_of(pod), ref["name"]) for pod in svclb_pods
              for ref in pod["metadata"].get("ownerReferences") or [] if ref.get("kind") == "DaemonSet"}
    owners |= {(facts.namespace_of(d), facts.name_of(d)) for d in daemonsets if facts.name_of(d).startswith("svclb-")}
    if not svclb_pods and not owners:
        return ok("servicelb", "k3s's servicelb is off (no svclb pods)")
    found = f"{len(svclb_pods)} svclb pod(s)" if svclb_pods else f"DaemonSet(s) {', '.join(n for _, n in owners)}"
    return failed("servicelb", f"k3s's servicelb is on ({found}): it takes LoadBalancer Services before MetalLB can",
                  servicelb_fix(sorted(owners)))


def pool_finding(nodes: list[Obj], config: PlatformConfig) -> Finding:
    pool = config.metallb.pool
    if not facts.pool_ranges(pool):
        return failed("metallb pool", f"metallb.pool {pool!r} is neither first-last nor a CIDR",
                      ["write it like 192.168.1.200-192.168.1.210 or 192.168.1.192/28"])
    taken = [f"{facts.name_of(n)} ({address})" for n in nodes for address in facts.node_addresses(n)
             if facts.in_pool(address, pool)]
    if taken:
        return failed("metallb pool", f"metallb.pool {pool} includes node addresses: {', '.join(taken)}", [
            "set metallb.pool in platform.yaml to free addresses of the nodes' LAN, outside the router's DHCP range"])
    return ok("metallb pool", f"{pool} is clear of the nodes' addresses")


def server_finding(nodes: list[Obj], config: PlatformConfig) -> Finding:
    server = facts.server_node(nodes, config)
    names = ", ".join(facts.name_of(n) for n in nodes) or "none"
    if server is None:
        what = (f"no node is named {config.server.node} (server.node)" if config.server.node else
                "no node is labelled as control plane and server.node is not set")
        return failed("server node", f"{what}; nodes: {names}", ["set server.node in platform.yaml to the k3s "
                                                                   "server's node name"])
    addresses = facts.node_addresses(server)
    if config.server.address not in addresses:
        return warning("server node", f"server.address {config.server.address} is not an address of "
                       f"{facts.name_of(server)} ({', '.join(addresses) or 'none'}): image names and the "
                       "registry's NodePort use it",
                       ["set server.address in platform.yaml to the server's LAN address"])
    return ok("server node", f"{facts.name_of(server)} at {config.server.address}")


def preflight_findings(config: PlatformConfig, nodes: list[Obj], classes: list[Obj], svclb_pods: list[Obj],
                       daemonsets: list[Obj]) -> list[Finding]:
    """Pure: every cluster check of pre-flight, in the order they are shown."""
    return [*node_findings(nodes), server_finding(nodes, config), storage_class_finding(classes, config),
            servicelb_finding(svclb_pods, daemonsets), pool_finding(nodes, config)]
