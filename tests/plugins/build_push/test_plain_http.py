"""A plain-HTTP registry on a real, non-loopback address: a test host in a network namespace.

Docker treats loopback registries as insecure by itself, so only here does the engine meet the
"server gave HTTP response to HTTPS client" error that k3s home labs know so well.
"""

from __future__ import annotations

import pytest

from drone_kit.clients.registry import RegistryClient
from drone_kit.step.results import read_result
from tests.plugins.build_push.support import drone_env, make_workspace, run
from tests.stack.engine import build_busybox_base, running_engine
from tests.stack.netns import netns_host
from tests.stack.registry import running_registry
from tests.stack.require import require_binary

BASE = "drone-kit-test/busybox:latest"


@pytest.fixture(scope="module")
def http_registry():
    require_binary("ip", "iproute2")
    with netns_host() as host, running_registry(
        require_binary("docker-registry", "docker-registry"), address=host.address, wrap=host.command, port=5000
    ) as registry:
        yield registry


@pytest.fixture(scope="module")
def trusting_engine(http_registry):
    """A second private engine, started with --insecure-registry for the test host."""
    with running_engine(
        require_binary("dockerd", "docker.io"), require_binary("runc", "runc"),
        extra_args=("--insecure-registry", http_registry.host),
    ) as engine:
        build_busybox_base(engine.client, require_binary("busybox", "busybox-static"), BASE)
        yield engine


def test_plain_docker_push_fails_there(engine, base_image, http_registry):
    engine.client.images.get(base_image).tag(f"{http_registry.host}/plain/push", "v1")
    events = list(engine.client.images.push(f"{http_registry.host}/plain/push", "v1", stream=True, decode=True))
    errors = [e["error"] for e in events if "error" in e]
    assert errors and "server gave HTTP response to HTTPS client" in errors[0]


def test_build_push_names_the_daemon_flag_before_building(engine, base_image, http_registry, tmp_path, capsys):
    images_before = len(engine.client.images.list(all=True))
    env = drone_env(engine.host, base_image, make_workspace(tmp_path))
    code, out, err = run(env, capsys, repo=f"{http_registry.host}/team/app")
    assert code == 1
    assert f"Error: registry {http_registry.host} speaks plain HTTP, but the Docker engine would push over HTTPS" in err
    assert f"--insecure-registry {http_registry.host}" in err
    assert len(engine.client.images.list(all=True)) == images_before


def test_auto_detection_pushes_and_tags_over_plain_http(trusting_engine, http_registry, tmp_path, capsys):
    workspace = make_workspace(tmp_path)
    env = drone_env(trusting_engine.host, BASE, workspace)
    code, out, err = run(env, capsys, repo=f"{http_registry.host}/team/app", tags="latest,v1")
    assert code == 0, err
    assert "(registry over http)" in err
    digest = read_result(workspace, "image")["digest"]
    client = RegistryClient(http_registry.host, scheme="http")
    assert client.manifest_digest("team/app", "latest") == client.manifest_digest("team/app", "v1") == digest
