"""The container adapter's errors: an engine that goes away mid-run, or an address that is not one,
comes out as one DroneKitError (an `Error:` line), never as docker-py's traceback."""

from __future__ import annotations

import gc

import docker
import pytest

from drone_kit.clients.containers import ContainerEngine
from drone_kit.errors import DroneKitError
from tests.stack.engine import build_busybox_base, running_engine
from tests.stack.require import require_binary

# docker-py's unix transport leaves the socket of a refused connect open until a garbage collection
# (UnixHTTPConnection.connect). The adapter cannot close it: this test ignores exactly that
# warning and collects before it ends, so it cannot surface in a later test.
DOCKER_PY_SOCKET_LEAK = "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"


@pytest.mark.filterwarnings(DOCKER_PY_SOCKET_LEAK)
def test_an_engine_that_goes_away_mid_run_is_one_error():
    dockerd, runc = require_binary("dockerd", "docker.io"), require_binary("runc", "runc")
    with running_engine(dockerd, runc) as engine:
        build_busybox_base(engine.client, require_binary("busybox", "busybox-static"), "drone-kit-test/busybox:gone")
        adapter = ContainerEngine(docker.DockerClient(base_url=f"unix://{engine.socket}", timeout=10))
        container = adapter.create("drone-kit-test/busybox:gone", None, None, command=["true"])
    with pytest.raises(DroneKitError) as caught:  # the engine has stopped
        adapter.start(container)
    assert caught.value.message.startswith("the Docker engine failed:")
    assert "still running" in caught.value.hint
    del caught
    gc.collect()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:99999", "unix:///nonexistent/docker.sock"])
def test_an_address_no_engine_answers_at_is_one_error(address):
    with pytest.raises(DroneKitError) as caught:
        ContainerEngine.from_environment({"DOCKER_HOST": address})
    assert address in caught.value.message
