"""Is a Deployment's rollout done, failing, or still under way? Decided from what the watch
streams said. Pure: no I/O; time comes in as `now` (seconds on the watcher's clock).

Only the pods of the Deployment's current revision count. Old ReplicaSets' pods terminating
(exit 137) or still failing from an earlier rollout, and Warning events that say nothing about
the new pods (MissingClusterDNS, Unhealthy during a slow start), never fail a rollout.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

REVISION = "deployment.kubernetes.io/revision"
HASH = "pod-template-hash"
FAILING_WAITS = {
    "InvalidImageName": "invalid-image",
    "CreateContainerConfigError": "config-error",
    "CreateContainerError": "container-error",
    "RunContainerError": "container-error",
}
PULL_WAITS = ("ErrImagePull", "ImagePullBackOff")
SUPERSEDED = "superseded"  # the failure reason when a newer change of the pod template took over
# Pull errors that no retry will fix; any other one fails only when it lasts (pull_grace). A
# refused connection is one: nothing listens there, and a deploy waiting for it only delays the rollback.
PERMANENT_PULL_ERRORS = (
    "not found", "manifest unknown", "server gave http response to https client", "unauthorized",
    "authentication required", "denied", "no such host", "repository does not exist", "invalid reference",
    "connection refused",
)


@dataclass(frozen=True)
class Limits:
    max_restarts: int = 2
    ready_timeout: float = 120.0
    unschedulable_grace: float = 30.0
    pull_grace: float = 30.0
    # ReplicaFailure (e.g. a quota the old pods still hold) often clears as they go: only a lasting one fails.
    replica_failure_grace: float = 30.0


@dataclass(frozen=True)
class Verdict:
    state: str  # "progressing", "succeeded" or "failed"
    reason: str = ""  # for failures: image-pull, crash-loop, invalid-image, progress-deadline, …
    message: str = ""
    pod: str = ""
    container: str = ""
    exit_code: int | None = None

    @property
    def done(self) -> bool:
        return self.state != "progressing"


@dataclass
class RolloutState:
    """What the watches have said about one Deployment, and when the watcher first saw things."""

    name: str
    deployment: dict | None = None
    deleted: bool = False
    replicasets: dict[str, dict] = field(default_factory=dict)
    pods: dict[str, dict] = field(default_factory=dict)
    events: deque = field(default_factory=lambda: deque(maxlen=200))
    first_seen: dict[tuple[str, str], float] = field(default_factory=dict)

    def apply(self, kind: str, event_type: str, obj: dict, now: float) -> None:
        """Take one watch event (or one listed object, as ADDED)."""
        name = obj.get("metadata", {}).get("name", "")
        if kind == "Deployment":
            if name == self.name:
                self.deleted = event_type == "DELETED"
                self.deployment = obj
                if _condition(obj, "ReplicaFailure") == "True":
                    self.first_seen.setdefault(("replica-failure", name), now)
                else:
                    self.first_seen.pop(("replica-failure", name), None)
        elif kind == "ReplicaSet":
            self._store(self.replicasets, event_type, name, obj)
        elif kind == "Pod":
            self._store(self.pods, event_type, name, obj)
            if event_type != "DELETED":
                self._note_pod(name, obj, now)
        elif kind == "Event" and event_type != "DELETED":  # an expired event says nothing new
            self.events.append(obj)

    @staticmethod
    def _store(objects: dict, event_type: str, name: str, obj: dict) -> None:
        if event_type == "DELETED":
            objects.pop(name, None)
        else:
            objects[name] = obj

    def _note_pod(self, name: str, pod: dict, now: float) -> None:
        self.first_seen.setdefault(("pod", name), now)
        for status in _container_statuses(pod):
            waiting = status.get("state", {}).get("waiting") or {}
            if waiting.get("reason") in PULL_WAITS:
                self.first_seen.setdefault(("pull", name), now)
        if _condition(pod, "PodScheduled", "reason") == "Unschedulable":
            self.first_seen.setdefault(("unschedulable", name), now)


def _condition(obj: dict, kind: str, key: str = "status") -> str | None:
    for condition in obj.get("status", {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition.get(key)
    return None


def _container_statuses(pod: dict) -> list[dict]:
    status = pod.get("status", {})
    return [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]


def current_replicaset(state: RolloutState) -> dict | None:
    """Pure: the ReplicaSet of the Deployment's current revision (a reused one gets a new number)."""
    if not state.deployment:
        return None
    revision = state.deployment["metadata"].get("annotations", {}).get(REVISION)
    for rs in state.replicasets.values():
        owners = rs["metadata"].get("ownerReferences") or []
        owned = any(o.get("kind") == "Deployment" and o.get("name") == state.name for o in owners)
        if owned and rs["metadata"].get("annotations", {}).get(REVISION) == revision:
            return rs
    return None


def revision_pods(state: RolloutState) -> list[dict]:
    """Pure: every pod of the current revision not being deleted, by name, finished ones included."""
    rs = current_replicaset(state)
    if rs is None:
        return []
    pod_hash = rs["metadata"].get("labels", {}).get(HASH)
    return [pod for name, pod in sorted(state.pods.items())
            if pod["metadata"].get("labels", {}).get(HASH) == pod_hash and not pod["metadata"].get("deletionTimestamp")]


def new_pods(state: RolloutState) -> list[dict]:
    """Pure: the live pods of the current revision, by name. An evicted or otherwise finished pod
    (phase Failed or Succeeded) is not one: its ReplicaSet replaces it."""
    return [pod for pod in revision_pods(state) if pod.get("status", {}).get("phase") not in ("Failed", "Succeeded")]


def label_selector(deployment: dict) -> str:
    """Pure: the Deployment's selector as a label selector string (matchLabels)."""
    labels = deployment.get("spec", {}).get("selector", {}).get("matchLabels") or {}
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def rollout_complete(deployment: dict) -> bool:
    """Pure: `kubectl rollout status`'s rule for a finished Deployment rollout."""
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    updated = status.get("updatedReplicas") or 0
    return (
        (status.get("observedGeneration") or 0) >= deployment["metadata"].get("generation", 0)
        and updated >= spec.get("replicas", 1)
        and (status.get("replicas") or 0) <= updated
        and (status.get("availableReplicas") or 0) >= updated
    )


_TIMED_OUT_REPLICASET = re.compile(r'ReplicaSet "([^"]+)" has timed out progressing')


def _about_current_revision(state: RolloutState, message: str) -> bool:
    """Whether a deadline message is about the current revision's ReplicaSet (true when unsure)."""
    named, current = _TIMED_OUT_REPLICASET.search(message), current_replicaset(state)
    return named is None or current is None or named.group(1) == current["metadata"]["name"]


def judge(state: RolloutState, target_generation: int, limits: Limits, now: float,
          template: dict | None = None) -> Verdict:
    """Pure: the rollout's verdict now. `target_generation` is the Deployment generation our change
    made: until the controller has observed it, nothing is judged. `template` is the pod template
    our change made: another one in a later generation means a newer change took over."""
    if state.deleted:
        return Verdict("failed", "deleted", f"deployment {state.name} was deleted during the rollout")
    deployment = state.deployment
    if (deployment is not None and template is not None and deployment["metadata"].get("generation", 0) >
            target_generation and deployment.get("spec", {}).get("template") != template):
        return Verdict("failed", SUPERSEDED, f"deployment {state.name} was changed again (generation "
                       f"{deployment['metadata']['generation']}) while this rollout was under way")
    if deployment is None or (deployment.get("status", {}).get("observedGeneration") or 0) < target_generation:
        return Verdict("progressing")
    if (_condition(deployment, "Progressing") == "False"
            and _condition(deployment, "Progressing", "reason") == "ProgressDeadlineExceeded"):
        message = _condition(deployment, "Progressing", "message") or "Progressing"
        # An earlier revision's deadline stays shown until the controller sees progress: not ours.
        if _about_current_revision(state, message):
            return Verdict("failed", "progress-deadline", message)
    failing_since = state.first_seen.get(("replica-failure", state.name))
    if failing_since is not None and now - failing_since >= limits.replica_failure_grace:
        return Verdict("failed", "replica-failure", _condition(deployment, "ReplicaFailure", "message") or
                       "ReplicaFailure", "")
    if rollout_complete(deployment):
        return Verdict("succeeded", message=f"deployment {state.name} rolled out")
    for pod in new_pods(state):
        verdict = _judge_pod(state, pod, limits, now)
        if verdict:
            return verdict
    return Verdict("progressing")


def _judge_pod(state: RolloutState, pod: dict, limits: Limits, now: float) -> Verdict | None:
    name = pod["metadata"]["name"]
    for status in _container_statuses(pod):
        container, restarts = status.get("name", ""), status.get("restartCount", 0)
        waiting = status.get("state", {}).get("waiting") or {}
        terminated = status.get("state", {}).get("terminated") or {}
        last_exit = (status.get("lastState", {}).get("terminated") or {}).get("exitCode")
        where = f"pod {name}: container {container}"
        if waiting.get("reason") in FAILING_WAITS:
            reason = FAILING_WAITS[waiting["reason"]]
            return Verdict("failed", reason, f"{where}: {waiting.get('message') or waiting['reason']}", name,
                           container)
        if waiting.get("reason") in PULL_WAITS:
            message = waiting.get("message") or waiting["reason"]
            lasting = now - state.first_seen.get(("pull", name), now) >= limits.pull_grace
            if lasting or any(p in message.lower() for p in PERMANENT_PULL_ERRORS):
                return Verdict("failed", "image-pull", f"{where}: the image cannot be pulled: {message}", name,
                               container)
        backing_off = waiting.get("reason") == "CrashLoopBackOff"
        # A container in CrashLoopBackOff is waiting for its next restart: that one counts already.
        if backing_off and restarts + 1 >= max(limits.max_restarts, 1):
            return Verdict("failed", "crash-loop", f"{where} keeps crashing (exit code {last_exit}; restart "
                           f"{restarts + 1} is waiting, max_restarts is {limits.max_restarts})", name, container,
                           last_exit)
        if terminated and terminated.get("exitCode", 0) != 0:
            code, why = terminated["exitCode"], terminated.get("reason", "Error")
            if why == "OOMKilled":
                return Verdict("failed", "oom-killed", f"{where} was killed for using too much memory (OOMKilled, "
                               f"exit code {code})", name, container, code)
            if restarts >= limits.max_restarts:
                return Verdict("failed", "crash-loop", f"{where} exited with code {code} ({why}) after {restarts} "
                               f"restarts", name, container, code)
        if restarts > limits.max_restarts:
            return Verdict("failed", "crash-loop", f"{where} restarted {restarts} times (max_restarts is "
                           f"{limits.max_restarts})", name, container, last_exit)
    unschedulable_since = state.first_seen.get(("unschedulable", name))
    if (unschedulable_since is not None and _condition(pod, "PodScheduled", "reason") == "Unschedulable"
            and now - unschedulable_since >= limits.unschedulable_grace):
        message = _condition(pod, "PodScheduled", "message") or "no node can run it"
        return Verdict("failed", "unschedulable", f"pod {name} cannot be scheduled: {message}", name)
    if _condition(pod, "Ready") != "True" and now - state.first_seen.get(("pod", name), now) >= limits.ready_timeout:
        return Verdict("failed", "not-ready", f"pod {name} is not Ready after {limits.ready_timeout:g}s "
                       "(ready_timeout)", name)
    return None
