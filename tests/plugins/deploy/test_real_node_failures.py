"""Every failure class a rollout meets, end to end on the suite's real Kubernetes node, through
the deploy plugin exactly as Drone runs it: the failure is seen, explained, rolled back, and the
rollback is seen through until the Deployment runs the previous image again, with `deploy.json`
and the card written."""

from __future__ import annotations

import base64
import json
import threading
import uuid

import pytest
from kubernetes import client as k8s

from drone_kit.clients.kubeconfig import api_client
from drone_kit.plugins.deploy import DEPLOY
from drone_kit.plugins.verify import VERIFY
from drone_kit.step.plugin import run_plugin
from drone_kit.step.results import read_result
from tests.conftest import push_test_image
from tests.stack.kubernetes import NODE_NAME
from tests.stack.netns import netns_host
from tests.stack.registry import free_port, running_registry
from tests.stack.require import require_binary

# Images the node pulls from the suite's registry: what each one does when it runs.
DOCKERFILES = {
    "good": 'FROM {base}\nRUN touch /ready\nCMD ["sleep", "86400"]\n',
    "good-2": 'FROM {base}\nRUN touch /ready && echo 2 > /version\nCMD ["sleep", "86400"]\n',
    "crash": 'FROM {base}\nCMD ["sh", "-c", "echo cannot open /etc/app.conf; exit 3"]\n',
    "hungry": 'FROM {base}\nCMD ["sh", "-c", "x=0123456789; while true; do x=$x$x; done"]\n',
    "unready": 'FROM {base}\nCMD ["sleep", "86400"]\n',
}


@pytest.fixture(scope="module")
def images(engine, registry, base_image) -> dict[str, str]:
    return {name: push_test_image(engine, registry, dockerfile.format(base=base_image), f"node-tests/{name}:v1")
            for name, dockerfile in DOCKERFILES.items()}


@pytest.fixture(scope="module")
def apps(kube_node) -> k8s.AppsV1Api:
    return k8s.AppsV1Api(api_client(kube_node.kubeconfig(), None, {}))


@pytest.fixture
def namespace(apps):
    core = k8s.CoreV1Api(apps.api_client)
    name = f"dk-node-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


ZERO_DOWNTIME = {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def create_deployment(apps, namespace: str, image: str, progress_deadline: int = 600, replicas: int = 2,
                      strategy: dict | None = ZERO_DOWNTIME, **container) -> None:
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "app"},
        "spec": {"replicas": replicas, "progressDeadlineSeconds": progress_deadline,
                 "selector": {"matchLabels": {"app": "app"}}, **({"strategy": strategy} if strategy else {}),
                 "template": {"metadata": {"labels": {"app": "app"}}, "spec": {
                     "terminationGracePeriodSeconds": 1,
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
    # With one replica and the default strategy the old pod goes first, and the deadline's
    # condition outlives the rollback: the rollback must be judged by its own revision.
    create_deployment(apps, namespace, images["good"], progress_deadline=10, replicas=replicas, strategy=strategy)
    code, err = deploy(kube_node, namespace, tmp_path / "setup", capsys, watch_only="true")
    assert code == 0, err
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["unready"], ready_timeout="5m")
    assert_rolled_back(apps, namespace, tmp_path, images["good"], code, err, "progress-deadline")


def test_a_kubeconfig_that_skips_tls_verification_is_said_once(kube_node, apps, namespace, images, tmp_path,
                                                               capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["good-2"],
                       kubeconfig=kube_node.kubeconfig(verify=False))
    assert code == 0, err
    assert len([line for line in err.splitlines() if "insecure-skip-tls-verify" in line]) == 1, err
    assert "InsecureRequestWarning" not in err and "Unverified HTTPS request" not in err


def set_image(apps, namespace: str, image: str) -> None:
    """Another deploy's change, as `kubectl set image` makes it."""
    apps.patch_namespaced_deployment("app", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": image}]}}}})


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


def test_verify_never_rolls_back_over_a_newer_deploy(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["good-2"])
    assert code == 0, err
    set_image(apps, namespace, images["crash"])  # someone deploys again before verify runs
    env = {"PLUGIN_URL": f"http://127.0.0.1:{free_port()}/", "PLUGIN_ATTEMPTS": "1",
           "PLUGIN_KUBECONFIG": kube_node.kubeconfig(), "DRONE_WORKSPACE": str(tmp_path)}
    code = run_plugin(VERIFY, env)
    err = capsys.readouterr().err
    assert code == 1, err
    assert read_result(tmp_path, "verify")["rollback"] == "superseded", err
    assert "not rolled back" in err
    assert running_image(apps, namespace) == images["crash"]


def test_verify_rolls_back_what_the_deploy_changed(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["good-2"])
    assert code == 0, err
    env = {"PLUGIN_URL": f"http://127.0.0.1:{free_port()}/", "PLUGIN_ATTEMPTS": "1",
           "PLUGIN_KUBECONFIG": kube_node.kubeconfig(), "DRONE_WORKSPACE": str(tmp_path)}
    code = run_plugin(VERIFY, env)
    err = capsys.readouterr().err
    assert code == 1, err
    assert read_result(tmp_path, "verify")["rollback"] == "rolled-back", err
    assert running_image(apps, namespace) == images["good"]


def test_no_secret_reaches_anything_the_steps_write(kube_node, apps, namespace, images, tmp_path, capsys):
    # An inline env value (a secret, as careless manifests have them) and the kubeconfig's token,
    # through a deploy and a failing verify that rolls back: neither is in any output or file.
    env_secret = f"db-password-{uuid.uuid4().hex}"
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys,
               env=[{"name": "DB_PASSWORD", "value": env_secret}])
    kubeconfig = base64.b64encode(kube_node.kubeconfig().encode()).decode()
    env = {"PLUGIN_NAMESPACE": namespace, "PLUGIN_DEPLOYMENT": "app", "PLUGIN_KUBECONFIG": kubeconfig,
           "PLUGIN_IMAGE": images["good-2"], "DRONE_WORKSPACE": str(tmp_path),
           "DRONE_CARD_PATH": str(tmp_path / "deploy-card.json")}
    assert run_plugin(DEPLOY, env) == 0
    written = capsys.readouterr()
    verify_env = {"PLUGIN_URL": f"http://127.0.0.1:{free_port()}/", "PLUGIN_ATTEMPTS": "1",
                  "PLUGIN_KUBECONFIG": kubeconfig, "DRONE_WORKSPACE": str(tmp_path),
                  "DRONE_CARD_PATH": str(tmp_path / "verify-card.json")}
    assert run_plugin(VERIFY, verify_env) == 1
    verified = capsys.readouterr()
    assert read_result(tmp_path, "verify")["rollback"] == "rolled-back", verified.err
    restored = apps.read_namespaced_deployment("app", namespace).spec.template.spec.containers[0]
    assert restored.image == images["good"] and restored.env[0].value == env_secret  # restored whole
    files = [path.read_text() for path in tmp_path.rglob("*.json")]
    everything = "\n".join([written.out, written.err, verified.out, verified.err, *files])
    assert len(files) >= 4  # deploy.json, verify.json and both cards
    for secret in (env_secret, kube_node.tokens["admin"], kubeconfig):
        assert secret not in everything


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


@pytest.fixture(scope="module")
def http_registry():
    """A plain-HTTP registry on a real, non-loopback address: the node's engine talks HTTPS to it."""
    with netns_host() as host, running_registry(require_binary("docker-registry", "docker-registry"),
                                                address=host.address, wrap=host.command, port=5000) as registry:
        yield registry


def test_a_plain_http_registry_gets_the_registries_yaml_fix(kube_node, apps, namespace, images, http_registry,
                                                            tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=f"{http_registry.host}/app:v1",
                       verify_image="false")
    assert_rolled_back(apps, namespace, tmp_path, images["good"], code, err, "image-pull")
    assert "server gave HTTP response to HTTPS client" in err
    assert f'    "{http_registry.host}":\n' in err and f'        - "http://{http_registry.host}"' in err


def test_a_slow_start_succeeds(kube_node, apps, namespace, images, tmp_path, capsys, engine, registry, base_image):
    slow = push_test_image(engine, registry, f'FROM {base_image}\nCMD ["sh", "-c", "sleep 12; touch /ready; '
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
