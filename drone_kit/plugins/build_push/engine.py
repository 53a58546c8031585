"""Which Docker engine builds: the one at DOCKER_HOST (else the default socket) when it answers,
else one this step starts itself — with `daemon: start`, or with `daemon: auto` only as a step of
a Drone pipeline, in its own container (privileged, no socket mounted).

By hand, a started dockerd would be the machine's own (/var/run/docker.sock, /var/lib/docker) and
would rewrite the host's firewall, so `daemon: auto` with no engine fails instead, naming
DOCKER_HOST, before the step touches anything else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from drone_kit.clients import docker_engine
from drone_kit.clients.docker_engine import EngineAPI
from drone_kit.clients.dockerd import DaemonOptions, start_daemon
from drone_kit.errors import DroneKitError
from drone_kit.images.plain_http import insecure_registries
from drone_kit.step.plugin import PluginRun

DAEMON_LOG = Path("/tmp/drone-kit-dockerd.log")
USE, START, REFUSE = "use", "start", "refuse"
# Docker and Podman leave these in every container; containerd (k3s) leaves none, but a pod always
# has KUBERNETES_SERVICE_HOST.
CONTAINER_MARKERS = (".dockerenv", "run/.containerenv")
REFUSE_HINT = ("start Docker or set DOCKER_HOST to an engine that runs; build-push starts an engine of its own "
               "only as a privileged Drone step (or with daemon: start)")


def engine_decision(mode: str, answers: bool, drone_step: bool) -> str:
    """Pure: USE the engine that answers, START one of the step's own, or REFUSE (fail, naming DOCKER_HOST)."""
    if mode == "start":
        return START
    if answers:
        return USE
    return START if mode == "auto" and drone_step else REFUSE


def inside_drone_step(environ: Mapping[str, str], in_container: bool) -> bool:
    """Pure: whether this runs as a Drone pipeline step in a container of its own.

    Drone's runners set DRONE=true and DRONE_BUILD_NUMBER in every step; the container is checked
    too, because drone-runner-exec runs steps on the host itself, where a started engine is the host's.
    """
    number = environ.get("DRONE_BUILD_NUMBER", "").strip()
    return (environ.get("DRONE", "").strip().lower() == "true" and number.isdigit() and int(number) > 0
            and in_container)


def in_container(environ: Mapping[str, str], root: Path = Path("/")) -> bool:
    """Whether this process runs in a container (reads the marker files under `root`)."""
    return bool(environ.get("KUBERNETES_SERVICE_HOST")) or any((root / m).exists() for m in CONTAINER_MARKERS)


def no_engine_message(environ: Mapping[str, str]) -> str:
    """Pure: the error line when no engine answers, naming DOCKER_HOST whether it is set or not."""
    host = environ.get("DOCKER_HOST")
    where = f"DOCKER_HOST={host}" if host else f"{docker_engine.DEFAULT_DOCKER_HOST} (DOCKER_HOST is not set)"
    return f"no Docker engine answers at {where}"


def choose_engine(run: PluginRun) -> EngineAPI | None:
    """The engine that answers, or None when this step is to start its own; DroneKitError when neither.

    Called first thing, so that by hand a missing engine fails before the registry is even asked.
    """
    mode = run.settings["daemon"]
    if mode == "start":
        return None
    try:
        return docker_engine.connect(run.environ)
    except DroneKitError as e:
        drone_step = inside_drone_step(run.environ, in_container(run.environ))
        if engine_decision(mode, False, drone_step) == START:
            return None
        raise DroneKitError(no_engine_message(run.environ),
                            hint=REFUSE_HINT if mode == "auto" else e.hint) from e


@contextlib.contextmanager
def build_engine(run: PluginRun, found: EngineAPI | None, host: str, scheme: str) -> Iterator[EngineAPI]:
    """The engine to build with: `found` (closed by its owner), else one started for this step."""
    if found is not None:
        yield found
        return
    s = run.settings
    options = DaemonOptions(
        insecure_registries=tuple(insecure_registries(host, scheme, s["insecure"])), mtu=s["mtu"],
        dns=tuple(s["dns"] or ()), storage_driver=s["storage_driver"],
    )
    run.say("starting dockerd" + "".join(f" --insecure-registry {r}" for r in options.insecure_registries))
    daemon = start_daemon(options, s["daemon_timeout"].total_seconds(), DAEMON_LOG)
    try:
        with contextlib.closing(docker_engine.connect({"DOCKER_HOST": daemon.host})) as api:
            yield api
    finally:
        daemon.stop()
