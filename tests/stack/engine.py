"""A private Docker engine for the tests: its own data-root, exec-root, pidfile and socket.

No bridge and no iptables rules of its own, so it runs beside any other engine on the machine.
Containers get `network_mode="host"` or none; builds run with the host's loopback.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker

from drone_kit.clients.docker_engine import API_VERSION
from tests.stack.processes import wait_until_ready

RUNTIME_NAME = "dk-test-runc"
WRAPPER_SOURCE = Path(__file__).with_name("runtime-wrapper.py")


@dataclass
class Engine:
    root: Path
    socket: Path
    client: docker.DockerClient
    log: Path

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _write_wrapper(root: Path, runc: str) -> Path:
    wrapper = root / "runtime-wrapper"
    wrapper.write_text(f"#!{sys.executable}\nRUNC = {runc!r}\n" + WRAPPER_SOURCE.read_text())
    wrapper.chmod(0o755)
    return wrapper


@contextlib.contextmanager
def running_engine(
    dockerd: str, runc: str, extra_args: tuple[str, ...] = (), ready_timeout: float = 60.0
) -> Iterator[Engine]:
    # Short paths: containerd's sockets live under the exec-root and unix paths are limited.
    root = Path(tempfile.mkdtemp(prefix="dk-engine-", dir="/tmp"))
    sock, log = root / "docker.sock", root / "dockerd.log"
    command = [
        dockerd,
        "--data-root", str(root / "data"),
        "--exec-root", str(root / "exec"),
        "--pidfile", str(root / "docker.pid"),
        "--host", f"unix://{sock}",
        "--bridge", "none",
        "--iptables=false",
        "--ip-masq=false",
        "--add-runtime", f"{RUNTIME_NAME}={_write_wrapper(root, runc)}",
        "--default-runtime", RUNTIME_NAME,
        *extra_args,
    ]
    with open(log, "wb") as log_handle:
        process = subprocess.Popen(command, stdout=log_handle, stderr=subprocess.STDOUT, start_new_session=True)
    # A pinned API version: asking the engine for its version would connect before it is up.
    client = docker.DockerClient(base_url=f"unix://{sock}", version=API_VERSION, timeout=300)

    def ready() -> bool:
        try:
            return sock.exists() and client.ping()
        except docker.errors.DockerException:
            return False

    try:
        wait_until_ready(process, ready, "dockerd", log, ready_timeout)
        yield Engine(root, sock, client, log)
    finally:
        with contextlib.suppress(Exception):
            for container in client.containers.list(all=True):
                container.remove(force=True)
        client.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        subprocess.run(["umount", "-R", "-l", str(root / "exec")], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


BASE_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
"""


def build_busybox_base(client: docker.DockerClient, busybox: str, tag: str, platform: str | None = None) -> str:
    """A base image with only busybox-static; its id. Tests build FROM it, no image hub needed."""
    with tempfile.TemporaryDirectory(prefix="dk-base-") as context:
        shutil.copy(busybox, Path(context) / "busybox")
        (Path(context) / "Dockerfile").write_text(BASE_DOCKERFILE)
        image, _ = client.images.build(path=context, tag=tag, rm=True, platform=platform)
    return image.id
