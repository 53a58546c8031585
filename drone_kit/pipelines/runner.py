"""`drone_kit exec`: a pipeline's steps as containers on a Docker engine, as Drone's runner runs
them: the workspace at /drone/src, services reachable by name, the steps as a graph (one after
another without `depends_on`, independent ones at the same time with it), live logs prefixed with
the step's name, and the pipeline's exit status. What runs when is decided in `schedule`."""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from drone_kit.clients.containers import Container, ContainerEngine
from drone_kit.clients.git import tracked_files
from drone_kit.errors import DroneKitError
from drone_kit.pipelines import schedule
from drone_kit.pipelines.plan import Step, script
from drone_kit.pipelines.schedule import EARLY_EXIT, Outcome

WORKSPACE = "/drone/src"
EXEC_BRIDGE_PREFIX = "dkx-"  # + the run's id: the Linux bridge of a run's network (15 characters at most)
Log = Callable[[str], None]


class Stopped(Exception):
    """The run is being torn down: a step that has not started its container yet must not."""


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
        self.engine, self.network_host = engine, network_host
        self._log = log
        self.run_id = uuid.uuid4().hex[:8]
        self.containers: list[Container] = []
        self._stopped = False
        # Steps run in threads: one lock keeps log lines whole, one keeps the container list (and
        # the network the first container creates) consistent with teardown.
        self._log_lock, self._containers_lock = threading.Lock(), threading.Lock()

    def log(self, line: str) -> None:
        with self._log_lock:
            self._log(line)

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
        with self._containers_lock:
            if self._stopped:
                raise Stopped()
            container = self.engine.create(step.image, network, alias, bridge=f"{EXEC_BRIDGE_PREFIX}{self.run_id}",
                                           **options)
            self.containers.append(container)
        return container

    def run(self, steps: list[Step], services: list[Step], source: Path, facts: dict[str, str]) -> int:
        """Run the pipeline; its exit status (0, or the exit code of the first step that failed it)."""
        workspace_root = Path(tempfile.mkdtemp(prefix="drone-kit-exec-"))
        workspace = workspace_root / "src"
        pool = ThreadPoolExecutor(max_workers=max(len(steps), 1), thread_name_prefix="drone-kit-exec")
        try:
            copy_workspace(source, workspace)
            for service in services:
                self.engine.start(self._container(service, workspace, alias=service.name))
                self.log(f"[{service.name}] service started")
            return schedule.exit_status(self._run_graph(pool, steps, workspace, facts))
        finally:
            self._stop()
            pool.shutdown(wait=True, cancel_futures=True)
            self.engine.remove_networks()
            shutil.rmtree(workspace_root, ignore_errors=True)

    def _stop(self) -> None:
        """Remove every container, running or not; a step still streaming its log then ends."""
        with self._containers_lock:
            self._stopped = True
            containers, self.containers = self.containers, []
        for container in reversed(containers):
            self.engine.remove(container)

    def _run_graph(self, pool: ThreadPoolExecutor, steps: list[Step], workspace: Path,
                   facts: dict[str, str]) -> list[Outcome]:
        """Start each step once what it waits for has finished; the outcomes in the order they came."""
        by_name, waits_for = {step.name: step for step in steps}, schedule.graph(steps)
        outcomes: dict[str, Outcome] = {}
        running: dict[Future[int], Step] = {}
        while len(outcomes) < len(steps):
            names = schedule.ready(waits_for, outcomes, [*outcomes, *(s.name for s in running.values())])
            if not names and not running:  # plan_steps refuses cycles and unknown names, so never
                raise RuntimeError(f"no step can start: {schedule.not_started(waits_for, outcomes)}")
            for name in names:
                reason = schedule.skip_reason(by_name[name], facts, schedule.pipeline_failed(outcomes.values()))
                if reason:
                    self.log(f"[{name}] skipped ({reason})")
                    outcomes[name] = Outcome("skipped")
                else:
                    running[pool.submit(self._run_step, by_name[name], workspace)] = by_name[name]
            if not running:
                continue  # skipped steps have finished: the steps waiting for them may be ready
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                step = running.pop(future)
                outcomes[step.name] = result = schedule.outcome(step, future.result())
                self._report(step, result)
                if result.exit_code == EARLY_EXIT:
                    for name in schedule.not_started(waits_for, [*outcomes, *(s.name for s in running.values())]):
                        self.log(f"[{name}] skipped ({step.name} exited {EARLY_EXIT}, which skips the steps to come)")
                        outcomes[name] = Outcome("skipped")
        return list(outcomes.values())

    def _report(self, step: Step, result: Outcome) -> None:
        if result.status == "failure":
            self.log(f"[{step.name}] failed with exit code {result.exit_code}")
        elif result.status == "ignored":
            self.log(f"[{step.name}] failed with exit code {result.exit_code} (ignored: failure: ignore)")

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
