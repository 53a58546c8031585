"""Benchmark: the deploy plugin on the suite's real Kubernetes node, per failure class, against what a
user would otherwise run: `kubectl rollout status` (default settings), then `kubectl rollout undo`.

The benchmark starts its own private engine, registry and single-node Kubernetes 1.20 (the test
stack's context managers), builds the images and, for each failure class (a missing tag, a registry
that refuses connections, a crash loop, a missing ConfigMap, OOMKilled), takes two fresh namespaces
with a Deployment of 2 replicas (maxSurge 1, maxUnavailable 0, terminationGracePeriodSeconds 1, a
readiness probe, progressDeadlineSeconds 600: Kubernetes' default) fully rolled out on a good image:

- plugin: seconds from the start of the plugin (run as Drone runs it: `run_plugin(DEPLOY, env)`,
  PLUGIN_* settings, the kubeconfig as PLUGIN_KUBECONFIG) to its exit: change, detection,
  diagnosis, rollback, and the rollback converged. The image check is off for the two pull classes
  (a tag never pushed would otherwise be refused before anything is deployed).
- anchor, with the kubernetes client since kubectl is not installed: `kubectl set image`
  (a strategic merge patch), `kubectl rollout status` (the Deployment polled until kubectl's rule
  says it is complete, or its Progressing condition says ProgressDeadlineExceeded), then
  `kubectl rollout undo` (the template of the previous revision's ReplicaSet patched back, as
  kubectl does) and `kubectl rollout status` again until complete. The anchors of all classes are
  watched together for an observation window (--window, 60 s); a rollout that has neither
  completed nor failed by then is counted as failing at its deadline, 600 s after the change
  (printed with "(deadline)": the earliest kubectl can fail, since any progress the controller
  sees moves the deadline later; a note says when the window saw some), and its undo is then
  measured for real. The plugin's Deployments are gone before the anchor's are made, so each way
  has the node to itself.

Targets: the plugin <= 15 s from start to exit, and >= 40x faster than the anchor, for each class.

    .venv/bin/python -m tests.bench.deploy_real [--window 60]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from drone_kit.plugins.deploy import DEPLOY
from drone_kit.step.plugin import run_plugin
from drone_kit.step.results import read_result
from tests.paths import KUBERNETES_BUILD
from tests.stack import netguard
from tests.stack.engine import build_busybox_base, running_engine
from tests.stack.kubernetes import Node, running_node
from tests.stack.registry import free_port, push_test_image, running_registry
from tests.stack.require import require_binary

BASE_IMAGE = "drone-kit-bench/busybox:latest"
DOCKERFILES = {  # as tests/plugins/deploy/test_real_node_failures.py builds them
    "good": 'FROM {base}\nRUN touch /ready\nCMD ["sleep", "86400"]\n',
    "good-2": 'FROM {base}\nRUN touch /ready && echo 2 > /version\nCMD ["sleep", "86400"]\n',
    "crash": 'FROM {base}\nCMD ["sh", "-c", "echo cannot open /etc/app.conf; exit 3"]\n',
    "hungry": 'FROM {base}\nCMD ["sh", "-c", "x=0123456789; while true; do x=$x$x; done"]\n',
}
PROGRESS_DEADLINE = 600  # Kubernetes' default progressDeadlineSeconds
PLUGIN_TARGET, RATIO_TARGET = 15.0, 40.0
SETUP_TIMEOUT, UNDO_TIMEOUT = 180.0, 120.0
# kubectl rollout undo keeps these annotations of the Deployment and takes the others from the ReplicaSet.
UNDO_SKIPPED_ANNOTATIONS = {
    "kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history", "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to",
}


@dataclass(frozen=True)
class FailureClass:
    name: str
    reason: str  # the plugin's expected failure reason
    image: Callable[[dict[str, str], str], str]  # (images, registry host) -> the failing image
    config_error: bool = False  # the pods read a ConfigMap, deleted before the change
    verify_image: bool = True


CLASSES = (
    FailureClass("missing tag", "image-pull", lambda i, _: i["good"].replace(":v1", ":never-pushed"),
                 verify_image=False),
    FailureClass("registry refuses", "image-pull", lambda i, _: f"127.0.0.1:{free_port()}/app:v1",
                 verify_image=False),
    FailureClass("crash loop", "crash-loop", lambda i, _: i["crash"]),
    FailureClass("missing ConfigMap", "config-error", lambda i, _: i["good-2"], config_error=True),
    FailureClass("OOMKilled", "oom-killed", lambda i, _: i["hungry"]),
)


@dataclass
class Measured:
    plugin: float = 0.0
    result: dict | None = None
    log: str = ""
    status: float = 0.0  # anchor: set image + rollout status
    capped: bool = False  # status is the deadline, not seen
    last_progress: float = 0.0  # when capped: seconds after the change of the Progressing condition's last update
    completed: bool = False  # kubectl would have said the broken rollout succeeded
    undo: float = 0.0
    started: tuple[float, float] = (0.0, 0.0)  # anchor start: (monotonic, wall clock)
    namespaces: dict[str, str] = field(default_factory=dict)


def raw(response) -> dict:
    return json.loads(response.data)


def get_deployment(apps: k8s.AppsV1Api, namespace: str) -> dict:
    return raw(apps.read_namespaced_deployment("app", namespace, _preload_content=False))


def kubectl_status(deployment: dict) -> str:
    """kubectl rollout status's DeploymentStatusViewer: "complete", "deadline" (it fails) or "waiting"."""
    metadata, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status", {})
    if metadata.get("generation", 0) > (status.get("observedGeneration") or 0):
        return "waiting"  # waiting for deployment spec update to be observed
    progressing = next((c for c in status.get("conditions") or [] if c["type"] == "Progressing"), {})
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return "deadline"
    updated = status.get("updatedReplicas") or 0
    if (updated < spec.get("replicas", 1) or (status.get("replicas") or 0) > updated
            or (status.get("availableReplicas") or 0) < updated):
        return "waiting"
    return "complete"


def wait_complete(apps: k8s.AppsV1Api, namespace: str, timeout: float, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while (state := kubectl_status(get_deployment(apps, namespace))) != "complete":
        if state == "deadline" or time.monotonic() > deadline:
            raise SystemExit(f"{namespace}: the rollout did not complete ({state})")
        time.sleep(poll)


def set_image(apps: k8s.AppsV1Api, namespace: str, image: str) -> None:
    """`kubectl set image deployment/app app=IMAGE`."""
    apps.patch_namespaced_deployment("app", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": image}]}}}}, _content_type="application/strategic-merge-patch+json")


def rollout_undo(apps: k8s.AppsV1Api, namespace: str) -> None:
    """`kubectl rollout undo deployment/app`: the previous revision's ReplicaSet template, patched back."""
    deployment = get_deployment(apps, namespace)
    selector = ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items())
    replicasets = [rs for rs in raw(apps.list_namespaced_replica_set(namespace, label_selector=selector,
                                                                     _preload_content=False))["items"]
                   if any(o.get("controller") and o["uid"] == deployment["metadata"]["uid"]
                          for o in rs["metadata"].get("ownerReferences") or [])]
    by_revision = sorted(replicasets, key=lambda rs: int(rs["metadata"]["annotations"][
        "deployment.kubernetes.io/revision"]))
    previous = by_revision[-2]
    template = previous["spec"]["template"]
    template["metadata"]["labels"].pop("pod-template-hash", None)
    annotations = {k: v for k, v in deployment["metadata"].get("annotations", {}).items()
                   if k in UNDO_SKIPPED_ANNOTATIONS}
    annotations.update({k: v for k, v in previous["metadata"].get("annotations", {}).items()
                        if k not in UNDO_SKIPPED_ANNOTATIONS})
    apps.patch_namespaced_deployment("app", namespace, [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ], _content_type="application/json-patch+json", _preload_content=False)


def create_app(core: k8s.CoreV1Api, apps: k8s.AppsV1Api, namespace: str, image: str, config_error: bool) -> None:
    core.create_namespace({"metadata": {"name": namespace}})
    env = []
    if config_error:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}, "data": {"mode": "on"}})
        env = [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}}]
    apps.create_namespaced_deployment(namespace, {"metadata": {"name": "app"}, "spec": {
        "replicas": 2, "progressDeadlineSeconds": PROGRESS_DEADLINE, "selector": {"matchLabels": {"app": "app"}},
        "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {"metadata": {"labels": {"app": "app"}}, "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "app", "image": image, "env": env, "resources": {"limits": {"memory": "32Mi"}},
                            "readinessProbe": {"exec": {"command": ["cat", "/ready"]}, "periodSeconds": 1}}]}}}})


def run_deploy_plugin(node: Node, namespace: str, image: str, verify_image: bool, m: Measured) -> None:
    with tempfile.TemporaryDirectory(prefix="dk-bench-") as workspace:
        env = {"PLUGIN_NAMESPACE": namespace, "PLUGIN_DEPLOYMENT": "app", "PLUGIN_KUBECONFIG": node.kubeconfig(),
               "PLUGIN_IMAGE": image, "PLUGIN_VERIFY_IMAGE": str(verify_image).lower(),
               "DRONE_WORKSPACE": workspace, "DRONE_CARD_PATH": str(Path(workspace) / "card.json")}
        log = io.StringIO()
        with contextlib.redirect_stderr(log), contextlib.redirect_stdout(io.StringIO()):
            started = time.monotonic()
            run_plugin(DEPLOY, env)
            m.plugin = time.monotonic() - started
        m.result, m.log = read_result(Path(workspace), "deploy"), log.getvalue()


def set_up(core: k8s.CoreV1Api, apps: k8s.AppsV1Api, measured: dict[str, Measured], way: str, good: str,
           began: float) -> None:
    """Every class's Deployment for `way` fully rolled out on the good image (the ConfigMap then gone)."""
    for cls in CLASSES:
        create_app(core, apps, measured[cls.name].namespaces[way], good, cls.config_error)
    for cls in CLASSES:
        wait_complete(apps, measured[cls.name].namespaces[way], SETUP_TIMEOUT, poll=0.5)
        if cls.config_error:
            core.delete_namespaced_config_map("settings", measured[cls.name].namespaces[way])
    print(f"{way}: {len(CLASSES)} deployments rolled out on the good image after {time.monotonic() - began:.0f}s",
          flush=True)


def remove(core: k8s.CoreV1Api, namespaces: list[str]) -> None:
    """Delete the namespaces and wait until their pods are gone."""
    for namespace in namespaces:
        core.delete_namespace(namespace)
    deadline = time.monotonic() + SETUP_TIMEOUT
    while any(raw(core.list_namespaced_pod(n, _preload_content=False))["items"] for n in namespaces):
        if time.monotonic() > deadline:
            raise SystemExit(f"the pods of {', '.join(namespaces)} were not gone in {SETUP_TIMEOUT:g}s")
        time.sleep(0.5)


def observe_anchors(apps: k8s.AppsV1Api, measured: dict[str, Measured], window: float) -> None:
    """`kubectl rollout status` on every anchor at once, for up to `window` seconds each."""
    pending = dict(measured)
    while pending:
        for name, m in list(pending.items()):
            deployment = get_deployment(apps, m.namespaces["anchor"])
            state, elapsed = kubectl_status(deployment), time.monotonic() - m.started[0]
            if state != "waiting":
                m.status, m.completed = elapsed, state == "complete"
                del pending[name]
            elif elapsed >= window:  # it fails at its deadline: at the earliest that long after the change
                progressing = next(c for c in deployment["status"]["conditions"] if c["type"] == "Progressing")
                m.last_progress = datetime.fromisoformat(progressing["lastUpdateTime"]).timestamp() - m.started[1]
                m.status, m.capped = float(deployment["spec"]["progressDeadlineSeconds"]), True
                del pending[name]
        time.sleep(0.2)


def verdict(cls: FailureClass, m: Measured) -> tuple[str, str]:
    """(PASS/MISS, why)."""
    result = m.result or {}
    reason = (result.get("failure") or {}).get("reason")
    if result.get("outcome") != "rolled-back" or reason != cls.reason:
        return "MISS", f"plugin: {result.get('outcome', 'no result')}, {reason} (expected rolled-back, {cls.reason})"
    if m.completed:
        return "MISS", "anchor: kubectl would have called the rollout complete"
    anchor = m.status + m.undo
    misses = [*([f"plugin > {PLUGIN_TARGET:g}s"] if m.plugin > PLUGIN_TARGET else []),
              *([f"ratio < {RATIO_TARGET:g}x"] if anchor / m.plugin < RATIO_TARGET else [])]
    return ("MISS" if misses else "PASS"), ", ".join(misses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=60.0,
                        help="seconds to watch each anchor's rollout before counting it at its deadline")
    args = parser.parse_args()
    netguard.install()  # loopback only, as in the tests
    if not (KUBERNETES_BUILD / "bin" / "kubelet").is_file():
        raise SystemExit(f"the node's binaries are not built in {KUBERNETES_BUILD}: tests/stack/make-kubernetes "
                         f"{KUBERNETES_BUILD} (tests/run does it)")
    began = time.monotonic()
    dockerd, runc = require_binary("dockerd", "docker.io"), require_binary("runc", "runc")
    with running_registry(require_binary("docker-registry", "docker-registry")) as registry, \
            running_engine(dockerd, runc) as engine, \
            running_node(KUBERNETES_BUILD / "bin", require_binary("etcd", "etcd-server"), engine) as node:
        print(f"node up after {time.monotonic() - began:.0f}s; building images", flush=True)
        build_busybox_base(engine.client, require_binary("busybox", "busybox-static"), BASE_IMAGE)
        images = {name: push_test_image(engine.client, registry, dockerfile.format(base=BASE_IMAGE), f"bench/{name}:v1")
                  for name, dockerfile in DOCKERFILES.items()}
        configuration = k8s.Configuration()
        k8s_config.load_kube_config_from_dict(yaml.safe_load(node.kubeconfig()), client_configuration=configuration,
                                              persist_config=False)
        apps = k8s.AppsV1Api(k8s.ApiClient(configuration))
        core = k8s.CoreV1Api(apps.api_client)

        measured = {cls.name: Measured(namespaces={way: f"dk-bench-{way}-{uuid.uuid4().hex[:8]}"
                                                   for way in ("plugin", "anchor")}) for cls in CLASSES}
        # Each way on a node that runs only its own Deployments: the plugin's, then the anchor's.
        set_up(core, apps, measured, "plugin", images["good"], began)
        for cls in CLASSES:  # one at a time: nothing else moves on the node while the plugin runs
            m = measured[cls.name]
            run_deploy_plugin(node, m.namespaces["plugin"], cls.image(images, registry.host), cls.verify_image, m)
            print(f"plugin, {cls.name}: {m.plugin:.2f}s ({(m.result or {}).get('outcome')})", flush=True)

        remove(core, [m.namespaces["plugin"] for m in measured.values()])
        set_up(core, apps, measured, "anchor", images["good"], began)
        print(f"anchors: kubectl rollout status on all {len(CLASSES)} for up to {args.window:g}s", flush=True)
        for cls in CLASSES:
            m = measured[cls.name]
            m.started = (time.monotonic(), time.time())
            set_image(apps, m.namespaces["anchor"], cls.image(images, registry.host))
        observe_anchors(apps, measured, args.window)
        for cls in CLASSES:  # one at a time, as the plugin ran
            m = measured[cls.name]
            if m.completed:
                continue
            started = time.monotonic()
            rollout_undo(apps, m.namespaces["anchor"])
            wait_complete(apps, m.namespaces["anchor"], UNDO_TIMEOUT)
            m.undo = time.monotonic() - started

    print(f"\ndeploy plugin vs kubectl rollout status + rollout undo, real node, {time.monotonic() - began:.0f}s "
          f"in all (observation window {args.window:g}s; progressDeadlineSeconds {PROGRESS_DEADLINE})")
    print(f"targets: plugin <= {PLUGIN_TARGET:g}s start->exit, anchor/plugin >= {RATIO_TARGET:g}x\n")
    print(f"{'class':18} {'verdict':12} {'plugin':>7} {'detect':>7} {'rollbk':>7}   "
          f"{'anchor: status':>23} {'+ undo':>7} {'= total':>8} {'ratio':>7}  result")
    failures = []
    for cls in CLASSES:
        m = measured[cls.name]
        result = m.result or {}
        outcome, why = verdict(cls, m)
        status = f"{m.status:.1f}s" + (" (deadline)" if m.capped else " (complete!)" if m.completed else "")
        ratio = (m.status + m.undo) / m.plugin if m.plugin else 0.0
        detect, rollback = result.get("detect_seconds"), result.get("rollback_seconds")
        print(f"{cls.name:18} {(result.get('failure') or {}).get('reason', '-'):12} {m.plugin:6.2f}s "
              f"{'-' if detect is None else f'{detect:.2f}s':>7} {'-' if rollback is None else f'{rollback:.2f}s':>7}"
              f"   {status:>23} {m.undo:6.2f}s {m.status + m.undo:7.1f}s {ratio:6.0f}x  {outcome}"
              + (f" ({why})" if why else ""))
        if outcome != "PASS" and why.startswith("plugin:"):
            failures.append(f"--- plugin log, {cls.name}:\n{m.log[-3000:]}")
    for cls in CLASSES:
        m = measured[cls.name]
        if m.capped and m.last_progress > 1:
            print(f"note: {cls.name}: the Deployment showed progress {m.last_progress:.0f}s after the change (its "
                  f"Progressing condition's lastUpdateTime), so kubectl would fail {m.last_progress:.0f}s later still")
    for text in failures:
        print(text)


if __name__ == "__main__":
    main()
