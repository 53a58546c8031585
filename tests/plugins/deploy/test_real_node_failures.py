"""Every failure class a rollout meets, end to end on the suite's real Kubernetes node, through
the deploy plugin exactly as Drone runs it: the failure is seen, explained, rolled back, and the
rollback is seen through until the Deployment runs the previous image again, with `deploy.json`
and the card written."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s

from drone_kit.step.results import read_result
from tests.plugins.deploy.node_support import (
    ZERO_DOWNTIME,
    assert_rolled_back,
    create_deployment,
    deploy,
    progressing_conditions,
    rolled_out,
    running_image,
)
from tests.stack.kubernetes import NODE_NAME
from tests.stack.registry import free_port, push_test_image


def test_a_good_image_rolls_out(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["good-2"])
    assert code == 0, err
    assert read_result(tmp_path, "deploy")["outcome"] == "success"
    assert running_image(apps, namespace) == images["good-2"]


def test_a_missing_tag(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    missing = images["good"].replace(":v1", ":never-pushed")
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=missing, verify_image="false")
    assert_rolled_back(apps, namespace, tmp_path, images["good"], code, err, "image-pull")


def test_a_crash_loop_names_the_exit_code_and_shows_the_log(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["crash"])
    result = assert_rolled_back(apps, namespace, tmp_path, images["good"], code, err, "crash-loop")
    assert result["failure"]["exit_code"] == 3
    assert "cannot open /etc/app.conf" in err


def test_out_of_memory(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["hungry"])
    result = assert_rolled_back(apps, namespace, tmp_path, images["good"], code, err, "oom-killed")
    assert result["failure"]["exit_code"] == 137


def test_a_missing_configmap(kube_node, apps, namespace, images, tmp_path, capsys):
    core = k8s.CoreV1Api(apps.api_client)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}, "data": {"mode": "on"}})
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys, env=[
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}}])
    core.delete_namespaced_config_map("settings", namespace)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["good-2"])
    assert_rolled_back(apps, namespace, tmp_path, images["good"], code, err, "config-error")
    assert 'configmap "settings" not found' in err


def test_a_registry_that_refuses_connections(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    refused = f"127.0.0.1:{free_port()}/app:v1"
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=refused, verify_image="false")
    assert_rolled_back(apps, namespace, tmp_path, images["good"], code, err, "image-pull")


@pytest.mark.parametrize("replicas, strategy", [(2, ZERO_DOWNTIME), (1, None)], ids=["zero-downtime", "one-replica"])
def test_readiness_never_passing_hits_the_progress_deadline(kube_node, apps, namespace, images, tmp_path, capsys,
                                                            replicas, strategy):
    create_deployment(apps, namespace, images["good"], progress_deadline=10, replicas=replicas, strategy=strategy)
    code, err = deploy(kube_node, namespace, tmp_path / "setup", capsys, watch_only="true")
    assert code == 0, err
    with progressing_conditions(apps, namespace) as seen:
        code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["unready"], ready_timeout="5m")
    assert_rolled_back(apps, namespace, tmp_path, images["good"], code, err, "progress-deadline")
    if replicas == 1:
        # One replica: the controller's first look at the rollback sees nothing progress yet, so
        # the failed revision's deadline stays on the rollback's generation. The rollback is
        # judged by its own revision, not by that.
        rollback_generation = apps.read_namespaced_deployment("app", namespace).metadata.generation
        assert any(generation == rollback_generation and reason == "ProgressDeadlineExceeded"
                   for generation, reason, _ in seen), seen


def test_a_plain_http_registry_gets_the_registries_yaml_fix(kube_node, apps, namespace, images, http_registry,
                                                            tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=f"{http_registry.host}/app:v1",
                       verify_image="false")
    assert_rolled_back(apps, namespace, tmp_path, images["good"], code, err, "image-pull")
    assert "server gave HTTP response to HTTPS client" in err
    assert f'    "{http_registry.host}":\n' in err and f'        - "http://{http_registry.host}"' in err


def test_a_slow_start_succeeds(kube_node, apps, namespace, images, tmp_path, capsys, engine, registry, base_image):
    slow = push_test_image(engine.client, registry, f'FROM {base_image}\nCMD ["sh", "-c", "sleep 12; touch /ready; '
                                             'exec sleep 86400"]\n', "node-tests/slow:v1")
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys, readinessProbe={
        "exec": {"command": ["cat", "/ready"]}, "periodSeconds": 1})
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=slow)
    assert code == 0, err
    assert read_result(tmp_path, "deploy")["detect_seconds"] >= 12
    assert running_image(apps, namespace) == slow


def test_unschedulable_fails_after_its_grace(kube_node, apps, namespace, images, tmp_path, capsys):
    core = k8s.CoreV1Api(apps.api_client)
    core.patch_node(NODE_NAME, {"metadata": {"labels": {"drone-kit-test/disk": "ssd"}}})
    try:
        rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
        apps.patch_namespaced_deployment("app", namespace, {"spec": {"template": {"spec": {
            "nodeSelector": {"drone-kit-test/disk": "ssd"}}}}})
        code, err = deploy(kube_node, namespace, tmp_path / "relabel", capsys, watch_only="true")
        assert code == 0, err
        core.patch_node(NODE_NAME, {"metadata": {"labels": {"drone-kit-test/disk": None}}})
        code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["good-2"])
        result = read_result(tmp_path, "deploy")
        assert code == 1 and result["failure"]["reason"] == "unschedulable", err
        assert result["outcome"] == "rolled-back" and running_image(apps, namespace) == images["good"]
        assert "1 node(s) didn't match Pod's node affinity" in err  # Kubernetes 1.20's words
    finally:
        core.patch_node(NODE_NAME, {"metadata": {"labels": {"drone-kit-test/disk": None}}})
