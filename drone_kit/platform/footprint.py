"""Pure: what the platform asks of its nodes: each component's CPU and memory requests and limits,
summed over its containers (DaemonSets count once per node), against the budget that leaves a
4 GB Raspberry Pi server room for apps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drone_kit.platform.objects import Obj
from drone_kit.platform.quantities import parse

MEMORY_BUDGET = 1.5 * 2**30  # bytes of memory requests the whole platform may ask for


def quantity(text: str | int | float) -> float:
    """A Kubernetes quantity as a number: "250m" → 0.25, "128Mi" → 134217728."""
    return float(parse(text))


@dataclass(frozen=True)
class Footprint:
    cpu_request: float = 0.0  # cores
    memory_request: float = 0.0  # bytes
    cpu_limit: float = 0.0
    memory_limit: float = 0.0

    def __add__(self, other: Footprint) -> Footprint:
        return Footprint(self.cpu_request + other.cpu_request, self.memory_request + other.memory_request,
                         self.cpu_limit + other.cpu_limit, self.memory_limit + other.memory_limit)


def pod_spec(obj: Obj) -> Obj | None:
    spec = obj.get("spec") or {}
    if obj.get("kind") in ("Deployment", "DaemonSet", "StatefulSet", "Job"):
        return (spec.get("template") or {}).get("spec")
    return spec if obj.get("kind") == "Pod" else None


def of_objects(objects: Iterable[Obj]) -> Footprint:
    """Long-running containers only: a finished Job's pod holds nothing; init containers run
    before the others and never beside them."""
    total = Footprint()
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None or obj.get("kind") == "Job":
            continue
        replicas = (obj.get("spec") or {}).get("replicas", 1) if obj.get("kind") != "DaemonSet" else 1
        for container in spec.get("containers") or []:
            resources = container.get("resources") or {}
            requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
            total += Footprint(quantity(requests.get("cpu", 0)) * replicas,
                               quantity(requests.get("memory", 0)) * replicas,
                               quantity(limits.get("cpu", 0)) * replicas, quantity(limits.get("memory", 0)) * replicas)
    return total


def table(rows: list[tuple[str, Footprint]]) -> list[str]:
    """The footprint as aligned text lines, a total, and the budget check."""
    def line(name: str, f: Footprint) -> str:
        return (f"{name:<16} {f.cpu_request * 1000:>7.0f}m {f.memory_request / 2**20:>7.0f}Mi "
                f"{f.cpu_limit * 1000:>7.0f}m {f.memory_limit / 2**20:>7.0f}Mi")
    total = sum((f for _, f in rows), Footprint())
    verdict = "within" if total.memory_request <= MEMORY_BUDGET else "OVER"
    return [f"{'component':<16} {'cpu req':>8} {'mem req':>9} {'cpu lim':>8} {'mem lim':>9}",
            *(line(name, f) for name, f in rows), line("total", total),
            f"memory requests {total.memory_request / 2**20:.0f}Mi: {verdict} the "
            f"{MEMORY_BUDGET / 2**20:.0f}Mi budget for a 4 GB Raspberry Pi server"]
