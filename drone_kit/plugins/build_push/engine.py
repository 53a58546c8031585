"""Which Docker engine builds: the one at DOCKER_HOST or a mounted socket when it answers
(daemon: auto or external), else one this step starts itself (daemon: start, or auto inside a
privileged step with no engine)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from drone_kit.clients import docker_engine
from drone_kit.clients.docker_engine import EngineAPI
from drone_kit.clients.dockerd import DaemonOptions, start_daemon
from drone_kit.errors import DroneKitError
from drone_kit.images.plain_http import insecure_registries
from drone_kit.step.plugin import PluginRun

DAEMON_LOG = Path("/tmp/drone-kit-dockerd.log")


@contextlib.contextmanager
def build_engine(run: PluginRun, host: str, scheme: str) -> Iterator[EngineAPI]:
    """The engine to build with: the one given when it answers (daemon: auto), else a started one."""
    s = run.settings
    if s["daemon"] != "start":
        try:
            api = docker_engine.connect(run.environ)
        except DroneKitError:
            if s["daemon"] == "external":
                raise
        else:
            with contextlib.closing(api):
                yield api
            return
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
