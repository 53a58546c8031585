"""Facts read off Kubernetes objects as the API returns them (plain dicts): a node's readiness,
architecture, addresses and role; a Service's load-balancer addresses; a container's environment
as the kubelet would resolve it; whether an address is in the MetalLB pool. Pure."""

from __future__ import annotations

import base64
import binascii
import ipaddress

from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.objects import Obj

CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
ADDRESS_TYPES = ("InternalIP", "ExternalIP")


def name_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def namespace_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("namespace", ""))


def labels_of(obj: Obj) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def condition(obj: Obj, kind: str) -> Obj:
    """The status condition of that type; {} when there is none."""
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def node_ready(node: Obj) -> bool:
    return condition(node, "Ready").get("status") == "True"


def node_arch(node: Obj) -> str:
    info = (node.get("status") or {}).get("nodeInfo") or {}
    return str(info.get("architecture") or labels_of(node).get("kubernetes.io/arch") or "unknown")


def node_addresses(node: Obj) -> list[str]:
    return [a["address"] for a in (node.get("status") or {}).get("addresses") or []
            if a.get("type") in ADDRESS_TYPES and a.get("address")]


def is_control_plane(node: Obj) -> bool:
    labels = labels_of(node)
    return any(labels.get(label) in ("true", "") for label in CONTROL_PLANE_LABELS if label in labels)


def server_node(nodes: list[Obj], config: PlatformConfig) -> Obj | None:
    """The k3s server node: `server.node` by name, else the first control-plane node."""
    if config.server.node:
        return next((n for n in nodes if name_of(n) == config.server.node), None)
    return next((n for n in nodes if is_control_plane(n)), None)


def restart_command(node: Obj) -> str:
    """k3s runs as the `k3s` unit on servers and `k3s-agent` on agents."""
    return "sudo systemctl restart k3s" if is_control_plane(node) else "sudo systemctl restart k3s-agent"


def pool_ranges(pool: str) -> list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address,
                                         ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """MetalLB's pool notation ("first-last", a CIDR or one address; comma-separated) as
    (first, last) pairs; a part that is neither is left out."""
    ranges = []
    for part in (p.strip() for p in pool.split(",") if p.strip()):
        try:
            if "-" in part:
                first, last = (ipaddress.ip_address(end.strip()) for end in part.split("-", 1))
            else:
                network = ipaddress.ip_network(part, strict=False)
                first, last = network[0], network[-1]
        except ValueError:
            continue
        ranges.append((first, last))
    return ranges


def in_pool(address: str, pool: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(first.version == ip.version and first <= ip <= last  # type: ignore[operator]
               for first, last in pool_ranges(pool))


def load_balancer_ips(service: Obj) -> list[str]:
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return [entry["ip"] for entry in ingress if entry.get("ip")]


def _decoded(value: str) -> str:
    try:
        return base64.b64decode(value).decode(errors="replace")
    except (binascii.Error, ValueError):
        return ""


def container_env(container: Obj, namespace: str, config_maps: list[Obj], secrets: list[Obj]) -> dict[str, str]:
    """A container's environment as it starts: envFrom first, then env (which wins), values
    from ConfigMaps and Secrets looked up among those given; a reference not found is left out."""
    def source(kind: str, name: str) -> dict[str, str]:
        objects = config_maps if kind == "ConfigMap" else secrets
        found = next((o for o in objects if name_of(o) == name and namespace_of(o) == namespace), {})
        data = found.get("data") or {}
        return dict(data) if kind == "ConfigMap" else {key: _decoded(value) for key, value in data.items()}

    env: dict[str, str] = {}
    for entry in container.get("envFrom") or []:
        ref, kind = ((entry["configMapRef"], "ConfigMap") if entry.get("configMapRef") else
                     (entry.get("secretRef") or {}, "Secret"))
        prefix = entry.get("prefix") or ""
        env.update({prefix + key: value for key, value in source(kind, ref.get("name", "")).items()})
    for entry in container.get("env") or []:
        if "valueFrom" not in entry:
            env[entry["name"]] = str(entry.get("value", ""))
            continue
        value_from = entry.get("valueFrom") or {}
        ref, kind = ((value_from["configMapKeyRef"], "ConfigMap") if value_from.get("configMapKeyRef") else
                     (value_from.get("secretKeyRef") or {}, "Secret"))
        value = source(kind, ref.get("name", "")).get(ref.get("key", ""))
        if value is not None:
            env[entry["name"]] = value
    return env
