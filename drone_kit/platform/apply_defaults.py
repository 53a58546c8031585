"""Pure: an object as server-side apply needs it written, so that applying it is accepted and
applying it again is a no-op.

- Ports are lists keyed by (port, protocol), and an API server that predates defaulting keys
  inside apply refuses a port that leaves `protocol` out ("associative list with keys has an
  element that omits key field protocol"); published manifests (MetalLB's) leave it out. TCP is
  what the server would set.
- Quantities in the form the server stores them (see quantities.py), and no null values
  (generated manifests carry `creationTimestamp: null`): either one merges as a change into the
  live object, which the server then writes back unchanged but for a new resourceVersion.
"""

from __future__ import annotations

import copy
from typing import Any

from drone_kit.platform.footprint import pod_spec
from drone_kit.platform.objects import Obj
from drone_kit.platform.quantities import canonical, is_quantity


def _with_protocol(ports: list[Obj]) -> list[Obj]:
    return [{**port, "protocol": port.get("protocol") or "TCP"} for port in ports]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(inner) for key, inner in value.items() if inner is not None}
    if isinstance(value, list):
        return [_without_nulls(inner) for inner in value]
    return value


def _canonical_amounts(resources: Obj) -> None:
    for amounts in (resources.get(key) or {} for key in ("requests", "limits")):
        for name, amount in amounts.items():
            if isinstance(amount, (str, int)) and is_quantity(str(amount)):
                amounts[name] = canonical(amount)


def with_defaulted_keys(obj: Obj) -> Obj:
    obj = _without_nulls(copy.deepcopy(obj))
    if obj.get("kind") == "Service" and (obj.get("spec") or {}).get("ports"):
        obj["spec"]["ports"] = _with_protocol(obj["spec"]["ports"])
    if obj.get("kind") == "PersistentVolumeClaim":
        _canonical_amounts((obj.get("spec") or {}).get("resources") or {})
    spec = pod_spec(obj) or {}
    for container in [*spec.get("containers", []), *spec.get("initContainers", [])]:
        if container.get("ports"):
            container["ports"] = _with_protocol(container["ports"])
        _canonical_amounts(container.get("resources") or {})
    return obj
