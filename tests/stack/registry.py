"""A real registry (Debian's docker-registry, distribution 2.8) on a free loopback port."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import requests
import yaml

from tests.stack.processes import stop, wait_until_ready


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class Registry:
    host: str  # host:port, as it appears in image names
    root: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def running_registry(
    binary: str,
    address: str = "127.0.0.1",
    htpasswd: Path | None = None,
    ready_timeout: float = 30.0,
    wrap: Callable[..., list[str]] = lambda *argv: list(argv),
    storage: Path | None = None,
    port: int | None = None,
) -> Iterator[Registry]:
    """A registry listening on `address`; `wrap` turns its command line into one that runs it
    elsewhere (inside a test host's network namespace); `storage` shares another's blobs."""
    root = Path(tempfile.mkdtemp(prefix="dk-registry-"))
    port = port or free_port(address)
    config = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": str(storage or root / "data")}, "delete": {"enabled": True}},
        "http": {"addr": f"{address}:{port}"},
    }
    if htpasswd:
        config["auth"] = {"htpasswd": {"realm": "drone-kit-test", "path": str(htpasswd)}}
    (root / "config.yml").write_text(yaml.safe_dump(config))
    log = root / "registry.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            wrap(binary, "serve", str(root / "config.yml")), stdout=handle, stderr=subprocess.STDOUT
        )
    def ready() -> bool:
        with contextlib.suppress(requests.ConnectionError):
            return requests.get(f"http://{address}:{port}/v2/", timeout=2).status_code in (200, 401)
        return False

    try:
        wait_until_ready(process, ready, "docker-registry", log, ready_timeout)
        yield Registry(f"{address}:{port}", root, log)
    finally:
        stop(process)
        shutil.rmtree(root, ignore_errors=True)


def push_test_image(engine: docker.DockerClient, registry: Registry, dockerfile: str, name: str) -> str:
    """An image built from `dockerfile` and pushed to the suite's registry; its full name."""
    with tempfile.TemporaryDirectory(prefix="dk-app-") as context:
        (Path(context) / "Dockerfile").write_text(dockerfile)
        engine.images.build(path=context, tag=f"{registry.host}/{name}", rm=True)
    for line in engine.api.push(f"{registry.host}/{name}", stream=True, decode=True):
        if "error" in line:
            raise RuntimeError(f"pushing {name}: {line['error']}")
    return f"{registry.host}/{name}"
