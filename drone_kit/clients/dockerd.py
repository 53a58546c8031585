"""A Docker engine of the step's own, for docker-in-docker steps (privileged, no mounted socket).

Started with the registries that speak plain HTTP as --insecure-registry, so pushes, cache pulls
and base-image pulls all work against them. A daemon that does not come up within its timeout
fails the step at once, with the daemon's last log lines.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import requests

from drone_kit.clients.docker_engine import API_VERSION, unix_socket_accepts
from drone_kit.errors import DroneKitError

LOG_TAIL = 15


@dataclass(frozen=True)
class DaemonOptions:
    root: Path = Path("/var/lib/docker")
    socket: Path = Path("/var/run/docker.sock")
    exec_root: Path | None = None
    insecure_registries: tuple[str, ...] = ()
    mtu: int | None = None
    dns: tuple[str, ...] = ()
    storage_driver: str | None = None


def dockerd_command(options: DaemonOptions, dockerd: str = "dockerd") -> list[str]:
    """Pure: the dockerd command line for these options."""
    command = [dockerd, "--host", f"unix://{options.socket}", "--data-root", str(options.root)]
    if options.exec_root:
        command += ["--exec-root", str(options.exec_root), "--pidfile", str(options.exec_root / "docker.pid")]
    for registry in options.insecure_registries:
        command += ["--insecure-registry", registry]
    if options.mtu:
        command += ["--mtu", str(options.mtu)]
    for server in options.dns:
        command += ["--dns", server]
    if options.storage_driver:
        command += ["--storage-driver", options.storage_driver]
    return command


class Daemon:
    """A running dockerd; stop() ends it."""

    def __init__(self, process: subprocess.Popen, log: Path, socket: Path) -> None:
        self.process, self.log, self.socket = process, log, socket

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def log_tail(self, lines: int = LOG_TAIL) -> list[str]:
        try:
            return self.log.read_text(errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            return []

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_daemon(
    options: DaemonOptions,
    timeout: float,
    log: Path,
    dockerd: str = "dockerd",
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Daemon:
    """Start dockerd and wait until it answers; DroneKitError with its log if it does not."""
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(log, "wb") as handle:
            process = subprocess.Popen(dockerd_command(options, dockerd), stdout=handle, stderr=subprocess.STDOUT)
    except OSError as e:
        raise DroneKitError(f"cannot start dockerd: {e}",
                            hint="use a build-push image with a Docker engine, or mount one") from e
    daemon = Daemon(process, log, options.socket)
    deadline = clock() + timeout
    while True:
        if process.poll() is not None:
            raise DroneKitError(
                f"dockerd exited with status {process.returncode} while starting",
                hint="a step that starts its own engine must be privileged (privileged: true in .drone.yml)",
                details=daemon.log_tail(),
            )
        if options.socket.exists() and _answers(daemon.host):
            return daemon
        if clock() > deadline:
            daemon.stop()
            raise DroneKitError(
                f"dockerd did not answer within {timeout:g}s",
                hint="raise settings.daemon_timeout or check the log below",
                details=daemon.log_tail(),
            )
        sleep(0.2)


def _answers(host: str) -> bool:
    if not unix_socket_accepts(host):
        return False
    try:
        client = docker.APIClient(base_url=host, version=API_VERSION, timeout=5)
    except docker.errors.DockerException:
        return False
    try:
        client.ping()
    except (docker.errors.DockerException, requests.RequestException):
        return False
    finally:
        client.close()
    return True
