"""The installer against the suite's real Kubernetes node, with a small component made here: it
applies in order, waits for real readiness, changes nothing on a second run, shows a hand edit
as a conflict, keeps generated secrets, and explains a component that never becomes ready."""

from __future__ import annotations

import uuid

import pytest
from kubernetes import client as k8s

from drone_kit.clients.cluster_objects import ApplyConflict, ClusterObjects
from drone_kit.clients.kubeconfig import api_client
from drone_kit.platform import objects as o
from drone_kit.platform.component import Component, GeneratedSecret, HttpCheck, Workload
from drone_kit.platform.install import Installer, NotReady, Planned
from drone_kit.platform.secrets_store import read_value

FAST = o.Resources("10m", "16Mi", "100m", "32Mi")


@pytest.fixture(scope="module")
def cluster(kube_node) -> ClusterObjects:
    return ClusterObjects(api_client(kube_node.kubeconfig(), None, {}), log=print)


def web_component(namespace: str, image: str, command: list[str]) -> Planned:
    """A busybox httpd answering /healthz once its file exists, with a Secret it reads."""
    pod = {"containers": [o.container("web", image, FAST, ports={"http": 8080}, command=command,
                                      readiness=o.http_probe("/healthz", "http", period=1),
                                      env=[o.secret_env("TOKEN", "web-secret", "token")])]}
    objects = [o.namespace("test", namespace),
               o.config_map("test", "web-page", namespace, {"healthz": "ok\n"}),
               o.deployment("test", "web", namespace, pod, recreate=False),
               o.service("test", "web", namespace, {"http": (80, 8080)})]
    component = Component("web", "a test web server", render=lambda config: objects)
    return Planned(component, objects, [GeneratedSecret(namespace, "web-secret", ("token",))],
                   [Workload("Deployment", namespace, "web")], [HttpCheck(namespace, "web", 80, "/healthz")])


SERVE = ["sh", "-c", "mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www"]


def installer(cluster, timeout: float = 90, **kwargs) -> tuple[Installer, list[tuple[str, str, str]]]:
    reports: list[tuple[str, str, str]] = []
    return Installer(cluster, lambda *report: reports.append(report), timeout=timeout, webhook_timeout=10,
                     **kwargs), reports


def test_first_run_waits_for_real_readiness_and_a_second_run_changes_nothing(cluster, kube_node, base_image):
    namespace = f"dk-install-{uuid.uuid4().hex[:6]}"
    first, reports = installer(cluster)
    outcome = first.install([web_component(namespace, base_image, SERVE)])
    assert reports[-1][:2] == ("web", "ready")
    assert outcome.secrets_created == [f"{namespace}/web-secret"]
    assert len(outcome.changed) == 4
    token = read_value(cluster, namespace, "web-secret", "token")
    assert token and len(token) == 64
    assert cluster.proxy_get(namespace, "web", 80, "/healthz") == (200, "ok\n")

    again, _ = installer(cluster)
    second = again.install([web_component(namespace, base_image, SERVE)])
    assert second.changed == [] and second.secrets_created == [] and second.applied == 4
    assert read_value(cluster, namespace, "web-secret", "token") == token
    k8s.CoreV1Api(cluster.api_client).delete_namespace(namespace)


def test_a_hand_edit_is_a_conflict_not_overwritten(cluster, base_image):
    namespace = f"dk-install-{uuid.uuid4().hex[:6]}"
    planned = web_component(namespace, base_image, SERVE)
    installer(cluster)[0].install([planned])
    apps = k8s.AppsV1Api(cluster.api_client)
    apps.patch_namespaced_deployment("web", namespace, [{"op": "replace", "path": "/spec/template/spec/containers/0/"
                                                          "resources/limits/memory", "value": "48Mi"}])
    # kubectl-style edit: another field manager owns the field now, with a different value
    with pytest.raises(ApplyConflict) as raised:
        installer(cluster)[0].install([planned])
    assert "changed by hand" in raised.value.message and "--force-conflicts" in raised.value.hint
    assert apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].resources.limits[
        "memory"] == "48Mi"
    installer(cluster, force_conflicts=True)[0].install([planned])
    assert apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].resources.limits[
        "memory"] == "32Mi"
    k8s.CoreV1Api(cluster.api_client).delete_namespace(namespace)


def test_a_component_that_never_becomes_ready_times_out_with_its_pods_story(cluster, base_image):
    namespace = f"dk-install-{uuid.uuid4().hex[:6]}"
    crashing = ["sh", "-c", "echo cannot read /etc/web.conf; exit 3"]
    stuck, reports = installer(cluster, timeout=25)
    with pytest.raises(NotReady) as raised:
        stuck.install([web_component(namespace, base_image, crashing)])
    details = "\n".join(raised.value.details)
    assert "timed out after 25s waiting for Deployment" in raised.value.message
    assert "cannot read /etc/web.conf" in details  # the container's last words
    assert "exit code 3" in details or "BackOff" in details
    assert reports[-1][1] == "failed"
    k8s.CoreV1Api(cluster.api_client).delete_namespace(namespace)
