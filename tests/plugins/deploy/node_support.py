"""What the tests on the suite's real Kubernetes node share: the images they deploy, a Deployment
to start from, the deploy plugin run as Drone runs it, and what a finished rollback must show."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator

import yaml
from kubernetes import client as k8s
from kubernetes import watch
from urllib3.exceptions import ProtocolError

from drone_kit.plugins.deploy import DEPLOY
from drone_kit.step.plugin import run_plugin
from drone_kit.step.results import read_result
from tests.paths import ROOT

# Images the node pulls from the suite's registry: what each one does when it runs.
DOCKERFILES = {
    "good": 'FROM {base}\nRUN touch /ready\nCMD ["sleep", "86400"]\n',
    "good-2": 'FROM {base}\nRUN touch /ready && echo 2 > /version\nCMD ["sleep", "86400"]\n',
    "crash": 'FROM {base}\nCMD ["sh", "-c", "echo cannot open /etc/app.conf; exit 3"]\n',
    "hungry": 'FROM {base}\nCMD ["sh", "-c", "x=0123456789; while true; do x=$x$x; done"]\n',
    "unready": 'FROM {base}\nCMD ["sleep", "86400"]\n',
    # Its first pod overruns the pod's ephemeral-storage limit (the kubelet evicts it) and leaves a
    # mark in /marker (a hostPath); the pod that replaces it finds the mark and becomes ready.
    "evicted-once": 'FROM {base}\nCMD ["sh", "-c", "if [ -e /marker/done ]; then touch /ready; '
                    'else touch /marker/done; dd if=/dev/zero of=/fill bs=1M count=16; fi; exec sleep 86400"]\n',
}


ZERO_DOWNTIME = {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def create_deployment(apps, namespace: str, image: str, progress_deadline: int = 600, replicas: int = 2,
                      strategy: dict | None = ZERO_DOWNTIME, volumes: list | None = None, **container) -> None:
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "app"},
        "spec": {"replicas": replicas, "progressDeadlineSeconds": progress_deadline,
                 "selector": {"matchLabels": {"app": "app"}}, **({"strategy": strategy} if strategy else {}),
                 "template": {"metadata": {"labels": {"app": "app"}}, "spec": {
                     "terminationGracePeriodSeconds": 1, **({"volumes": volumes} if volumes else {}),
                     "containers": [{"name": "app", "image": image, "resources": {"limits": {"memory": "32Mi"}},
                                     "readinessProbe": {"exec": {"command": ["cat", "/ready"]},
                                                        "periodSeconds": 1},
                                     **container}]}}},
    })


def deploy(kube_node, namespace, workspace, capsys, **settings) -> tuple[int, str]:
    env = {"PLUGIN_NAMESPACE": namespace, "PLUGIN_DEPLOYMENT": "app", "PLUGIN_KUBECONFIG": kube_node.kubeconfig(),
           "PLUGIN_TIMEOUT": "3m", "DRONE_WORKSPACE": str(workspace), "DRONE_CARD_PATH": str(workspace / "card.json"),
           **{f"PLUGIN_{key.upper()}": value for key, value in settings.items()}}
    code = run_plugin(DEPLOY, env)
    return code, capsys.readouterr().err


def running_image(apps, namespace: str) -> str:
    return apps.read_namespaced_deployment("app", namespace).spec.template.spec.containers[0].image


def rolled_out(kube_node, apps, namespace, good, tmp_path, capsys, **container) -> None:
    """The Deployment at its good image, fully rolled out: where each failure starts from."""
    create_deployment(apps, namespace, good, **container)
    code, err = deploy(kube_node, namespace, tmp_path / "setup", capsys, watch_only="true")
    assert code == 0, err


def assert_rolled_back(apps, namespace: str, workspace, good: str, code: int, err: str, reason: str) -> dict:
    result = read_result(workspace, "deploy")
    assert code == 1, err
    assert result["outcome"] == "rolled-back", err
    assert result["failure"]["reason"] == reason, err
    assert running_image(apps, namespace) == good
    deployment = apps.read_namespaced_deployment("app", namespace)
    assert deployment.status.updated_replicas == deployment.status.ready_replicas == deployment.spec.replicas, err
    assert json.loads((workspace / "card.json").read_text())["data"]["outcome"] == "rolled-back"
    return result


def set_image(apps, namespace: str, image: str) -> None:
    """Another deploy's change, as `kubectl set image` makes it."""
    apps.patch_namespaced_deployment("app", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": image}]}}}})


def grant_the_rbac_manifest(apps, namespace: str, user: str) -> k8s.RbacAuthorizationV1Api:
    """plugins/deploy/rbac.yaml's Role in `namespace`, bound to `user` (a token user of the node)."""
    role = next(doc for doc in yaml.safe_load_all((ROOT / "plugins/deploy/rbac.yaml").read_text())
                if doc["kind"] == "Role")
    role["metadata"]["namespace"] = namespace
    rbac = k8s.RbacAuthorizationV1Api(apps.api_client)
    rbac.create_namespaced_role(namespace, role)
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "drone-kit-deploy"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})
    return rbac


@contextlib.contextmanager
def progressing_conditions(apps, namespace: str) -> Iterator[list[tuple[int, str, str]]]:
    """Every (observedGeneration, Progressing reason, message) the Deployment shows while the block
    runs, as its watchers see them."""
    seen: list[tuple[int, str, str]] = []
    stream = watch.Watch()

    def record() -> None:
        # The stream ends with the block, however the connection goes: what was seen is the result.
        with contextlib.suppress(ProtocolError, k8s.ApiException):
            for event in stream.stream(apps.list_namespaced_deployment, namespace, timeout_seconds=600):
                status = event["object"].status
                condition = next((c for c in status.conditions or [] if c.type == "Progressing"), None)
                if condition is not None:
                    seen.append((status.observed_generation or 0, condition.reason, condition.message or ""))

    recorder = threading.Thread(target=record, daemon=True)
    recorder.start()
    try:
        yield seen
    finally:
        stream.stop()
