"""On the suite's real Kubernetes node: what the step may see and must not show — no secret in
anything it writes, the RBAC manifest as all it needs, and a permission taken away mid-rollout."""

from __future__ import annotations

import base64
import json
import threading
import uuid

from drone_kit.plugins.deploy import DEPLOY
from drone_kit.plugins.verify import VERIFY
from drone_kit.step.plugin import run_plugin
from drone_kit.step.results import read_result
from tests.plugins.deploy.node_support import (
    assert_rolled_back,
    deploy,
    grant_the_rbac_manifest,
    rolled_out,
)
from tests.stack.registry import free_port


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


def test_the_rbac_manifest_is_all_the_step_needs(kube_node, apps, namespace, images, tmp_path, capsys):
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    grant_the_rbac_manifest(apps, namespace, "deployer")
    code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["crash"],
                       kubeconfig=kube_node.kubeconfig("deployer"))
    assert_rolled_back(apps, namespace, tmp_path, images["good"], code, err, "crash-loop")
    assert "cannot open /etc/app.conf" in err  # pods/log is granted too


def test_a_watch_permission_taken_away_mid_rollout_ends_loudly_with_a_result(kube_node, apps, namespace, images,
                                                                             tmp_path, capsys):
    # Watches outlive a revoked RoleBinding until they reconnect (a minute): then nothing may be
    # watched, nor patched back. The step must say so and still write its result.
    rolled_out(kube_node, apps, namespace, images["good"], tmp_path, capsys)
    rbac = grant_the_rbac_manifest(apps, namespace, "deployer")
    revoke = threading.Timer(3.0, rbac.delete_namespaced_role_binding, ("drone-kit-deploy", namespace))
    revoke.start()
    try:
        code, err = deploy(kube_node, namespace, tmp_path, capsys, image=images["unready"], ready_timeout="5m",
                           kubeconfig=kube_node.kubeconfig("deployer"))
    finally:
        revoke.join()
    result = read_result(tmp_path, "deploy")
    assert code == 1, err
    assert result["outcome"] == "rollback-failed" and result["failure"]["reason"] == "watch-failed", err
    assert "COULD NOT ROLL BACK: not allowed to" in err and "THE ROLLBACK FAILED TOO" in err
    assert json.loads((tmp_path / "card.json").read_text())["data"]["outcome"] == "rollback-failed"
