"""One deploy run: pre-flight every Deployment, patch the image, watch the rollouts together,
and on failure diagnose and roll back all of them."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from drone_kit.clients.kube import STRATEGIC_MERGE, Kube, KubeError
from drone_kit.errors import DroneKitError
from drone_kit.plugins.cluster import cluster_client
from drone_kit.plugins.deploy.preflight import check_image_pushed, choose_container, image_to_deploy
from drone_kit.plugins.deploy.report import report
from drone_kit.plugins.deploy.target import Target
from drone_kit.rollouts.diagnosis import diagnosis
from drone_kit.rollouts.revisions import previous_template
from drone_kit.rollouts.rollback import Restore, roll_back
from drone_kit.rollouts.rules import REVISION, SUPERSEDED, Limits, Verdict, label_selector
from drone_kit.rollouts.watch import RolloutWatch, wait_for
from drone_kit.step.plugin import PluginRun

OBSERVE_POLLS, OBSERVE_POLL = 50, 0.2  # at most 10 s for the controller to observe a change
WATCH_FAILED = "watch-failed"  # the failure reason when the rollout could not be watched to its end


def run_deploy(run: PluginRun, clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep) -> None:
    s, ctx = run.settings, run.context
    image = image_to_deploy(s["image"], ctx.workspace) if not s["watch_only"] else None
    kube = cluster_client(run, sleep)
    namespace = s["namespace"]
    targets = [_preflight(kube, namespace, name, s["container"], s["watch_only"], sleep) for name in s["deployment"]]
    if image and s["verify_image"]:
        check_image_pushed(image, run.say)
    cause = s["change_cause"] or _change_cause(run)
    started = clock()
    for target in targets:
        where = f"{namespace}/{target.name}"
        if image is None or target.from_image == image:  # watch only, or nothing to change: watch it
            target.generation = target.deployment["metadata"]["generation"]
            if image is not None:
                run.say(f"{where}: {target.container} already runs {image}: nothing to roll out; checking it is "
                        "healthy")
            continue
        run.say(f"{where}: {target.container} {target.from_image} -> {image}" + (" (dry run)" if s["dry_run"] else ""))
        patched = kube.patch_deployment(namespace, target.name, _image_patch(target.container, image, cause),
                                        STRATEGIC_MERGE, dry_run=s["dry_run"])
        target.generation, target.changed_template = patched["metadata"]["generation"], patched["spec"]["template"]
        if patched["spec"].get("replicas") == 0:
            run.say(f"{where}: WARNING: 0 replicas: the image is set, but no pod runs it, so nothing proves it "
                    "pulls or starts")
    if s["dry_run"]:
        run.say("dry run: the API server accepted the change; nothing was rolled out")
        return
    limits = Limits(max_restarts=s["max_restarts"], ready_timeout=s["ready_timeout"].total_seconds())
    timeout = s["timeout"].total_seconds()
    watches = [RolloutWatch(kube, namespace, t.deployment, run.say, clock, run.status) for t in targets]
    try:
        verdicts = _watch(run, watches, targets, limits, timeout, clock, sleep)
        detected = clock() - started
        failed = next((v for v in verdicts.values() if v.state == "failed"), None)
        outcome, rollback_seconds = "success", None
        if failed:
            watch = next(w for w in watches if w.name == next(n for n, v in verdicts.items() if v is failed))
            if failed.reason not in (WATCH_FAILED, SUPERSEDED):
                _diagnose(run, kube, namespace, watch, failed)
            outcome = SUPERSEDED if failed.reason == SUPERSEDED else "failed"
            if s["rollback"] and outcome != SUPERSEDED:
                # Only what this step changed: an unchanged Deployment's failure is not ours to undo.
                restores = [Restore(t.name, t.template, t.from_image, t.generation or None) for t in targets
                            if t.changed_template is not None or image is None]
                outcome, rollback_seconds = _roll_back(run, kube, namespace, restores, limits, timeout, clock, sleep,
                                                       None if failed.reason == WATCH_FAILED else watches)
    finally:
        for watch in watches:
            watch.close()
    report(run, namespace, targets, image, verdicts, outcome, detected, rollback_seconds)


def _watch(run: PluginRun, watches: list[RolloutWatch], targets: list[Target], limits: Limits, timeout: float,
           clock: Callable[[], float], sleep: Callable[[float], None]) -> dict[str, Verdict]:
    """The verdicts; a watch that cannot go on after the change is a failed rollout (rolled back)."""
    generations = {t.name: t.generation for t in targets}
    templates = {t.name: t.changed_template for t in targets if t.changed_template is not None}
    try:
        return wait_for(watches, generations, limits, timeout, clock, sleep, templates)
    except DroneKitError as e:
        return {watches[0].name: Verdict("failed", WATCH_FAILED, f"the rollout cannot be watched: {e.message}")}


def _roll_back(run: PluginRun, kube: Kube, namespace: str, restores: list[Restore], limits: Limits, timeout: float,
               clock: Callable[[], float], sleep: Callable[[float], None],
               watches: list[RolloutWatch] | None) -> tuple[str, float | None]:
    if not restores:
        run.say("nothing to roll back: this step changed no deployment (each already ran the image)")
        return "failed", None
    started = clock()
    try:
        return roll_back(kube, namespace, restores, limits, timeout, run.say, clock, sleep, watches)
    except DroneKitError as e:
        run.say(f"COULD NOT ROLL BACK: {e.message}")
        return "rollback-failed", clock() - started


def _preflight(kube: Kube, namespace: str, name: str, container: str | None, watch_only: bool,
               sleep: Callable[[float], None]) -> Target:
    try:
        deployment = kube.get_deployment(namespace, name)
        if watch_only:  # the revision annotation is the controller's: read it once it has seen the change
            for _ in range(OBSERVE_POLLS):
                observed = deployment.get("status", {}).get("observedGeneration") or 0
                if observed >= deployment["metadata"]["generation"]:
                    break
                sleep(OBSERVE_POLL)
                deployment = kube.get_deployment(namespace, name)
    except KubeError as e:
        if e.status == 404:
            raise DroneKitError(f"deployment {name} does not exist in namespace {namespace}",
                                hint="check settings.deployment and settings.namespace") from e
        raise
    if deployment.get("spec", {}).get("paused"):
        raise DroneKitError(f"deployment {namespace}/{name} is paused: its rollout would never start",
                            hint=f"kubectl rollout resume deployment/{name} -n {namespace}")
    template = deployment["spec"]["template"]
    chosen = choose_container(template, container, name)
    image = next(c["image"] for c in template["spec"]["containers"] if c["name"] == chosen)
    revision = deployment["metadata"].get("annotations", {}).get(REVISION, "")
    if watch_only:  # the rollout is someone else's: a rollback goes to the revision before it
        replicasets, _ = kube.list("ReplicaSet", namespace, label_selector=label_selector(deployment))
        template = previous_template(replicasets, name, revision)
        containers = (template or {}).get("spec", {}).get("containers", [])
        image = next((c["image"] for c in containers if c["name"] == chosen), image)
    return Target(name, deployment, chosen, image, copy.deepcopy(template), revision)


def _image_patch(container: str, image: str, cause: str) -> dict[str, Any]:
    return {"metadata": {"annotations": {"kubernetes.io/change-cause": cause}},
            "spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}}


def _change_cause(run: PluginRun) -> str:
    ctx = run.context
    parts = [f"drone build {ctx.build_number}" if ctx.build_number else "drone_kit deploy"]
    if ctx.commit_sha:
        parts.append(f"commit {ctx.short_sha}")
    if ctx.build_link:
        parts.append(ctx.build_link)
    return ", ".join(parts)


def _diagnose(run: PluginRun, kube: Kube, namespace: str, watch: RolloutWatch, verdict: Verdict) -> None:
    logs, previous = [], verdict.reason == "crash-loop"
    if verdict.pod and verdict.container and verdict.exit_code is not None:  # only a container that ran has logs
        try:
            logs = kube.pod_log(namespace, verdict.pod, verdict.container, previous=previous).splitlines()[-20:]
        except KubeError as e:
            run.say(f"(no log lines: {e.message})")
    for line in diagnosis(verdict, watch.state, logs, previous):
        run.say(line)


