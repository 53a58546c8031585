"""Opt-in: the deploy plugin against a real cluster (k3s) from KUBECONFIG, in a throwaway
namespace that is deleted afterwards. Not run by default or in CI:

    KUBECONFIG=~/.kube/config tests/run -m cluster

DRONE_KIT_TEST_IMAGE and DRONE_KIT_TEST_IMAGE_2: two images the nodes can pull that keep running
with `sleep` (defaults: busybox:1.36 and busybox:1.35).
"""

from __future__ import annotations

import os
import uuid

import pytest
from kubernetes import client as k8s

from drone_kit.clients.kubeconfig import api_client
from drone_kit.plugins.deploy import DEPLOY
from drone_kit.step.plugin import run_plugin
from drone_kit.step.results import read_result

pytestmark = pytest.mark.cluster
IMAGE = os.environ.get("DRONE_KIT_TEST_IMAGE", "busybox:1.36")
IMAGE_2 = os.environ.get("DRONE_KIT_TEST_IMAGE_2", "busybox:1.35")


@pytest.fixture(scope="module")
def namespace():
    if not os.environ.get("KUBECONFIG") and not os.path.exists(os.path.expanduser("~/.kube/config")):
        pytest.fail("-m cluster needs a cluster: set KUBECONFIG", pytrace=False)
    api = api_client(None, None, os.environ)
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    name = f"drone-kit-test-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    apps.create_namespaced_deployment(name, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [
                                  {"name": "web", "image": IMAGE, "command": ["sleep", "86400"]},
                              ]}}},
    })
    try:
        yield name
    finally:
        core.delete_namespace(name)


def deploy(namespace, workspace, capsys, **settings):
    env = {"PLUGIN_NAMESPACE": namespace, "PLUGIN_DEPLOYMENT": "web", "DRONE_WORKSPACE": str(workspace),
           "PLUGIN_TIMEOUT": "3m", **{f"PLUGIN_{k.upper()}": v for k, v in settings.items()}}
    code = run_plugin(DEPLOY, {**os.environ, **env})
    return code, capsys.readouterr().err


def test_initial_rollout_then_a_new_image(namespace, tmp_path, capsys):
    code, err = deploy(namespace, tmp_path, capsys, watch_only="true")
    assert code == 0, err
    code, err = deploy(namespace, tmp_path, capsys, image=IMAGE_2)
    assert code == 0, err
    assert read_result(tmp_path, "deploy")["outcome"] == "success"


def test_a_missing_tag_fails_fast_and_rolls_back(namespace, tmp_path, capsys):
    before = k8s.AppsV1Api(api_client(None, None, os.environ)).read_namespaced_deployment("web", namespace)
    missing = IMAGE.rsplit(":", 1)[0] + ":drone-kit-never-pushed"
    code, err = deploy(namespace, tmp_path, capsys, image=missing, verify_image="false")
    result = read_result(tmp_path, "deploy")
    assert code == 1 and result["outcome"] == "rolled-back", err
    assert result["failure"]["reason"] == "image-pull" and result["detect_seconds"] < 60
    after = k8s.AppsV1Api(api_client(None, None, os.environ)).read_namespaced_deployment("web", namespace)
    assert after.spec.template.spec.containers[0].image == before.spec.template.spec.containers[0].image
