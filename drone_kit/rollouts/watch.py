"""Following rollouts live: one watch per kind (Deployment, ReplicaSets, Pods, Events) feeding the
pure decisions in `rollout`, a line in the log for each change of state, and a verdict."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from drone_kit.clients.kube import Kube, follow
from drone_kit.rollouts.lines import pod_line, progress_line
from drone_kit.rollouts.rules import (
    Limits,
    RolloutState,
    Verdict,
    current_replicaset,
    judge,
    label_selector,
    revision_pods,
)

POLL = 0.05  # seconds between judgements when nothing arrives: time-based rules need them too
Log = Callable[[str], None]


class RolloutWatch:
    """The live state of one Deployment's rollout."""

    def __init__(self, kube: Kube, namespace: str, deployment: dict, log: Log, clock: Callable[[], float],
                 status: Callable[[str, str], None] | None = None) -> None:
        self.kube, self.namespace, self.log, self.clock = kube, namespace, log, clock
        self.status = status or (lambda key, line: log(line))
        self.name = deployment["metadata"]["name"]
        self.state = RolloutState(self.name)
        self.events: queue.Queue[tuple[str, str, dict[str, Any]] | None] = queue.Queue()  # None: a watch failed
        self.stop = threading.Event()
        self.failure: Exception | None = None
        self._said: dict[str, str] = {}
        selector = label_selector(deployment)
        for kind, selectors in (("Deployment", {"field_selector": f"metadata.name={self.name}"}),
                                ("ReplicaSet", {"label_selector": selector}), ("Pod", {"label_selector": selector}),
                                ("Event", {})):
            threading.Thread(target=self._follow, args=(kind, selectors), daemon=True).start()

    def _follow(self, kind: str, selectors: dict) -> None:
        try:
            for event_type, obj in follow(self.kube, kind, self.namespace, self.stop, **selectors):
                self.events.put((kind, event_type, obj))
        except Exception as e:  # the main loop reports it: a watch that cannot run is fatal
            self.failure = e
            self.events.put(None)

    def drain(self) -> None:
        """Apply every event that arrived, saying what changed."""
        while True:
            try:
                item = self.events.get_nowait()
            except queue.Empty:
                return
            if item is None:
                assert self.failure is not None  # set before the None is queued
                raise self.failure
            self.state.apply(*item, self.clock())

    def say_changes(self, target_generation: int) -> None:
        """A line for each new pod whose state changed; the rollout's progress as a status.
        Until the controller has seen our change, the "current" pods are still the old ones."""
        deployment = self.state.deployment or {}
        if (deployment.get("status", {}).get("observedGeneration") or 0) < target_generation:
            return
        if current_replicaset(self.state) is None:  # its ReplicaSet not listed yet: nothing true to say
            return
        for pod in revision_pods(self.state):
            name, line = pod["metadata"]["name"], pod_line(pod)
            if self._said.get(name) != line:
                self._said[name] = line
                self.log(f"{self.namespace}/{self.name}: pod {name}: {line}")
        self.status(f"{self.namespace}/{self.name}", f"{self.namespace}/{self.name}: {progress_line(self.state)}")

    def close(self) -> None:
        self.stop.set()


def wait_for(watches: list[RolloutWatch], targets: dict[str, int], limits: Limits, timeout: float,
             clock: Callable[[], float], sleep: Callable[[float], None] = time.sleep,
             templates: dict[str, dict] | None = None) -> dict[str, Verdict]:
    """Judge each rollout until all succeeded, one failed, or `timeout` passed; the verdicts.
    `templates`: the pod template each change made, so that a newer change is noticed."""
    deadline = clock() + timeout
    verdicts: dict[str, Verdict] = {}
    while True:
        for watch in watches:
            if watch.name in verdicts:
                continue
            watch.drain()
            watch.say_changes(targets[watch.name])
            verdict = judge(watch.state, targets[watch.name], limits, clock(), (templates or {}).get(watch.name))
            if verdict.done:
                verdicts[watch.name] = verdict
                if verdict.state == "failed":
                    return verdicts
        if len(verdicts) == len(watches):
            return verdicts
        if clock() >= deadline:
            for watch in watches:
                verdicts.setdefault(watch.name, Verdict(
                    "failed", "timeout", f"deployment {watch.name} did not finish rolling out within "
                    f"{timeout:g}s (timeout); {progress_line(watch.state)}"))
            return verdicts
        sleep(POLL)
