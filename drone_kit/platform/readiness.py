"""Pure: whether an applied object is ready, and in a few words why not."""

from __future__ import annotations

from drone_kit.platform.objects import Obj
from drone_kit.rollouts.rules import rollout_complete


def _condition(obj: Obj, kind: str) -> str | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return str(condition.get("status"))
    return None


def crd_established(crd: Obj) -> bool:
    return _condition(crd, "Established") == "True"


def workload_state(obj: Obj) -> tuple[bool, str]:
    """(ready, what it is waiting for) for a Deployment, DaemonSet or Job as the API returns it."""
    kind, status = obj.get("kind"), obj.get("status") or {}
    if kind == "Deployment":
        wanted = (obj.get("spec") or {}).get("replicas", 1)
        available = status.get("availableReplicas") or 0
        return rollout_complete(obj), f"{available}/{wanted} available"
    if kind == "DaemonSet":
        desired = status.get("desiredNumberScheduled") or 0
        available, updated = status.get("numberAvailable") or 0, status.get("updatedNumberScheduled") or 0
        current = (status.get("observedGeneration") or 0) >= (obj.get("metadata") or {}).get("generation", 0)
        return (current and desired > 0 and updated == desired and available == desired,
                f"{available}/{desired} nodes available")
    if kind == "Job":
        if _condition(obj, "Failed") == "True":
            return False, "failed"
        return _condition(obj, "Complete") == "True", f"{status.get('succeeded') or 0} succeeded"
    return True, ""


def job_failed(obj: Obj) -> bool:
    return obj.get("kind") == "Job" and _condition(obj, "Failed") == "True"


def pod_selector(workload: Obj) -> str:
    """The workload's pods as a label selector (its matchLabels)."""
    labels = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if workload.get("kind") == "Job" and not labels:
        labels = {"job-name": (workload.get("metadata") or {}).get("name", "")}
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
