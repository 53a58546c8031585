"""Why a workload is not ready, in the cluster's own words: each pod's state, its recent events,
and the last lines of containers that are not ready; the registries.yaml fix where the node
cannot pull from the plain-HTTP registry."""

from __future__ import annotations

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.platform.objects import Obj
from drone_kit.platform.readiness import pod_selector
from drone_kit.rollouts.diagnosis import registries_yaml_fix
from drone_kit.rollouts.lines import pod_line

EVENTS_PER_OBJECT, LOG_LINES = 5, 8


def event_lines(events: list[Obj], limit: int = EVENTS_PER_OBJECT) -> list[str]:
    """Pure: the last distinct events, oldest first, one line each."""
    lines: list[str] = []
    for event in sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or ""):
        line = f"{event.get('type', '')} {event.get('reason', '')}: {(event.get('message') or '').strip()}"
        if line in lines:
            lines.remove(line)
        lines.append(line)
    return lines[-limit:]


def unready_containers(pod: Obj) -> list[str]:
    """Pure: containers of a pod that are not ready and have started at least once."""
    return [status["name"] for status in (pod.get("status") or {}).get("containerStatuses") or []
            if not status.get("ready") and (status.get("restartCount") or status.get("state", {}).get("running"))]


def why_not_ready(cluster: ClusterObjects, workload: Obj) -> list[str]:
    if not workload:
        return ["the object does not exist"]
    meta = workload["metadata"]
    namespace, lines = meta.get("namespace", ""), []
    lines += [f"{workload['kind']} {meta['name']}: {line}"
              for line in event_lines(cluster.events_of(namespace, workload["kind"], meta["name"]))]
    selector = pod_selector(workload)
    pods = cluster.list_of("v1", "Pod", namespace, label_selector=selector) if selector else []
    if not pods:
        lines.append(f"no pods match {selector or 'the workload'}")
    for pod in pods:
        pod_name = pod["metadata"]["name"]
        lines.append(f"pod {pod_name}: {pod_line(pod)}")
        events = event_lines(cluster.events_of(namespace, "Pod", pod_name))
        lines += [f"  {line}" for line in events]
        for line in events:
            lines += [f"  {fix}" for fix in registries_yaml_fix(line)]
        for container in unready_containers(pod):
            log = cluster.pod_log(namespace, pod_name, container, tail=LOG_LINES).strip()
            if log:
                lines.append(f"  last lines of {container}:")
                lines += [f"    {line}" for line in log.splitlines()[-LOG_LINES:]]
    return lines
