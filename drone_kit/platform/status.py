"""`drone_kit status`: each component ready or not and why, its URL, and where its secrets live
(the Secret's namespace and name, never a value). Read-only."""

from __future__ import annotations

from dataclasses import dataclass

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.platform.install import Planned
from drone_kit.platform.readiness import workload_state


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    ready: bool
    reasons: tuple[str, ...]  # why not ready, in a few words each
    url: str
    secrets: tuple[str, ...]  # namespace/name of each Secret holding its generated values


def judge(name: str, workloads: list[tuple[str, dict | None]], answers: list[tuple[str, int, int]], url: str,
          secrets: list[str]) -> ComponentStatus:
    """Pure: (workload label, live object or None), (check label, expected status, answered status)."""
    reasons = []
    for label, live in workloads:
        if live is None:
            reasons.append(f"{label}: not installed")
            continue
        ready, detail = workload_state(live)
        if not ready:
            reasons.append(f"{label}: {detail}")
    reasons += [f"{label}: answered {got or 'nothing'}, expected {wanted}" for label, wanted, got in answers
                if got != wanted]
    return ComponentStatus(name, not reasons, tuple(reasons), url, tuple(secrets))


def component_status(cluster: ClusterObjects, planned: Planned, url: str) -> ComponentStatus:
    workloads = [(f"{w.kind} {w.namespace}/{w.name}",
                  cluster.get("batch/v1" if w.kind == "Job" else "apps/v1", w.kind, w.name, w.namespace))
                 for w in planned.workloads]
    answers = [] if any(live is None for _, live in workloads) else [
        (f"GET {c.path}", c.status, cluster.proxy_get(c.namespace, c.service, c.port, c.path)[0])
        for c in planned.checks]
    return judge(planned.component.name, workloads, answers, url,
                 [f"{spec.namespace}/{spec.name}" for spec in planned.secrets])


def status_lines(statuses: list[ComponentStatus]) -> list[str]:
    """Pure: one line per component, its reasons and secrets indented under it."""
    lines = []
    for status in statuses:
        state = "ready" if status.ready else "NOT READY"
        lines.append(f"{status.name:<14} {state:<10} {status.url}".rstrip())
        lines += [f"    {reason}" for reason in status.reasons]
        lines += [f"    secrets: Secret {secret}" for secret in status.secrets]
    return lines
