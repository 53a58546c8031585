"""Pure: an object as server-side apply needs it written. Ports are lists keyed by (port,
protocol), and an API server that predates defaulting keys inside apply refuses a port that
leaves `protocol` out ("associative list with keys has an element that omits key field
protocol"); published manifests (MetalLB's) leave it out. TCP is what the server would set."""

from __future__ import annotations

import copy

from drone_kit.platform.footprint import pod_spec
from drone_kit.platform.objects import Obj


def _with_protocol(ports: list[Obj]) -> list[Obj]:
    return [{**port, "protocol": port.get("protocol") or "TCP"} for port in ports]


def with_defaulted_keys(obj: Obj) -> Obj:
    if obj.get("kind") == "Service" and (obj.get("spec") or {}).get("ports"):
        obj = copy.deepcopy(obj)
        obj["spec"]["ports"] = _with_protocol(obj["spec"]["ports"])
    spec = pod_spec(obj)
    if spec and any(c.get("ports") for c in [*spec.get("containers", []), *spec.get("initContainers", [])]):
        obj = copy.deepcopy(obj)
        spec = pod_spec(obj) or {}
        for container in [*spec.get("containers", []), *spec.get("initContainers", [])]:
            if container.get("ports"):
                container["ports"] = _with_protocol(container["ports"])
    return obj
