"""`drone_kit exec`: a pipeline's steps as containers on a Docker engine, as Drone's runner runs
them: the workspace at /drone/src, services reachable by name, one step after another, live
logs prefixed with the step's name, and the pipeline's exit status."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drone_kit.clients.containers import Container, ContainerEngine
from drone_kit.clients.git import tracked_files
from drone_kit.errors import DroneKitError
from drone_kit.pipelines.plan import Step, conditions_hold, script

WORKSPACE = "/drone/src"
EXEC_BRIDGE_PREFIX = "dkx-"  # + the run's id: the Linux bridge of a run's network (15 characters at most)
Log = Callable[[str], None]


def copy_workspace(source: Path, target: Path) -> None:
    """The checkout as a fresh clone would have it: tracked files and .git (or everything outside git)."""
    files = tracked_files(source)
    if files is None:
        shutil.copytree(source, target, symlinks=True)
        return
    target.mkdir(parents=True)
    for name in files:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        if (source / name).is_file():
            shutil.copy2(source / name, destination, follow_symlinks=False)
    if (source / ".git").is_dir():
        shutil.copytree(source / ".git", target / ".git", symlinks=True)


class Execution:
    def __init__(self, engine: ContainerEngine, log: Log, network_host: bool = False) -> None:
        self.engine, self.log, self.network_host = engine, log, network_host
        self.run_id = uuid.uuid4().hex[:8]
        self.containers: list[Container] = []

    def _ensure_image(self, step: Step) -> None:
        present = self.engine.has_image(step.image)
        if step.pull == "always" or (not present and step.pull != "never"):
            self.log(f"[{step.name}] pulling {step.image}")
            problem = self.engine.pull(step.image)
            if problem and not present:
                raise DroneKitError(f"step {step.name}: cannot pull {step.image}: {problem}",
                                    hint="build or pull the image first, or fix `image:`")

    def _container(self, step: Step, workspace: Path, alias: str | None = None) -> Container:
        self._ensure_image(step)
        options: dict[str, Any] = {
            "environment": step.environment, "privileged": step.privileged, "detach": True, "working_dir": WORKSPACE,
            "volumes": {str(workspace): {"bind": WORKSPACE, "mode": "rw"}}, "labels": {"drone-kit-exec": self.run_id},
        }
        for volume in step.volumes:
            options["volumes"][volume["host"]] = {"bind": volume["path"], "mode": "rw"}
        if step.commands:
            options.update(entrypoint=["/bin/sh", "-c"], command=[script(step.commands)])
        if self.network_host:
            options["network_mode"] = "host"
        network = None if self.network_host else f"drone-kit-exec-{self.run_id}"
        container = self.engine.create(step.image, network, alias, bridge=f"{EXEC_BRIDGE_PREFIX}{self.run_id}",
                                       **options)
        self.containers.append(container)
        return container

    def run(self, steps: list[Step], services: list[Step], source: Path, facts: dict[str, str]) -> int:
        """Run the pipeline; its exit status (0, or the first failing step's)."""
        workspace_root = Path(tempfile.mkdtemp(prefix="drone-kit-exec-"))
        workspace = workspace_root / "src"
        status, exit_code = "success", 0
        try:
            copy_workspace(source, workspace)
            for service in services:
                self.engine.start(self._container(service, workspace, alias=service.name))
                self.log(f"[{service.name}] service started")
            for step in steps:
                if not conditions_hold(step.when, {**facts, "status": status}):
                    self.log(f"[{step.name}] skipped (when: {step.when})")
                    continue
                code = self._run_step(step, workspace)
                if code != 0 and not step.ignore_failure:
                    status, exit_code = "failure", exit_code or code
                    self.log(f"[{step.name}] failed with exit code {code}")
            return exit_code
        finally:
            for container in reversed(self.containers):
                self.engine.remove(container)
            self.engine.remove_networks()
            shutil.rmtree(workspace_root, ignore_errors=True)

    def _run_step(self, step: Step, workspace: Path) -> int:
        container = self._container(step, workspace)
        buffer = b""
        for chunk in self.engine.output(container):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                self.log(f"[{step.name}] {line.decode(errors='replace')}")
        if buffer:
            self.log(f"[{step.name}] {buffer.decode(errors='replace')}")
        return self.engine.exit_code(container)
