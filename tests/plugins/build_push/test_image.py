"""The build-push plugin image, built from a locally made base and run the way Drone runs it:
a container with PLUGIN_*/DRONE_* variables and the workspace at /drone/src, once with the
engine's socket mounted, once privileged with its own dockerd (docker-in-docker)."""

from __future__ import annotations

import json
import uuid

import docker
import docker.types
import pytest

from drone_kit.clients.registry import RegistryClient
from drone_kit.step.results import read_result
from tests.plugins.build_push.support import SHA, make_workspace
from tests.stack import netguard
from tests.stack.project_images import project_image, run_step
from tests.stack.registry import running_registry
from tests.stack.require import require_binary


@pytest.fixture(scope="module")
def plugin_image(engine) -> str:
    return project_image(engine, "build-push")


def drone_step_env(repo: str, base: str) -> dict[str, str]:
    return {
        "CI": "true", "DRONE": "true",  # as every Drone runner sets them: an engine of its own is allowed
        "DRONE_WORKSPACE": "/drone/src", "DRONE_REPO": "our-task/app", "DRONE_COMMIT_SHA": SHA,
        "DRONE_BUILD_NUMBER": "9", "DRONE_BUILD_EVENT": "push", "DRONE_BRANCH": "main",
        "DRONE_CARD_PATH": "/dev/stdout", "PLUGIN_REPO": repo, "PLUGIN_BUILD_ARGS": json.dumps({"BASE": base}),
    }


def test_plugin_image_with_the_engine_socket_mounted(engine, plugin_image, registry, base_image, tmp_path):
    workspace = make_workspace(tmp_path)
    name = f"image/{uuid.uuid4().hex[:8]}"
    env = drone_step_env(f"{registry.host}/{name}", base_image)
    status, logs = run_step(engine, plugin_image, workspace, env, mount_socket=True, network_mode="host")
    assert status == 0, logs
    assert "starting dockerd" not in logs
    assert "\x1b]1338;" in logs  # the card
    result = read_result(workspace, "image")
    assert RegistryClient(registry.host, scheme="http").manifest_digest(name, "latest") == result["digest"]


@pytest.fixture
def build_network(engine):
    """A bridge network of the test engine, as a Drone pod has a network of its own."""
    subnet = f"10.232.{uuid.uuid4().int % 250}"
    network = engine.client.networks.create(
        f"dk-build-{uuid.uuid4().hex[:6]}", driver="bridge",
        ipam=docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet=f"{subnet}.0/24", gateway=f"{subnet}.1")]
        ),
        options={"com.docker.network.bridge.enable_ip_masquerade": "false"},
    )
    netguard.allow_test_host(f"{subnet}.1")
    try:
        yield network, f"{subnet}.1"
    finally:
        netguard.forget_test_host(f"{subnet}.1")
        network.remove()


def test_plugin_image_privileged_with_its_own_dockerd(
    engine, plugin_image, base_image, build_network, registry, tmp_path
):
    network, gateway = build_network
    binary = require_binary("docker-registry", "docker-registry")
    # The same registry storage served on the build network's gateway: a plain-HTTP registry that
    # is not loopback for the step's own engine, which must pull the base from it and push to it.
    with running_registry(binary, address=gateway, storage=registry.root / "data") as shared:
        engine.client.images.get(base_image).tag(f"{registry.host}/base/busybox", "v1")
        assert not [
            e for e in engine.client.images.push(f"{registry.host}/base/busybox", "v1", stream=True, decode=True)
            if "error" in e
        ]
        workspace = make_workspace(tmp_path)
        repo = f"{shared.host}/dind/{uuid.uuid4().hex[:8]}"
        env = drone_step_env(repo, f"{shared.host}/base/busybox:v1") | {"PLUGIN_STORAGE_DRIVER": "vfs"}
        status, logs = run_step(engine, plugin_image, workspace, env, privileged=True, network=network.name)
        assert status == 0, logs
        assert f"starting dockerd --insecure-registry {shared.host}" in logs
        result = read_result(workspace, "image")
        client = RegistryClient(registry.host, scheme="http")
        name = repo.split("/", 1)[1]
        assert client.manifest_digest(name, "latest") == client.manifest_digest(name, SHA[:8]) == result["digest"]
