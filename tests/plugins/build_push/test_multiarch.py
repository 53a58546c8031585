"""Multi-arch: one build per platform (arm64 RUN steps through QEMU), one index under every tag."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from drone_kit.clients.registry import RegistryClient
from drone_kit.images.manifests import DOCKER_MANIFEST_LIST
from drone_kit.images.platforms import Platform
from drone_kit.images.reference import parse_reference
from drone_kit.plugins.build_push.publish import publish_index
from drone_kit.step.results import read_result
from tests.plugins.build_push.support import drone_env, run
from tests.stack.engine import build_busybox_base
from tests.stack.require import missing

APP = 'ARG BASE\nFROM $BASE\nRUN uname -m > /arch\nCMD ["cat", "/arch"]\n'


@pytest.fixture(scope="module")
def multiarch_base(engine, base_image, registry) -> str:
    """A linux/amd64 + linux/arm64 busybox base in the test registry; its reference."""
    cache = Path(os.environ.get("DRONE_KIT_TEST_CACHE", Path.home() / ".cache/drone-kit-tests"))
    arm64_busybox = cache / "arm64" / "bin" / "busybox"
    if not arm64_busybox.is_file():
        missing(f"{arm64_busybox} is missing: tests/run extracts it from busybox-static:arm64")
    binfmt = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
    if not binfmt.is_file() or "enabled" not in binfmt.read_text():
        missing("QEMU is not registered for arm64: apt-get install qemu-user-static binfmt-support (tests/run does)")
    name = f"{registry.host}/base/busybox"
    build_busybox_base(engine.client, str(arm64_busybox), f"{name}:arm64", platform="linux/arm64")
    engine.client.images.get(base_image).tag(name, "amd64")
    client = RegistryClient(registry.host, scheme="http")
    children = []
    for arch in ("amd64", "arm64"):
        events = list(engine.client.images.push(name, arch, stream=True, decode=True))
        assert not [e for e in events if "error" in e], events
        children.append((Platform("linux", arch), client.manifest("base/busybox", arch)))
    client.put_manifest("base/busybox", "multi", publish_index(client, parse_reference(name), children))
    # By tag: dockerd 20.10 refuses to pull one digest reference for a second platform.
    return f"{name}:multi"


def test_one_index_for_both_platforms_under_every_tag(engine, registry, multiarch_base, tmp_path, capsys):
    (tmp_path / "Dockerfile").write_text(APP)
    name = f"multi/{uuid.uuid4().hex[:8]}"
    env = {
        **drone_env(engine.host, multiarch_base, tmp_path),
        "PLUGIN_BUILD_ARGS": json.dumps({"BASE": multiarch_base}),
    }
    code, out, err = run(env, capsys, repo=f"{registry.host}/{name}", tags="latest,v2",
                         platforms="linux/amd64,linux/arm64")
    assert code == 0, err
    result = read_result(tmp_path, "image")
    assert result["platforms"] == ["linux/amd64", "linux/arm64"]

    client = RegistryClient(registry.host, scheme="http")
    assert client.manifest_digest(name, "latest") == client.manifest_digest(name, "v2") == result["digest"]
    index = client.manifest(name, "v2")
    assert index.media_type == DOCKER_MANIFEST_LIST
    children = {c["platform"]["architecture"]: c["digest"] for c in json.loads(index.body)["manifests"]}
    assert set(children) == {"amd64", "arm64"}
    for arch, digest in children.items():
        config_digest = json.loads(client.manifest(name, digest).body)["config"]["digest"]
        assert json.loads(client.blob(name, config_digest))["architecture"] == arch

    arm64_image = f"{registry.host}/{name}@{children['arm64']}"
    engine.client.api.pull(arm64_image)
    assert engine.client.containers.run(arm64_image, remove=True, network_mode="none").decode().strip() == "aarch64"


def test_a_base_without_the_platform_is_an_error_not_a_wrong_image(engine, registry, base_image, tmp_path, capsys):
    single = f"{registry.host}/base/only-amd64"
    engine.client.images.get(base_image).tag(single, "v1")
    assert not [e for e in engine.client.images.push(single, "v1", stream=True, decode=True) if "error" in e]
    (tmp_path / "Dockerfile").write_text(APP)
    env = {**drone_env(engine.host, base_image, tmp_path), "PLUGIN_BUILD_ARGS": json.dumps({"BASE": f"{single}:v1"})}
    code, out, err = run(env, capsys, repo=f"{registry.host}/multi/broken", platforms="linux/arm64")
    assert code == 1
    assert "linux/arm64" in err.splitlines()[-2] and "Error: " in err
