"""Containers on a Docker engine, through docker-py's high-level client: what the local pipeline
runner needs to run steps as Drone's runner would. docker-py's errors become DroneKitError here."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import docker
import docker.errors
import requests

from drone_kit.clients.docker_engine import DEFAULT_DOCKER_HOST, unix_socket_accepts
from drone_kit.errors import DroneKitError

Container = Any  # docker.models.containers.Container: only this module calls its methods
_Result = TypeVar("_Result")
_ENGINE_ERRORS = (docker.errors.DockerException, requests.RequestException)


def _engine_failure(error: Exception) -> DroneKitError:
    detail = getattr(error, "explanation", None) or str(error) or type(error).__name__
    return DroneKitError(f"the Docker engine failed: {detail}",
                         hint="is the engine still running? (DOCKER_HOST, or the default socket)")


def _engine_call(method: Callable[..., _Result]) -> Callable[..., _Result]:
    """docker-py's errors, when the engine fails mid-run, as one DroneKitError."""
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> _Result:
        try:
            return method(*args, **kwargs)
        except _ENGINE_ERRORS as e:
            raise _engine_failure(e) from e
    return call


class ContainerEngine:
    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self._networks: dict[str, Any] = {}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ContainerEngine:
        """The engine at DOCKER_HOST (else the default socket); DroneKitError if none answers."""
        host = environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
        if not unix_socket_accepts(host):  # asked first: docker-py leaks the socket of a refused connect
            raise DroneKitError(f"no Docker engine answers at {environ.get('DOCKER_HOST') or 'the default socket'}",
                                hint="start Docker, or set DOCKER_HOST to an engine that runs")
        try:
            client = docker.DockerClient.from_env(environment=dict(environ))
            client.ping()
        except ValueError as e:  # docker-py lets urllib's ValueError out for a DOCKER_HOST like tcp://host:99999
            raise DroneKitError(f"DOCKER_HOST={environ.get('DOCKER_HOST', '')!r} is not an engine address: {e}",
                                hint="set DOCKER_HOST to unix:///PATH/docker.sock or tcp://HOST:PORT") from e
        except _ENGINE_ERRORS as e:
            raise DroneKitError(f"no Docker engine answers at {environ.get('DOCKER_HOST') or 'the default socket'}",
                                hint="start Docker, or set DOCKER_HOST to an engine that runs") from e
        return cls(client)

    def has_image(self, image: str) -> bool:
        try:
            self.client.images.get(image)
        except docker.errors.ImageNotFound:
            return False
        except docker.errors.APIError as e:
            raise DroneKitError(f"image {image!r}: {e.explanation}") from e
        return True

    def pull(self, image: str) -> str | None:
        """Pull an image; the engine's explanation when it could not."""
        try:
            self.client.images.pull(image)
        except docker.errors.APIError as e:
            return str(e.explanation)
        return None

    @_engine_call
    def create(self, image: str, network: str | None, alias: str | None, bridge: str | None = None,
               **options: Any) -> Container:
        """A container (not started) on `network` reachable by `alias`, or on the options' own
        network_mode when `network` is None. The network is made on first use, on a Linux bridge
        named `bridge` when given (`ip link` then shows whose it is)."""
        if network is None:
            return self.client.containers.create(image, **options)
        if network not in self._networks:
            bridge_options = {"com.docker.network.bridge.name": bridge} if bridge else None
            self._networks[network] = self.client.networks.create(network, driver="bridge", options=bridge_options)
        container = self.client.containers.create(image, **options, network=network)
        if alias:
            self._networks[network].disconnect(container)
            self._networks[network].connect(container, aliases=[alias])
        return container

    def output(self, container: Container) -> Iterator[bytes]:
        """Start a container and stream what it prints until it ends."""
        try:
            container.start()
            yield from container.logs(stream=True, follow=True)
        except _ENGINE_ERRORS as e:
            raise _engine_failure(e) from e

    @_engine_call
    def start(self, container: Container) -> None:
        container.start()

    @_engine_call
    def exit_code(self, container: Container) -> int:
        return int(container.wait()["StatusCode"])

    def remove(self, container: Container) -> None:
        """Remove a container, running or not; one already gone is no error."""
        try:
            container.remove(force=True)
        except docker.errors.APIError:
            pass

    @_engine_call
    def remove_networks(self) -> None:
        for network in self._networks.values():
            network.remove()
        self._networks.clear()
