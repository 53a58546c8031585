"""The Docker engine that builds and pushes: connecting to it, and its build and push streams.

A thin adapter over docker-py's low-level APIClient; what the streams mean is decided in
`streams`, and docker-py's exceptions are translated into DroneKitError here.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeAlias

import docker
import docker.errors
import requests

from drone_kit.clients.docker_streams import BuildProgress, PushProgress
from drone_kit.errors import DroneKitError
from drone_kit.images.plain_http import daemon_trusts_plain_http, is_loopback_registry

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
# Docker 19.03+. Pinned: asking the engine for its version costs a round trip that execs runc.
API_VERSION = "1.40"
Log = Callable[[str], None]
EngineAPI: TypeAlias = docker.APIClient  # the low-level client: the build and push streams as they come


def unix_socket_accepts(host: str, timeout: float = 2.0) -> bool:
    """Whether a unix:// engine socket accepts connections; True for any other kind of host.

    Asked with a socket closed right after: docker-py leaks the socket of a refused connection.
    """
    if not host.startswith("unix://"):
        return True
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.connect(host.removeprefix("unix://"))
        except OSError:
            return False
    return True


def connect(environ: Mapping[str, str], timeout: float = 600) -> EngineAPI:
    """The engine at DOCKER_HOST (else the default socket); DroneKitError if it does not answer."""
    host = environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
    api = None
    try:
        if not unix_socket_accepts(host):
            raise docker.errors.DockerException(f"nothing accepts connections at {host}")
        api = docker.APIClient(base_url=host, version=API_VERSION, timeout=timeout)
        api.ping()
    except (docker.errors.DockerException, requests.RequestException) as e:
        if api is not None:
            api.close()
        raise DroneKitError(
            f"no Docker engine answers at {host}",
            hint="mount the engine's socket (volumes: /var/run/docker.sock) or set DOCKER_HOST",
        ) from e
    return api


def engine_trusts_plain_http(api: EngineAPI, host: str) -> bool:
    """Whether this engine pushes to `host` over plain HTTP (asks the engine unless on loopback)."""
    return is_loopback_registry(host) or daemon_trusts_plain_http(api.info(), host)


def explain_push_error(message: str, host: str) -> DroneKitError:
    """Pure: the push failure Docker reported in its stream, as an error with the fix."""
    lowered = message.lower()
    if "server gave http response to https client" in lowered:
        return DroneKitError(
            f"registry {host} speaks plain HTTP but the Docker engine used HTTPS",
            hint=f"start the engine with --insecure-registry {host} (daemon.json \"insecure-registries\")",
            details=[message],
        )
    if any(s in lowered for s in ("unauthorized", "authentication required", "no basic auth credentials")):
        return DroneKitError(f"registry {host} refused the login", hint="check settings.username and settings.password")
    if "no space left on device" in lowered:
        return DroneKitError("the disk is full", hint="free space where Docker keeps its data", details=[message])
    if any(s in lowered for s in ("connection refused", "no such host", "i/o timeout", "connect: ")):
        return DroneKitError(f"registry {host} is unreachable", hint="check settings.repo and that the registry runs",
                             details=[message])
    return DroneKitError(f"pushing to {host} failed: {message}")


def build(
    api: EngineAPI,
    context: Path,
    dockerfile: Path,
    tag: str,
    log: Log,
    buildargs: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    target: str | None = None,
    cache_from: list[str] | None = None,
    nocache: bool = False,
    pull: bool = False,
    platform: str | None = None,
) -> str:
    """Build an image, logging each output line; its id. DroneKitError naming a failing step."""
    progress = BuildProgress()
    try:
        dockerfile_arg = str(dockerfile.relative_to(context)) if dockerfile.is_relative_to(context) else str(dockerfile)
        stream = api.build(
            path=str(context), dockerfile=dockerfile_arg, tag=tag, buildargs=buildargs, labels=labels, target=target,
            cache_from=cache_from, nocache=nocache, pull=pull, rm=True, forcerm=True, decode=True, platform=platform,
        )
        for event in stream:
            for line in progress.feed(event):
                log(line)
    except (docker.errors.DockerException, requests.RequestException) as e:
        raise DroneKitError(f"the Docker engine failed during the build: {e}") from e
    for line in progress.finish():
        log(line)
    if progress.error:
        if "no space left on device" in progress.error.lower():
            raise DroneKitError("the disk is full", hint="free space where Docker keeps its data",
                                details=[progress.error])
        where = f" at {progress.step}" if progress.step else ""
        raise DroneKitError(
            f"the build failed{where}: {progress.error}",
            hint="the last lines of its output are above",
            details=list(progress.tail)[-10:],
        )
    if not progress.image_id:
        raise DroneKitError("the build ended without an image id")
    return progress.image_id


def push(api: EngineAPI, name: str, tag: str, host: str, log: Log, auth: dict | None = None) -> PushProgress:
    """Push name:tag, logging layer state changes; the finished PushProgress with the digest."""
    progress = PushProgress()
    try:
        for event in api.push(name, tag, stream=True, decode=True, auth_config=auth):
            for line in progress.feed(event):
                log(line)
    except (docker.errors.DockerException, requests.RequestException) as e:
        raise explain_push_error(str(e), host) from e
    if progress.error:
        raise explain_push_error(progress.error, host)
    if not progress.digest:
        raise DroneKitError(f"the push of {name}:{tag} ended without a digest")
    return progress


def pull(api: EngineAPI, name: str, tag: str, auth: dict | None = None) -> str | None:
    """Pull name:tag for use as a build cache; the error message if it could not be pulled."""
    error = None
    try:
        # Read to the end even after an error: a stream left half-read keeps its connection open.
        for event in api.pull(name, tag, stream=True, decode=True, auth_config=auth):
            if "error" in event and error is None:
                error = str(event["error"])
    except (docker.errors.DockerException, requests.RequestException) as e:
        return str(e)
    return error
