"""The deploy and verify plugin images, built from a locally made base and run as Drone runs it, against
the fake Kubernetes API (the step reaches it on the host's loopback)."""

from __future__ import annotations

from pathlib import Path

from drone_kit.step.results import read_result
from tests.fakes.http_server import FakeHandler, LoopbackServer
from tests.fakes.kube_api import FakeCluster
from tests.rollouts.recordings import load
from tests.stack.project_images import project_image, run_step

DEPLOY_TAG = "drone-kit-test/deploy:test"


def test_deploy_image_rolls_out_against_the_api(engine, tmp_path):
    project_image(engine, "deploy")
    cluster = FakeCluster(load("success"))
    try:
        env = {"PLUGIN_KUBECONFIG": cluster.kubeconfig(), "PLUGIN_NAMESPACE": "demo", "PLUGIN_DEPLOYMENT": "web",
               "PLUGIN_IMAGE": cluster.image, "PLUGIN_VERIFY_IMAGE": "false", "DRONE_WORKSPACE": "/drone/src",
               "DRONE_BUILD_NUMBER": "3", "DRONE_CARD_PATH": "/dev/stdout"}
        status, logs = run_step(engine, DEPLOY_TAG, tmp_path, env, network_mode="host")
    finally:
        cluster.close()
    assert status == 0, logs
    assert "rolled out in" in logs and "\x1b]1338;" in logs
    assert read_result(Path(tmp_path), "deploy")["outcome"] == "success"
    assert not engine.client.images.get(DEPLOY_TAG).attrs["Config"].get("User")


class Hello(FakeHandler):
    def do_GET(self):
        self.answer(200, "hello v9", "text/plain")


def test_verify_image_checks_a_url(engine, tmp_path):
    project_image(engine, "verify")
    with LoopbackServer(Hello) as hello:
        env = {"PLUGIN_URL": f"{hello.url}/", "PLUGIN_EXPECT_BODY": "hello v9", "PLUGIN_ROLLBACK": "false",
               "DRONE_WORKSPACE": "/drone/src"}
        status, logs = run_step(engine, "drone-kit-test/verify:test", tmp_path, env, network_mode="host")
    assert status == 0, logs
    assert "PASS http http://127.0.0.1:" in logs and read_result(Path(tmp_path), "verify")["outcome"] == "pass"


def test_shim_image_serves(engine, tmp_path):
    from tests.shim.support import SECRET, wait_for
    from tests.stack.processes import answers
    from tests.stack.registry import free_port

    project_image(engine, "shim")
    port = free_port()
    container = engine.client.containers.run(
        "drone-kit-test/shim:test", ["--listen", f"127.0.0.1:{port}"], network_mode="host", detach=True,
        environment={"DRONE_KIT_SHIM_DRONE_URL": "http://127.0.0.1:9", "DRONE_KIT_SHIM_HOOK_SECRET": SECRET},
        volumes={str(tmp_path): {"bind": "/var/lib/drone-kit", "mode": "rw"}})
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), timeout=60, what="the shim container")
    finally:
        logs = container.logs().decode(errors="replace")
        container.remove(force=True)
    assert (tmp_path / "outbox.sqlite").exists(), logs
