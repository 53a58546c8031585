"""The soak window: no pod of a deployment's current ReplicaSet may restart."""

from __future__ import annotations

from collections.abc import Callable

from drone_kit.clients.kube import Kube
from drone_kit.rollouts.rules import RolloutState, label_selector, new_pods


class Soak:
    def __init__(self, kube: Kube, deployed: dict, log: Callable[[str], None]) -> None:
        self.kube, self.namespace, self.log = kube, deployed["namespace"], log
        self.names = [d["name"] for d in deployed["deployments"]]
        self.baseline = self._restarts()
        log(f"soak: watching restarts of {', '.join(self.baseline) or 'no pods'}")

    def _restarts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for name in self.names:
            state = RolloutState(name)
            deployment = self.kube.get_deployment(self.namespace, name)
            state.apply("Deployment", "ADDED", deployment, 0)
            selector = label_selector(deployment)
            for kind in ("ReplicaSet", "Pod"):
                for obj in self.kube.list(kind, self.namespace, label_selector=selector)[0]:
                    state.apply(kind, "ADDED", obj, 0)
            for pod in new_pods(state):
                statuses = pod.get("status", {}).get("containerStatuses") or []
                counts[pod["metadata"]["name"]] = sum(s.get("restartCount", 0) for s in statuses)
        return counts

    def restarted(self) -> str | None:
        """A description of a restart since the soak began, or None."""
        for pod, count in self._restarts().items():
            if count > self.baseline.get(pod, 0):
                return f"pod {pod} restarted ({self.baseline.get(pod, 0)} -> {count} restarts)"
        return None
