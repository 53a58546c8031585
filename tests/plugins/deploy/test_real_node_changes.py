"""On the suite's real Kubernetes node: changes that are not simply failures — a newer deploy
mid-watch, an evicted pod, verify after another deploy, the image already running, 0 replicas, watch_only right
after someone else's change, a kubeconfig that skips TLS verification."""

from __future__ import annotations

import threading

from kubernetes import client as k8s

from drone_kit.plugins.verify import VERIFY
from drone_kit.step.plugin import run_plugin
from drone_kit.step.results import read_result
from tests.plugins.deploy.node_support import (
    assert_rolled_back,
    create_deployment,
    deploy,
    rolled_out,
    running_image,
    set_image,
)
from tests.stack.registry import free_port


def test_a_kubeconfig_that_skips_tls_verification_is_said_once(kube_node, apps, namespace, images, tmp_path,
                                                               capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["good-2"],
                       kubeconfig=kube_node.kubeconfig(verify=False))
    assert code == 0, err
    assert len([line for line in err.splitlines() if "insecure-skip-tls-verify" in line]) == 1, err
    assert "InsecureRequestWarning" not in err and "Unverified HTTPS request" not in err


def test_a_newer_deploy_mid_watch_supersedes_and_is_never_rolled_back(kube_node, apps, namespace, images, tmp_path,
                                                                      capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    newer = threading.Timer(4.0, set_image, (apps, namespace, images["good-2"]))
    newer.start()
    try:
        code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["unready"], ready_timeout="5m")
    finally:
        newer.join()
    assert code == 1, err
    assert read_result(tmp_path, "deploy")["outcome"] == "superseded"
    assert "was changed again" in err and "nothing was rolled back" in err and "rolling back" not in err
    assert running_image(apps, namespace) == images["good-2"]


def test_an_evicted_pod_of_the_new_revision_is_replaced_not_failed(kube_node, apps, namespace, images, tmp_path,
                                                                   capsys):
    create_deployment(apps, namespace, images["good"], replicas=1,
                      resources={"limits": {"memory": "32Mi", "ephemeral-storage": "4Mi"}},
                      volumes=[{"name": "marker", "hostPath": {"path": str(tmp_path / "marker"),
                                                               "type": "DirectoryOrCreate"}}],
                      volumeMounts=[{"name": "marker", "mountPath": "/marker"}])
    code, err = deploy(kube_node, namespace, tmp_path / "setup", capsys, watch_only="true")
    assert code == 0, err
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["evicted-once"])
    assert code == 0, err
    assert read_result(tmp_path, "deploy")["outcome"] == "success", err
    assert "evicted: Pod ephemeral local storage usage exceeds" in err
    assert running_image(apps, namespace) == images["evicted-once"]
    pods = k8s.CoreV1Api(apps.api_client).list_namespaced_pod(namespace).items
    assert [pod.status.reason for pod in pods if pod.status.phase == "Failed"] == ["Evicted"], err


def failing_verify(kube_node, workspace, capsys) -> tuple[int, str]:
    """The verify plugin against a URL nothing answers: it fails and rolls back what deploy changed."""
    env = {"PLUGIN_URL": f"http://127.0.0.1:{free_port()}/", "PLUGIN_ATTEMPTS": "1",
           "PLUGIN_KUBECONFIG": kube_node.kubeconfig(), "DRONE_WORKSPACE": str(workspace)}
    code = run_plugin(VERIFY, env)
    return code, capsys.readouterr().err


def test_verify_never_rolls_back_over_a_newer_deploy(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["good-2"])
    assert code == 0, err
    set_image(apps, namespace, images["crash"])  # someone deploys again before verify runs
    code, err = failing_verify(kube_node, tmp_path, capsys)
    assert code == 1, err
    assert read_result(tmp_path, "verify")["rollback"] == "superseded", err
    assert "not rolled back" in err
    assert running_image(apps, namespace) == images["crash"]


def test_verify_rolls_back_what_the_deploy_changed(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["good-2"])
    assert code == 0, err
    code, err = failing_verify(kube_node, tmp_path, capsys)
    assert code == 1, err
    assert read_result(tmp_path, "verify")["rollback"] == "rolled-back", err
    assert running_image(apps, namespace) == images["good"]


def test_the_image_already_running_is_said_and_changes_nothing(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    generation = apps.read_namespaced_deployment("app", namespace).metadata.generation
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["good"])
    assert code == 0, err
    assert f"already runs {images['good']}: nothing to roll out" in err
    assert apps.read_namespaced_deployment("app", namespace).metadata.generation == generation


def test_zero_replicas_is_said_not_passed_off_as_proven(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    apps.patch_namespaced_deployment_scale("app", namespace, {"spec": {"replicas": 0}})
    missing = images["good"].replace(":v1", ":never-pushed")
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=missing, verify_image="false")
    assert code == 0, err
    assert "0 replicas: the image is set, but no pod runs it, so nothing proves it pulls or starts" in err


def test_watch_only_rolls_back_to_the_revision_before_a_change_it_did_not_make(kube_node, apps, namespace, images,
                                                                                tmp_path, capsys):
    # Started right after someone else's change, before the controller has given it its revision
    # number: the revision before it must still be the one restored.
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    set_image(apps, namespace, images["crash"])
    code, err = deploy(kube_node, namespace, tmp_path, capsys, watch_only="true")
    assert_rolled_back(apps, namespace, tmp_path, images["good"], code, err, "crash-loop")
