"""A rollout in a few words, for the build log: where it stands, and each new pod's state. Pure."""

from __future__ import annotations

from drone_kit.rollouts.rules import HASH, RolloutState, current_replicaset, new_pods


def progress_line(state: RolloutState) -> str:
    """Pure: one line saying where the rollout stands, e.g. "1/2 pods of the current revision ready,
    2 others"."""
    deployment = state.deployment or {}
    wanted = deployment.get("spec", {}).get("replicas", 1)
    pods = new_pods(state)
    ready = sum(1 for p in pods if any(c.get("type") == "Ready" and c.get("status") == "True"
                                       for c in p.get("status", {}).get("conditions") or []))
    current = current_replicaset(state)
    old = sum(1 for name, p in state.pods.items() if current is None or
              p["metadata"].get("labels", {}).get(HASH) != current["metadata"].get("labels", {}).get(HASH))
    # "Current", not "new": after a rollback the current revision is the one restored.
    return f"{ready}/{wanted} pods of the current revision ready, {old} other{'s' if old != 1 else ''}"


def pod_line(pod: dict) -> str:
    """Pure: a new pod's state in a few words, e.g. "waiting: ErrImagePull", "running, ready" or
    "evicted: The node was low on resource: memory." """
    status = pod.get("status", {})
    if status.get("phase") in ("Failed", "Succeeded") and status.get("reason"):
        return f"{status['reason'].lower()}: {status.get('message', '').strip()}".rstrip(": ")
    statuses = pod.get("status", {}).get("containerStatuses") or []
    if not statuses:
        return pod.get("status", {}).get("phase", "Pending").lower()
    parts = []
    for status in statuses:
        name, details = next(iter((status.get("state") or {"unknown": {}}).items()))
        parts.append(name + (f": {details['reason']}" if details.get("reason") else "") +
                     (", ready" if status.get("ready") else ""))
    return "; ".join(parts)
