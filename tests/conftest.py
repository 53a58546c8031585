"""The test stack: a private Docker engine, a real registry, a local base image and a real
single-node Kubernetes, all on this machine, plus the guard that fails any test reaching beyond
loopback and the suite's own test hosts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.paths import KUBERNETES_BUILD
from tests.stack import netguard
from tests.stack.engine import Engine, build_busybox_base, running_engine
from tests.stack.kubernetes import Node, running_node
from tests.stack.registry import Registry, push_test_image, running_registry
from tests.stack.require import missing, require_binary

BASE_IMAGE = "drone-kit-test/busybox:latest"
# The cluster tests run on the suite's own node unless this names a kubeconfig of yours (k3s).
EXTERNAL_KUBECONFIG = os.environ.get("DRONE_KIT_TEST_KUBECONFIG", "")

netguard.install()


@pytest.fixture(autouse=True)
def loopback_only(request):
    """Fail the test if it tried to connect anywhere but loopback or the suite's test hosts.
    Only cluster tests pointed at an outside cluster (DRONE_KIT_TEST_KUBECONFIG) may reach it."""
    if EXTERNAL_KUBECONFIG and request.node.get_closest_marker("cluster"):
        netguard.uninstall()
        yield
        netguard.install()
        return
    netguard.violations.clear()
    yield
    if netguard.violations:
        found = list(netguard.violations)
        netguard.violations.clear()
        pytest.fail("; ".join(found), pytrace=False)


@pytest.fixture(scope="session")
def engine() -> Engine:
    dockerd = require_binary("dockerd", "docker.io")
    runc = require_binary("runc", "runc")
    with running_engine(dockerd, runc) as running:
        yield running


@pytest.fixture(scope="session")
def registry() -> Registry:
    with running_registry(require_binary("docker-registry", "docker-registry")) as running:
        yield running


@pytest.fixture(scope="session")
def base_image(engine: Engine) -> str:
    """The local busybox base image's name, built once per run (FROM scratch + busybox-static)."""
    build_busybox_base(engine.client, require_binary("busybox", "busybox-static"), BASE_IMAGE)
    return BASE_IMAGE


@pytest.fixture(scope="session")
def kube_node(engine: Engine) -> Iterator[Node]:
    """The suite's Kubernetes node, started once per run (about 30 s) on the private engine."""
    if not (KUBERNETES_BUILD / "bin" / "kubelet").is_file():
        missing(f"the test node's binaries are not built in {KUBERNETES_BUILD}: "
                f"tests/stack/make-kubernetes {KUBERNETES_BUILD} (tests/run does it)")
    with running_node(KUBERNETES_BUILD / "bin", require_binary("etcd", "etcd-server"), engine) as node:
        yield node


@dataclass(frozen=True)
class Cluster:
    kubeconfig: str  # YAML, as a pipeline passes it in settings.kubeconfig
    images: tuple[str, str]  # two images the cluster can pull, different digests, both run `sleep`
    registry: str  # host:port of the registry they are in


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Cluster:
    """Where the cluster tests deploy: the suite's node, with images in the suite's registry; or,
    with DRONE_KIT_TEST_KUBECONFIG, your cluster and DRONE_KIT_TEST_IMAGE / _IMAGE_2."""
    if EXTERNAL_KUBECONFIG:
        images = (os.environ.get("DRONE_KIT_TEST_IMAGE", "busybox:1.36"),
                  os.environ.get("DRONE_KIT_TEST_IMAGE_2", "busybox:1.35"))
        return Cluster(Path(EXTERNAL_KUBECONFIG).expanduser().read_text(), images, images[0].split("/")[0])
    node: Node = request.getfixturevalue("kube_node")
    engine: Engine = request.getfixturevalue("engine")
    registry: Registry = request.getfixturevalue("registry")
    base = request.getfixturevalue("base_image")
    dockerfile = 'FROM {base}\nRUN echo {tag} > /marker\nCMD ["sleep", "86400"]\n'
    images = tuple(push_test_image(engine.client, registry, dockerfile.format(base=base, tag=tag),
                                   f"drone-kit-test/app:{tag}") for tag in ("one", "two"))
    return Cluster(node.kubeconfig(), images, registry.host)  # type: ignore[arg-type]
