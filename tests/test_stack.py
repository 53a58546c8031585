"""Proof that the test stack is real: an image built in the private engine, pushed to the
private registry, and read back by digest through the registry's HTTP API."""

from __future__ import annotations

import gzip
import io
import json
import socket
import tarfile
import uuid

import pytest

from drone_kit.clients.registry import RegistryClient
from tests.stack import netguard


def test_image_round_trip_through_engine_and_registry(engine, registry, base_image, tmp_path):
    token = uuid.uuid4().hex
    (tmp_path / "Dockerfile").write_text(
        f"ARG BASE\nFROM $BASE\nRUN echo {token} > /proof.txt\nLABEL proof={token}\nCMD [\"cat\", \"/proof.txt\"]\n"
    )
    repo = f"{registry.host}/stack/proof"
    image, _ = engine.client.images.build(path=str(tmp_path), tag=f"{repo}:v1", buildargs={"BASE": base_image})
    assert engine.client.containers.run(image.id, remove=True, network_mode="none").decode().strip() == token

    events = list(engine.client.images.push(repo, "v1", stream=True, decode=True))
    assert not [e for e in events if "error" in e], events

    client = RegistryClient(registry.host, scheme="http")
    by_tag = client.manifest("stack/proof", "v1")
    assert by_tag is not None
    by_digest = client.manifest("stack/proof", by_tag.digest)
    assert by_digest == by_tag
    manifest = json.loads(by_digest.body)
    config = json.loads(client.blob("stack/proof", manifest["config"]["digest"]))
    assert config["config"]["Labels"]["proof"] == token
    assert config["rootfs"]["diff_ids"][0].startswith("sha256:")

    found = []
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(client.blob("stack/proof", layer["digest"])))) as tar:
            if "proof.txt" in tar.getnames():
                found.append(tar.extractfile("proof.txt").read().decode().strip())
    assert found == [token]


def test_private_engine_runs_privileged_containers(engine, base_image):
    # Docker-in-docker steps are privileged; the runtime wrapper makes that possible here.
    output = engine.client.containers.run(base_image, ["id", "-u"], privileged=True, remove=True, network_mode="none")
    assert output.decode().strip() == "0"


def test_guard_blocks_connections_beyond_loopback():
    with socket.socket() as sock, pytest.raises(netguard.ForbiddenConnection):
        sock.connect(("192.0.2.10", 80))  # TEST-NET-1: refused before any packet leaves
    assert netguard.violations
    netguard.violations.clear()


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_guard_allows_loopback(address):
    assert netguard.is_allowed(address)


@pytest.mark.parametrize("address", ["172.16.5.4", "100.64.0.1", "8.8.8.8", "2001:db8::1"])
def test_guard_refuses_other_addresses(address):
    assert not netguard.is_allowed(address)


def test_guard_allows_registered_test_hosts():
    netguard.allow_test_host("10.231.0.2")
    try:
        assert netguard.is_allowed("10.231.0.2")
    finally:
        netguard.forget_test_host("10.231.0.2")
    assert not netguard.is_allowed("10.231.0.2")


def test_guard_allows_a_registered_pod_network_only_while_it_is_registered():
    netguard.allow_test_network("10.232.7.0/24")
    try:
        assert netguard.is_allowed("10.232.7.9") and not netguard.is_allowed("10.232.8.9")
    finally:
        netguard.forget_test_network("10.232.7.0/24")
    assert not netguard.is_allowed("10.232.7.9")
