"""Rollout rules the recordings do not show, on small hand-made objects."""

from __future__ import annotations

import dataclasses

import pytest

from drone_kit.rollouts.rules import Limits, RolloutState, judge, rollout_complete

LIMITS = Limits(max_restarts=2, ready_timeout=120, unschedulable_grace=30, pull_grace=30)


def deployment(generation=2, observed=2, replicas=2, updated=1, total=3, available=2, revision="2", conditions=()):
    return {"metadata": {"name": "web", "generation": generation,
                         "annotations": {"deployment.kubernetes.io/revision": revision}},
            "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "replicas": total, "updatedReplicas": updated,
                       "availableReplicas": available, "conditions": list(conditions)}}


def replicaset(name, revision, pod_hash):
    return {"metadata": {"name": name, "labels": {"pod-template-hash": pod_hash},
                         "annotations": {"deployment.kubernetes.io/revision": revision},
                         "ownerReferences": [{"kind": "Deployment", "name": "web"}]}}


def pod(name, pod_hash, state=None, last=None, restarts=0, ready=False, conditions=()):
    status = {"name": "web", "restartCount": restarts, "ready": ready, "state": state or {"running": {}},
              "lastState": last or {}}
    ready_condition = {"type": "Ready", "status": "True" if ready else "False"}
    return {"metadata": {"name": name, "labels": {"pod-template-hash": pod_hash}},
            "status": {"containerStatuses": [status], "conditions": [ready_condition, *conditions]}}


def rollout(*pods, **deployment_fields):
    state = RolloutState("web")
    state.apply("Deployment", "MODIFIED", deployment(**deployment_fields), 0)
    state.apply("ReplicaSet", "ADDED", replicaset("web-old", "1", "old"), 0)
    state.apply("ReplicaSet", "ADDED", replicaset("web-new", "2", "new"), 0)
    for p in pods:
        state.apply("Pod", "ADDED", p, 0)
    return state


UNSCHEDULABLE = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                 "message": "0/1 nodes are available: 1 Insufficient memory."}


@pytest.mark.parametrize(
    "new_pod, now, state_, reason, text",
    [
        (pod("web-new-a", "new", state={"terminated": {"exitCode": 137, "reason": "OOMKilled"}}), 1, "failed",
         "oom-killed", "OOMKilled, exit code 137"),
        (pod("web-new-a", "new", state={"waiting": {"reason": "CreateContainerConfigError",
                                                     "message": 'secret "db" not found'}}), 1, "failed",
         "config-error", 'secret "db" not found'),
        (pod("web-new-a", "new", state={"waiting": {"reason": "RunContainerError", "message": "exec: no such file"}}),
         1, "failed", "container-error", "exec: no such file"),
        (pod("web-new-a", "new", state={"terminated": {"exitCode": 1, "reason": "Error"}}, restarts=1), 1,
         "progressing", "", ""),
        (pod("web-new-a", "new", state={"terminated": {"exitCode": 1, "reason": "Error"}}, restarts=2), 1, "failed",
         "crash-loop", "exited with code 1 (Error) after 2 restarts"),
        (pod("web-new-a", "new", last={"terminated": {"exitCode": 0}}, restarts=3), 1, "failed", "crash-loop",
         "restarted 3 times (max_restarts is 2)"),
        (pod("web-new-a", "new", state={"waiting": {"reason": "ErrImagePull", "message": "i/o timeout"}}), 29,
         "progressing", "", ""),
        (pod("web-new-a", "new", state={"waiting": {"reason": "ErrImagePull", "message": "i/o timeout"}}), 30,
         "failed", "image-pull", "the image cannot be pulled: i/o timeout"),
        (pod("web-new-a", "new", state={"waiting": {"reason": "ErrImagePull", "message": (
            'Get "https://192.168.1.70:30500/v2/": dial tcp 192.168.1.70:30500: connect: connection refused')}}), 0,
         "failed", "image-pull", "connect: connection refused"),
        (pod("web-new-a", "new", state={"waiting": {"reason": "ContainerCreating"}}, conditions=[UNSCHEDULABLE]), 29,
         "progressing", "", ""),
        (pod("web-new-a", "new", state={"waiting": {"reason": "ContainerCreating"}}, conditions=[UNSCHEDULABLE]), 30,
         "failed", "unschedulable", "Insufficient memory"),
        (pod("web-new-a", "new"), 119, "progressing", "", ""),
        (pod("web-new-a", "new"), 120, "failed", "not-ready", "not Ready after 120s (ready_timeout)"),
        (pod("web-new-a", "new", ready=True), 500, "progressing", "", ""),
    ],
)
def test_new_pod_rules(new_pod, now, state_, reason, text):
    verdict = judge(rollout(new_pod), 2, LIMITS, now)
    assert (verdict.state, verdict.reason) == (state_, reason)
    assert text in verdict.message


def test_old_pods_never_fail_the_rollout():
    broken_old = pod("web-old-a", "old", state={"waiting": {"reason": "CrashLoopBackOff"}}, restarts=9)
    assert judge(rollout(broken_old, pod("web-new-a", "new", ready=True)), 2, LIMITS, 500).state == "progressing"


def test_nothing_is_judged_before_the_controller_observes_our_change():
    crashing = pod("web-new-a", "new", state={"waiting": {"reason": "CrashLoopBackOff"}}, restarts=1)
    assert judge(rollout(crashing, observed=1), 2, LIMITS, 1).state == "progressing"
    assert judge(rollout(crashing, observed=2), 2, LIMITS, 1).state == "failed"


@pytest.mark.parametrize(
    "condition, reason",
    [({"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "timed out"},
      "progress-deadline"),
     ({"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "exceeded quota"},
      "replica-failure")],
)
def test_deployment_conditions(condition, reason):
    verdict = judge(rollout(conditions=[condition]), 2, LIMITS, LIMITS.replica_failure_grace)
    assert (verdict.state, verdict.reason) == ("failed", reason)
    assert verdict.message == condition["message"]


def test_a_replica_failure_fails_only_when_it_lasts():
    # Quota the old pods still hold clears as they go: a passing ReplicaFailure is no verdict.
    failure = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "exceeded quota"}
    state = rollout(conditions=[failure])
    assert judge(state, 2, LIMITS, LIMITS.replica_failure_grace - 1).state == "progressing"
    cleared = deployment()
    state.apply("Deployment", "MODIFIED", cleared, 10)
    state.apply("Deployment", "MODIFIED", deployment(conditions=[failure]), 20)
    assert judge(state, 2, LIMITS, 20 + LIMITS.replica_failure_grace - 1).state == "progressing"
    assert judge(state, 2, LIMITS, 20 + LIMITS.replica_failure_grace).reason == "replica-failure"


def test_an_evicted_pod_of_the_new_revision_is_not_waited_for():
    evicted = pod("web-new-a", "new", ready=False)
    evicted["status"].update(phase="Failed", reason="Evicted", message="The node was low on resource: memory.")
    state = rollout(evicted, pod("web-new-b", "new", ready=True))
    assert judge(state, 2, LIMITS, LIMITS.ready_timeout + 1).state == "progressing"


def test_a_deleted_deployment_fails():
    state = rollout()
    state.apply("Deployment", "DELETED", deployment(), 1)
    assert judge(state, 2, LIMITS, 1).reason == "deleted"


@pytest.mark.parametrize(
    "fields, complete",
    [({"updated": 2, "total": 2, "available": 2}, True),
     ({"updated": 2, "total": 3, "available": 2}, False),  # an old pod is still there
     ({"updated": 2, "total": 2, "available": 1}, False),
     ({"updated": 1, "total": 2, "available": 2}, False),
     ({"updated": 2, "total": 2, "available": 2, "observed": 1}, False)],
)
def test_rollout_complete_is_kubectl_rule(fields, complete):
    assert rollout_complete(deployment(**fields)) is complete


def test_an_earlier_revisions_deadline_does_not_fail_the_rollback():
    # After rolling back from a timed-out revision, the controller shows that revision's
    # ProgressDeadlineExceeded until it sees progress: not a verdict on the rollback.
    deadline = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                "message": 'ReplicaSet "web-bad" has timed out progressing.'}
    state = rollout(pod("web-new-a", "new", ready=True), conditions=[deadline])
    assert judge(state, 2, LIMITS, 1).state == "progressing"
    current = {**deadline, "message": 'ReplicaSet "web-new" has timed out progressing.'}
    assert judge(rollout(pod("web-new-a", "new"), conditions=[current]), 2, LIMITS, 1).reason == "progress-deadline"


def test_a_newer_template_supersedes_the_rollout():
    ours = {"spec": {"containers": [{"name": "web", "image": "app:v2"}]}}
    state = rollout(pod("web-new-a", "new"), generation=3)
    state.deployment["spec"]["template"] = {"spec": {"containers": [{"name": "web", "image": "app:v3"}]}}
    verdict = judge(state, 2, LIMITS, 1, template=ours)
    assert (verdict.state, verdict.reason) == ("failed", "superseded")
    assert "changed again (generation 3)" in verdict.message
    state.deployment["spec"]["template"] = ours  # a scale (HPA) bumps the generation, not the template
    assert judge(state, 2, LIMITS, 1, template=ours).state == "progressing"


@pytest.mark.parametrize("max_restarts, restarts, state_", [
    (2, 0, "progressing"), (2, 1, "failed"), (5, 3, "progressing"), (5, 4, "failed"), (0, 0, "failed"),
])
def test_max_restarts_bounds_a_crash_loop(max_restarts, restarts, state_):
    # CrashLoopBackOff waits for the next restart: with max_restarts=5 a container may crash-loop
    # through four restarts, and its fifth (the one it waits for) fails the rollout.
    backing_off = pod("web-new-a", "new", state={"waiting": {"reason": "CrashLoopBackOff"}},
                      last={"terminated": {"exitCode": 3, "reason": "Error"}}, restarts=restarts)
    limits = dataclasses.replace(LIMITS, max_restarts=max_restarts)
    verdict = judge(rollout(backing_off), 2, limits, 1)
    assert verdict.state == state_
    if state_ == "failed":
        assert (verdict.reason, verdict.exit_code) == ("crash-loop", 3)
