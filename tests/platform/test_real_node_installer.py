"""The installer against the suite's real Kubernetes node, with a small component made here: it
applies in order, waits for real readiness, changes nothing on a second run, shows a hand edit
as a conflict, keeps generated secrets, and explains a component that never becomes ready."""

from __future__ import annotations

import time
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


def test_an_object_the_server_stores_differently_than_applied_is_left_alone_on_a_re_run(cluster):
    """A plain server-side apply of an object the server stores in another form ("2000m" stored as
    "2", in a list it replaces whole) writes it anew on every run. The installer's re-run leaves it,
    and MetalLB's webhook configuration after its controller filled in the CA, where they are."""
    namespace = f"dk-install-{uuid.uuid4().hex[:6]}"
    hooks = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
             "metadata": {"name": namespace}, "webhooks": [{
                 "name": "check.example.com", "admissionReviewVersions": ["v1"], "sideEffects": "None",
                 "failurePolicy": "Ignore", "clientConfig": {"service": {"name": "nobody", "namespace": namespace}},
                 "rules": [{"apiGroups": ["example.com"], "apiVersions": ["v1"], "operations": ["CREATE"],
                            "resources": ["examples"]}]}]}
    limits = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "limits", "namespace": namespace},
              "spec": {"limits": [{"type": "Container", "max": {"cpu": "2000m"}}]}}
    objects = [o.namespace("test", namespace), hooks, limits]
    planned = Planned(Component("hooks", "a webhook", render=lambda config: objects), objects, [], [], [])
    try:
        assert len(installer(cluster)[0].install([planned]).changed) == 3
        # what MetalLB's controller does: fill in the CA, by update, under a field manager of its own
        k8s.AdmissionregistrationV1Api(cluster.api_client).patch_validating_webhook_configuration(namespace, [
            {"op": "add", "path": "/webhooks/0/clientConfig/caBundle", "value": "Q0E="}], field_manager="MetalLB")
        live = cluster.get("v1", "LimitRange", "limits", namespace)
        # what the server does with a plain re-apply: a write, although nothing is different. The
        # write carries a new managedFields time, to the second: within the same second there is none.
        time.sleep(1.1)
        rewritten = cluster.apply(limits)
        assert rewritten["metadata"]["resourceVersion"] != live["metadata"]["resourceVersion"]
        assert rewritten["spec"] == live["spec"]
        again = installer(cluster)[0].install([planned])
        assert again.changed == [] and again.applied == 3
        assert cluster.get(limits["apiVersion"], "LimitRange", "limits", namespace)["spec"]["limits"][0]["max"] == {
            "cpu": "2"}
    finally:
        cluster.delete(hooks["apiVersion"], hooks["kind"], namespace)
        k8s.CoreV1Api(cluster.api_client).delete_namespace(namespace)
