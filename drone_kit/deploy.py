"""The deploy plugin: set a Deployment's image (by digest when known), watch the rollout fail
fast or succeed, and on failure say why and roll back to the recorded template, verified."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Callable

from drone_kit.card import write_card
from drone_kit.diagnosis import diagnosis
from drone_kit.errors import DroneKitError
from drone_kit.kube import STRATEGIC_MERGE, Kube, KubeError
from drone_kit.kubeconfig import api_client
from drone_kit.plugin import Plugin, PluginRun
from drone_kit.preflight import check_image_pushed, choose_container, image_to_deploy, previous_template
from drone_kit.rollout import REVISION, Limits, Verdict
from drone_kit.results import write_result
from drone_kit.rollback import Restore, roll_back
from drone_kit.settings import BOOL, DURATION, INT, LIST, Setting
from drone_kit.watcher import RolloutWatch, label_selector, wait_for

SETTINGS = (
    Setting("deployment", LIST, required=True, help="Deployment name, or a list of them (all roll back together)."),
    Setting("namespace", default="default", help="Namespace of the deployments."),
    Setting("container", default_help="the pod's only container", help="Container whose image is set."),
    Setting("image", default_help="repo@digest from .drone-kit/image.json (build-push)", help="Image to deploy."),
    Setting("kubeconfig", secret=True, default_help="the service account, else ~/.kube/config",
            help="Kubeconfig as YAML or base64 (use from_secret)."),
    Setting("context", help="Kubeconfig context to use."),
    Setting("timeout", DURATION, default="5m", help="Longest the whole rollout may take."),
    Setting("ready_timeout", DURATION, default="2m", help="Longest a new pod may take to become Ready."),
    Setting("max_restarts", INT, default="2", help="Restarts of a new container before the rollout fails."),
    Setting("rollback", BOOL, default="true", help="Roll back to the recorded pod template when the rollout fails."),
    Setting("change_cause", default_help="build number, commit and link", help="kubernetes.io/change-cause annotation."),
    Setting("verify_image", BOOL, default="true", help="Before deploying, check the image is in its registry (when reachable)."),
    Setting("dry_run", BOOL, default="false", help="Server-side dry run of the change; nothing is rolled out."),
    Setting("watch_only", BOOL, default="false", help="Do not change anything: watch a rollout already started."),
)


@dataclass
class Target:
    """One Deployment as found before the change, which is what a rollback restores."""

    name: str
    deployment: dict
    container: str
    from_image: str
    template: dict | None  # None when there is nothing to roll back to
    revision: str
    generation: int = 0  # the generation our change made


def run_deploy(run: PluginRun, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
    s, ctx = run.settings, run.context
    image = image_to_deploy(s["image"], ctx.workspace) if not s["watch_only"] else None
    kube = Kube(api_client(s["kubeconfig"], s["context"], run.environ), run.say, sleep)
    namespace = s["namespace"]
    targets = [_preflight(kube, namespace, name, s["container"], s["watch_only"]) for name in s["deployment"]]
    if image and s["verify_image"]:
        check_image_pushed(image, run.say)
    cause = s["change_cause"] or _change_cause(run)
    started = clock()
    for target in targets:
        if s["watch_only"]:
            target.generation = target.deployment["metadata"]["generation"]
            continue
        run.say(f"{namespace}/{target.name}: {target.container} {target.from_image} -> {image}"
                + (" (dry run)" if s["dry_run"] else ""))
        patched = kube.patch_deployment(namespace, target.name, _image_patch(target.container, image, cause),
                                        STRATEGIC_MERGE, dry_run=s["dry_run"])
        target.generation = patched["metadata"]["generation"]
    if s["dry_run"]:
        run.say("dry run: the API server accepted the change; nothing was rolled out")
        return
    limits = Limits(max_restarts=s["max_restarts"], ready_timeout=s["ready_timeout"].total_seconds())
    watches = [RolloutWatch(kube, namespace, t.deployment, run.say, clock, run.status) for t in targets]
    try:
        verdicts = wait_for(watches, {t.name: t.generation for t in targets}, limits, s["timeout"].total_seconds(),
                            clock, sleep)
        detected = clock() - started
        failed = next((v for v in verdicts.values() if v.state == "failed"), None)
        outcome, rollback_seconds = "success", None
        if failed:
            watch = next(w for w in watches if w.name == next(n for n, v in verdicts.items() if v is failed))
            _diagnose(run, kube, namespace, watch, failed)
            outcome = "failed"
            if s["rollback"]:
                restores = [Restore(t.name, t.template, t.from_image) for t in targets]
                outcome, rollback_seconds = roll_back(kube, namespace, restores, limits, s["timeout"].total_seconds(),
                                                      run.say, clock, sleep, watches)
    finally:
        for watch in watches:
            watch.close()
    _report(run, namespace, targets, image, verdicts, outcome, detected, rollback_seconds)


def _preflight(kube: Kube, namespace: str, name: str, container: str | None, watch_only: bool) -> Target:
    try:
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
        template = previous_template(replicasets, revision)
        image = next((c["image"] for c in (template or {}).get("spec", {}).get("containers", []) if c["name"] == chosen),
                     image)
    return Target(name, deployment, chosen, image, copy.deepcopy(template), revision)


def _image_patch(container: str, image: str, cause: str) -> dict:
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
    if verdict.pod and verdict.container:
        try:
            logs = kube.pod_log(namespace, verdict.pod, verdict.container, previous=previous).splitlines()[-20:]
        except KubeError as e:
            run.say(f"(no log lines: {e.message})")
    for line in diagnosis(verdict, watch.state, logs, previous):
        run.say(line)


def _report(run, namespace, targets, image, verdicts, outcome, detected, rollback_seconds) -> None:
    failed = next((v for v in verdicts.values() if v.state == "failed"), None)
    result = {
        "outcome": outcome, "namespace": namespace, "image": image,
        "detect_seconds": round(detected, 3), "rollback_seconds": None if rollback_seconds is None else round(rollback_seconds, 3),
        "deployments": [{
            "name": t.name, "container": t.container, "from_image": t.from_image, "to_image": image,
            "from_revision": t.revision, "outcome": verdicts.get(t.name, Verdict("progressing")).state,
            "template": t.template,
        } for t in targets],
        "failure": None if failed is None else {"reason": failed.reason, "message": failed.message, "pod": failed.pod,
                                                "container": failed.container, "exit_code": failed.exit_code},
    }
    write_result(run.context.workspace, "deploy", result)
    card = {k: v for k, v in result.items() if k != "deployments"}
    write_card(run.context.card_path, "deploy", card, run.stdout, run.context.cards_url)
    if outcome == "success":
        run.say(f"rolled out in {detected:.1f}s: " + ", ".join(f"{namespace}/{t.name}" for t in targets))
        return
    summary = f"the rollout failed after {detected:.1f}s: {failed.message}"
    if outcome == "rolled-back":
        raise DroneKitError(summary + f"; rolled back in {rollback_seconds:.1f}s", hint="the diagnosis is above")
    if outcome == "rollback-failed":
        raise DroneKitError(summary + "; THE ROLLBACK FAILED TOO: the deployment needs a hand",
                            hint="kubectl rollout status / kubectl rollout undo")
    raise DroneKitError(summary + " (rollback is off)", hint="the diagnosis is above")


DEPLOY = Plugin(
    name="deploy",
    summary="Roll a Deployment to a new image, fail fast when it is unhealthy, and roll back, verified.",
    settings=SETTINGS,
    run=run_deploy,
)
