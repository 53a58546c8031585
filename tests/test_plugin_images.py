"""The deploy plugin image, built from a locally made base and run as Drone runs it, against
the fake Kubernetes API (the step reaches it on the host's loopback)."""

from __future__ import annotations

from pathlib import Path

from drone_kit.results import read_result
from tests.fakes.kube_api import FakeCluster
from tests.rollout_recordings import load
from tests.test_build_push_image import ROOT, import_base

DEPLOY_TAG = "drone-kit-test/deploy:test"


def test_deploy_image_rolls_out_against_the_api(engine, tmp_path):
    base = import_base(engine)
    engine.client.images.build(
        path=str(ROOT), dockerfile="plugins/deploy/Dockerfile", tag=DEPLOY_TAG, rm=True,
        buildargs={"BASE": base, "PIP_OPTIONS": "--no-index --find-links /src/build/wheels"},
    )
    cluster = FakeCluster(load("success"))
    try:
        env = {"PLUGIN_KUBECONFIG": cluster.kubeconfig(), "PLUGIN_NAMESPACE": "demo", "PLUGIN_DEPLOYMENT": "web",
               "PLUGIN_IMAGE": cluster.image, "PLUGIN_VERIFY_IMAGE": "false", "DRONE_WORKSPACE": "/drone/src",
               "DRONE_BUILD_NUMBER": "3", "DRONE_CARD_PATH": "/dev/stdout"}
        container = engine.client.containers.run(
            DEPLOY_TAG, environment=env, network_mode="host", detach=True,
            volumes={str(tmp_path): {"bind": "/drone/src", "mode": "rw"}})
        try:
            status = container.wait(timeout=300)["StatusCode"]
            logs = container.logs().decode(errors="replace")
        finally:
            container.remove(force=True)
    finally:
        cluster.close()
    assert status == 0, logs
    assert "rolled out in" in logs and "\x1b]1338;" in logs
    assert read_result(Path(tmp_path), "deploy")["outcome"] == "success"
    assert not engine.client.images.get(DEPLOY_TAG).attrs["Config"].get("User")
