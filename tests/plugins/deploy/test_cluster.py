"""The deploy plugin on a real cluster, run as Drone runs it (settings from PLUGIN_*, the
kubeconfig as a secret setting): by default on the suite's own Kubernetes node, with images in
the suite's registry; with DRONE_KIT_TEST_KUBECONFIG, on your cluster (k3s) instead:

    DRONE_KIT_TEST_KUBECONFIG=~/.kube/config tests/run -m cluster

Each module's Deployment lives in a throwaway namespace, deleted afterwards.
"""

from __future__ import annotations

import uuid

import pytest
from kubernetes import client as k8s

from drone_kit.clients.kubeconfig import api_client
from drone_kit.plugins.deploy import DEPLOY
from drone_kit.step.plugin import run_plugin
from drone_kit.step.results import read_result

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def apps(cluster) -> k8s.AppsV1Api:
    return k8s.AppsV1Api(api_client(cluster.kubeconfig, None, {}))


@pytest.fixture(scope="module")
def namespace(cluster, apps):
    core = k8s.CoreV1Api(apps.api_client)
    name = f"drone-kit-test-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    apps.create_namespaced_deployment(name, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"terminationGracePeriodSeconds": 1, "containers": [
                                  {"name": "web", "image": cluster.images[0], "command": ["sleep", "86400"]},
                              ]}}},
    })
    try:
        yield name
    finally:
        core.delete_namespace(name)


def deploy(cluster, namespace, workspace, capsys, **settings):
    env = {"PLUGIN_NAMESPACE": namespace, "PLUGIN_DEPLOYMENT": "web", "DRONE_WORKSPACE": str(workspace),
           "PLUGIN_TIMEOUT": "3m", "PLUGIN_KUBECONFIG": cluster.kubeconfig,
           **{f"PLUGIN_{k.upper()}": v for k, v in settings.items()}}
    code = run_plugin(DEPLOY, env)
    return code, capsys.readouterr().err


def running_image(apps, namespace) -> str:
    return apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image


def test_initial_rollout_then_a_new_image(cluster, namespace, apps, tmp_path, capsys):
    code, err = deploy(cluster, namespace, tmp_path, capsys, watch_only="true")
    assert code == 0, err
    code, err = deploy(cluster, namespace, tmp_path, capsys, image=cluster.images[1])
    assert code == 0, err
    assert read_result(tmp_path, "deploy")["outcome"] == "success"
    assert running_image(apps, namespace) == cluster.images[1]


def test_a_missing_tag_fails_fast_and_rolls_back(cluster, namespace, apps, tmp_path, capsys):
    before = running_image(apps, namespace)
    missing = cluster.images[0].rsplit(":", 1)[0] + ":drone-kit-never-pushed"
    code, err = deploy(cluster, namespace, tmp_path, capsys, image=missing, verify_image="false")
    result = read_result(tmp_path, "deploy")
    assert code == 1 and result["outcome"] == "rolled-back", err
    assert result["failure"]["reason"] == "image-pull" and result["detect_seconds"] < 60
    assert running_image(apps, namespace) == before
    assert cluster.kubeconfig.splitlines()[-1].strip() not in err  # the secret setting never shows
