"""build-push with no Docker engine: by hand it fails at once, in one line naming DOCKER_HOST, and
starts nothing; only as a Drone step in a container does it start an engine of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drone_kit.clients import docker_engine
from drone_kit.plugins.build_push import BUILD_PUSH
from drone_kit.plugins.build_push import engine as engine_module
from drone_kit.plugins.build_push.engine import (
    REFUSE,
    START,
    USE,
    engine_decision,
    in_container,
    inside_drone_step,
    no_engine_message,
)
from drone_kit.step.plugin import run_plugin

# Where a dockerd started with its defaults (the machine's own engine) would write.
SYSTEM_PATHS = (Path("/var/run/docker.sock"), Path("/var/run/docker.pid"), Path("/var/lib/docker"))
DRONE_STEP = {"CI": "true", "DRONE": "true", "DRONE_BUILD_NUMBER": "7", "DRONE_STEP_NAME": "build"}


def fake_dockerd(directory: Path) -> Path:
    """A `dockerd` first on PATH that only records that it was started (and with what)."""
    marker = directory / "dockerd-started"
    binary = directory / "bin" / "dockerd"
    binary.parent.mkdir()
    binary.write_text(f'#!/bin/sh\necho "$@" > {marker}\nexit 1\n')
    binary.chmod(0o755)
    return marker


def dockerd_processes() -> set[int]:
    found = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"dockerd") and b"unix:///var/run/docker.sock" in argv:
            found.add(int(cmdline.parent.name))
    return found


def by_hand_env(tmp_path: Path) -> dict[str, str]:
    """A person's shell: no Drone or CI variables, DOCKER_HOST at a socket nothing listens on."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DRONE", "PLUGIN_", "KUBERNETES_")) and k not in ("CI", "DOCKER_HOST")}
    return env | {"DOCKER_HOST": f"unix://{tmp_path}/nothing.sock",
                  "PATH": f"{tmp_path}/bin:{env.get('PATH', '/usr/bin:/bin')}"}


def test_by_hand_with_no_engine_fails_at_once_in_one_line_and_starts_nothing(tmp_path):
    marker = fake_dockerd(tmp_path)
    before = {path: path.exists() for path in SYSTEM_PATHS}
    dockerds = dockerd_processes()
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with socket.socket() as registry:  # stands in for the registry: nothing may even connect to it
        registry.bind(("127.0.0.1", 0))
        registry.listen(8)
        registry.setblocking(False)
        repo = f"127.0.0.1:{registry.getsockname()[1]}/team/app"
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "drone_kit", "build-push", "--repo", repo, "--tag", "dev"],
                              cwd=tmp_path, env=by_hand_env(tmp_path), capture_output=True, text=True, timeout=120)
        seconds = time.monotonic() - started
        try:
            registry.accept()[0].close()
            asked = True
        except BlockingIOError:
            asked = False
    assert not asked, "the registry was asked before the engine was checked"
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"Error: no Docker engine answers at DOCKER_HOST=unix://{tmp_path}/nothing.sock",
        "Hint: start Docker or set DOCKER_HOST to an engine that runs; build-push starts an engine of its own "
        "only as a privileged Drone step (or with daemon: start)",
    ]
    assert done.stdout == ""
    assert seconds < 15
    assert not marker.exists(), f"dockerd was started: {marker.read_text()}"
    assert {path: path.exists() for path in SYSTEM_PATHS} == before
    assert dockerd_processes() <= dockerds


def test_without_docker_host_the_line_says_it_is_not_set(tmp_path, capsys, monkeypatch):
    env = {"DRONE_WORKSPACE": str(tmp_path), "PLUGIN_REPO": "127.0.0.1:1/team/app"}
    # The machine's own default socket may have an engine: a default socket nothing listens on.
    monkeypatch.setattr(docker_engine, "DEFAULT_DOCKER_HOST", f"unix://{tmp_path}/default.sock")
    assert run_plugin(BUILD_PUSH, env) == 1
    assert (f"Error: no Docker engine answers at unix://{tmp_path}/default.sock (DOCKER_HOST is not set)"
            in capsys.readouterr().err)


def test_as_a_drone_step_in_a_container_it_still_starts_its_own(tmp_path, capsys, monkeypatch):
    marker = fake_dockerd(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}/bin:{os.environ['PATH']}")
    monkeypatch.setattr(engine_module, "DAEMON_LOG", tmp_path / "dockerd.log")
    env = DRONE_STEP | {"KUBERNETES_SERVICE_HOST": "10.43.0.1", "DRONE_WORKSPACE": str(tmp_path),
                        "DOCKER_HOST": f"unix://{tmp_path}/nothing.sock", "PLUGIN_REPO": "127.0.0.1:1/team/app",
                        "PLUGIN_DRY_RUN": "true"}
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    code = run_plugin(BUILD_PUSH, env)
    err = capsys.readouterr().err
    assert code == 1  # the stand-in dockerd exits at once
    assert "starting dockerd" in err and "Error: dockerd exited with status 1 while starting" in err
    assert "--host unix:///var/run/docker.sock" in marker.read_text()


def test_external_mode_names_docker_host_too(tmp_path, capsys):
    env = DRONE_STEP | {"KUBERNETES_SERVICE_HOST": "10.43.0.1", "DRONE_WORKSPACE": str(tmp_path),
                        "DOCKER_HOST": f"unix://{tmp_path}/nothing.sock", "PLUGIN_REPO": "127.0.0.1:1/team/app",
                        "PLUGIN_DAEMON": "external"}
    assert run_plugin(BUILD_PUSH, env) == 1
    err = capsys.readouterr().err
    assert f"Error: no Docker engine answers at DOCKER_HOST=unix://{tmp_path}/nothing.sock" in err
    assert "starting dockerd" not in err


@pytest.mark.parametrize("mode, answers, drone_step, decision", [
    ("auto", True, False, USE), ("auto", True, True, USE),
    ("auto", False, False, REFUSE), ("auto", False, True, START),
    ("external", False, True, REFUSE), ("external", True, False, USE),
    ("start", True, False, START), ("start", False, False, START),
])
def test_engine_decision(mode, answers, drone_step, decision):
    assert engine_decision(mode, answers, drone_step) == decision


@pytest.mark.parametrize("environ, container, expected", [
    (DRONE_STEP, True, True),
    (DRONE_STEP, False, False),  # drone-runner-exec: a step on the host itself
    ({**DRONE_STEP, "DRONE": ""}, True, False),
    ({**DRONE_STEP, "DRONE_BUILD_NUMBER": "0"}, True, False),
    ({**DRONE_STEP, "DRONE_BUILD_NUMBER": ""}, True, False),
    ({"CI": "true", "GITHUB_ACTIONS": "true"}, True, False),  # another CI's container
    ({}, True, False),
])
def test_inside_a_drone_step(environ, container, expected):
    assert inside_drone_step(environ, container) is expected


@pytest.mark.parametrize("marker, environ, expected", [
    (".dockerenv", {}, True), ("run/.containerenv", {}, True),
    (None, {"KUBERNETES_SERVICE_HOST": "10.43.0.1"}, True), (None, {}, False),
])
def test_in_container(tmp_path, marker, environ, expected):
    if marker:
        (tmp_path / marker).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / marker).touch()
    assert in_container(environ, tmp_path) is expected


def test_the_message_names_docker_host():
    assert no_engine_message({"DOCKER_HOST": "tcp://10.0.0.1:2375"}) == (
        "no Docker engine answers at DOCKER_HOST=tcp://10.0.0.1:2375")
    assert "DOCKER_HOST is not set" in no_engine_message({})
