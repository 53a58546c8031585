"""The test stack: a private Docker engine, a real registry and a local base image, all on
loopback, plus the guard that fails any test reaching beyond loopback."""

from __future__ import annotations

import pytest

from tests.stack import netguard
from tests.stack.engine import Engine, build_busybox_base, running_engine
from tests.stack.registry import Registry, running_registry
from tests.stack.require import require_binary

BASE_IMAGE = "drone-kit-test/busybox:latest"

netguard.install()


@pytest.fixture(autouse=True)
def loopback_only(request):
    """Fail the test if it tried to connect anywhere but loopback or the suite's test hosts.
    Only the opt-in real-cluster tests (-m cluster) may reach their cluster."""
    if request.node.get_closest_marker("cluster"):
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
