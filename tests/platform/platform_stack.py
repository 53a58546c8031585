"""A platform for bootstrap to install on the suite's node, as an operator would have it: a
platform.yaml whose image overrides name stand-ins the node can pull, MetalLB's manifest served
from loopback (without CEL rules: the node is Kubernetes 1.20), the platform registry's NodePort
answered by a real registry on 127.0.0.1:<node port> holding the shim's image, and a volume for
every claim. Shared by the bootstrap tests and the bootstrap benchmark."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import yaml
from kubernetes import client as k8s

from drone_kit import __version__
from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.platform import catalog
from drone_kit.platform.config_file import load_config
from drone_kit.platform.objects import Obj
from drone_kit.platform.upstream_manifest import parse_manifest
from tests.paths import METALLB_MANIFEST
from tests.platform.metallb_standin import metallb_images, without_cel_rules
from tests.stack.project_images import import_base, project_image
from tests.stack.registry import running_registry
from tests.stack.require import require_binary

DRONE_KIT = [sys.executable, "-m", "drone_kit"]
# The stand-ins of Gitea and Drone only answer their health paths: they cannot do the OAuth login
# bootstrap's last phase, the wiring, needs (tests/platform/test_real_node_wire.py wires the fakes).
BOOTSTRAP = ("bootstrap", "--no-wire")


def free_node_port() -> int:
    """A free loopback port in Kubernetes' NodePort range (30000-32767)."""
    for port in range(30500, 32767):
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            return port
    raise RuntimeError("no free port in the NodePort range")


@contextlib.contextmanager
def serving(directory: Path):
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Platform:
    config: Path
    kubeconfig: Path
    env: dict[str, str]
    manifest: str  # MetalLB's, as served to bootstrap
    manifest_server: str
    runs: list[subprocess.CompletedProcess] = field(default_factory=list)  # a test module's runs so far

    def run(self, *args: str, config: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([*DRONE_KIT, *args, "--config", str(config or self.config), "--kubeconfig",
                               str(self.kubeconfig)], env=self.env, capture_output=True, text=True, timeout=timeout)


def platform_yaml(pool_host: str, node_port: int, images: dict[str, str], manifest_url: str, storage_class: str,
                  sha256: str, **timeouts: float) -> str:
    return yaml.safe_dump({
        "server": {"address": "127.0.0.1", "node": "localhost", "storage_class": storage_class},
        "metallb": {"pool": f"{pool_host}.200-{pool_host}.210", "manifest_url": manifest_url, "manifest_sha256": sha256,
                    "webhook_timeout": timeouts.get("webhook", 180)},
        "registry": {"node_port": node_port},
        "gitea": {"ip": f"{pool_host}.201"}, "drone": {"ip": f"{pool_host}.202"},
        "monitoring": {"grafana_ip": f"{pool_host}.203"},
        "images": images, "timeouts": {"ready": timeouts.get("ready", 300)},
    })


def push_shim(engine, registry_host: str) -> None:
    """The shim's real image where bootstrap looks for it: <registry>/drone-kit/shim:<version>."""
    target = f"{registry_host}/drone-kit/shim"
    engine.client.images.get(project_image(engine, "shim")).tag(target, __version__)
    for line in engine.client.api.push(target, __version__, stream=True, decode=True):
        assert "error" not in line, line


def provide_volumes(cluster: ClusterObjects, root: Path, objects: list[Obj]) -> None:
    """A hostPath PersistentVolume pre-bound to each claim among `objects` (once per claim)."""
    core = k8s.CoreV1Api(cluster.api_client)
    for claim in [obj for obj in objects if obj["kind"] == "PersistentVolumeClaim"]:
        namespace, name = claim["metadata"]["namespace"], claim["metadata"]["name"]
        directory = root / namespace / name
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o777)  # the images run as different users
        volume = f"dk-{namespace}-{name}"
        if cluster.get("v1", "PersistentVolume", volume) is not None:
            continue
        core.create_persistent_volume({
            "metadata": {"name": volume},
            "spec": {"capacity": claim["spec"]["resources"]["requests"], "accessModes": ["ReadWriteOnce"],
                     "storageClassName": claim["spec"]["storageClassName"],
                     "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": str(directory)},
                     "claimRef": {"namespace": namespace, "name": name}}})


def remove_platform(cluster: ClusterObjects, objects: list[Obj]) -> None:
    """Everything bootstrap installed, so the tests after it have the node to themselves:
    cluster-scoped objects one by one (the webhook configuration first), namespaces with all
    they hold, then the volumes."""
    core = k8s.CoreV1Api(cluster.api_client)
    for obj in sorted(objects, key=lambda o: o["kind"] != "ValidatingWebhookConfiguration"):
        if not obj["metadata"].get("namespace") and obj["kind"] != "Namespace":
            cluster.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"])
    namespaces = [obj["metadata"]["name"] for obj in objects if obj["kind"] == "Namespace"]
    for name in namespaces:
        cluster.delete("v1", "Namespace", name)
    namespaces_gone(cluster, namespaces)
    for volume in core.list_persistent_volume().items:
        if volume.metadata.name.startswith("dk-"):
            core.delete_persistent_volume(volume.metadata.name)


def namespaces_gone(cluster: ClusterObjects, names: list[str], timeout: float = 600) -> None:
    """Until the namespaces are deleted for good: one still terminating refuses every new object,
    and the next module may make one of the same name."""
    deadline = time.monotonic() + timeout
    while [name for name in names if cluster.get("v1", "Namespace", name) is not None]:
        if time.monotonic() > deadline:
            raise AssertionError(f"namespaces still terminating after {timeout:.0f}s: {names}")
        time.sleep(1)


@contextlib.contextmanager
def prepared_platform(work: Path, node, engine, registry, standin_images: dict[str, str], cluster: ClusterObjects,
                      storage_class: str, volume_root: Path) -> Iterator[Platform]:
    (work / "manifests").mkdir()
    (work / "manifests" / "metallb-native.yaml").write_bytes(METALLB_MANIFEST.read_bytes())
    manifest_for_node = yaml.safe_dump_all(without_cel_rules(parse_manifest(METALLB_MANIFEST.read_text())))
    (work / "manifests" / "metallb-for-1.20.yaml").write_text(manifest_for_node)
    kubeconfig = work / "kubeconfig"
    kubeconfig.write_text(node.kubeconfig())
    controller, speaker = metallb_images(engine.client, registry, import_base(engine))
    images = {**standin_images, "metallb_controller": controller, "metallb_speaker": speaker}
    port = free_node_port()
    env = {**os.environ, "CI": "true", "XDG_CACHE_HOME": str(work / "cache"), "KUBECONFIG": "/nonexistent"}
    with serving(work / "manifests") as url, running_registry(require_binary("docker-registry", "docker-registry"),
                                                               port=port) as node_registry:
        push_shim(engine, node_registry.host)
        text = platform_yaml("10.254.0", port, images, f"{url}/metallb-for-1.20.yaml", storage_class,
                             sha256=hashlib.sha256(manifest_for_node.encode()).hexdigest())
        (work / "platform.yaml").write_text(text)
        config = load_config(text)
        plan = catalog.plan(config, list(catalog.COMPONENTS), lambda c, component: parse_manifest(manifest_for_node))
        objects = [obj for p in plan for obj in p.objects]
        provide_volumes(cluster, volume_root, objects)
        try:
            yield Platform(work / "platform.yaml", kubeconfig, env, manifest_for_node, url)
        finally:
            remove_platform(cluster, objects)


