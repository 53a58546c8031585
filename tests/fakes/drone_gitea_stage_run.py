"""One stage of a build run as drone-runner runs it, with `drone_kit exec` doing the steps: the
clone, the pipeline the build used (as the test adapts it to the checkout), run_exec on the
engine, and every step's start, end and output recorded in the stage's state as they happen.

run_exec says what happens only in log lines; when each step's container starts and how it exits
is read from the engine it is given (each container carries its step's DRONE_STEP_NAME), so a
step that prints nothing still has its times and exit code, and a step's output is told apart
from run_exec's own remarks (`[x] skipped (…)`, `[x] failed with exit code …`) by when it comes.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import yaml

from drone_kit.clients.containers import Container, ContainerEngine
from drone_kit.errors import DroneKitError
from drone_kit.pipelines.local_run import run_exec
from tests.fakes.drone_gitea_clone import clone_commit
from tests.fakes.drone_gitea_stage_state import CLONE, StageState

Adapt = Callable[[dict, Path], dict]
STEP_LINE = re.compile(r"\[([^\]]+)\] ?(.*)", re.DOTALL)


@dataclass(frozen=True)
class StageJob:
    """What the runner gives one stage: where from, with what, and whom to tell."""
    clone_url: str
    credentials: tuple[str, str]
    build: dict
    repo: dict
    config: str  # the .drone.yml the build was created with
    workdir: Path
    client: docker.DockerClient
    secrets: dict[str, str]
    adapt: Adapt
    network_host: bool
    next_id: Callable[[], int]  # Drone's step ids
    changed: Callable[[], None]  # a step started or ended: report the stage
    transcript: Callable[[str], None]  # every line run_exec printed, for a failing test to show


class StepObservingEngine(ContainerEngine):
    def __init__(self, client: docker.DockerClient, stage: StageState, changed: Callable[[], None]) -> None:
        super().__init__(client)
        self._stage, self._changed = stage, changed
        self._names: dict[str, str] = {}  # container id → step name

    def create(self, image: str, network: str | None, alias: str | None, bridge: str | None = None,
               **options: Any) -> Container:
        container = super().create(image, network, alias, bridge, **options)
        self._names[container.id] = str((options.get("environment") or {}).get("DRONE_STEP_NAME", ""))
        return container

    def start(self, container: Container) -> None:
        super().start(container)  # only services are started this way: steps start in output()
        self._stage.start(self._names.get(container.id, ""))
        self._changed()

    def output(self, container: Container) -> Iterator[bytes]:
        self._stage.start(self._names.get(container.id, ""))
        self._changed()
        yield from super().output(container)

    def exit_code(self, container: Container) -> int:
        code = super().exit_code(container)
        self._stage.finish(self._names.get(container.id, ""), code)
        self._changed()
        return code


def _route_line(stage: StageState, line: str) -> None:
    found = STEP_LINE.fullmatch(line)
    if found is None:
        return
    name, text = found[1], found[2]
    if stage.status_of(name) == "pending" and text.startswith("skipped ("):
        return
    stage.write(name, text)


def _variables(job: StageJob, stage: dict) -> dict[str, str]:
    build = job.build
    return {"DRONE_BUILD_NUMBER": str(build["number"]), "DRONE_BUILD_EVENT": build.get("event") or "push",
            "DRONE_COMMIT_SHA": build["after"], "DRONE_COMMIT": build["after"], "DRONE_COMMIT_REF": build["ref"],
            "DRONE_COMMIT_BEFORE": build.get("before") or "", "DRONE_COMMIT_MESSAGE": build.get("message") or "",
            "DRONE_BRANCH": build.get("target") or "", "DRONE_COMMIT_BRANCH": build.get("target") or "",
            "DRONE_REPO": job.repo["slug"], "DRONE_STAGE_NAME": stage["name"],
            "DRONE_STAGE_NUMBER": str(stage["number"])}


def _adapted_config(job: StageJob, stage_name: str, adapt: bool) -> tuple[str, dict]:
    """The whole file with this stage's pipeline adapted (when asked), and that pipeline."""
    documents = [doc for doc in yaml.safe_load_all(job.config) if doc is not None]
    chosen: dict = {}
    for index, doc in enumerate(documents):
        if isinstance(doc, dict) and doc.get("kind", "pipeline") == "pipeline" and not chosen \
                and str(doc.get("name") or "default") == stage_name:
            documents[index] = chosen = job.adapt(doc, job.workdir) if adapt else doc
    return yaml.safe_dump_all(documents, sort_keys=False), chosen


def run_stage(job: StageJob, stage: StageState) -> str:
    """Clone, adapt, run; the stage's final status. DroneKitError from run_exec (a lint failure, a
    missing secret, an engine that fails) is an error of the stage, as a compile error is in Drone."""
    name = stage.stage["name"]
    stage.begin("drone-kit-fake-runner")
    stage.start(CLONE)
    try:
        cloned = clone_commit(job.clone_url, job.credentials, job.build, job.workdir, lambda t: stage.write(CLONE, t))
    except (OSError, subprocess.SubprocessError) as e:
        stage.fail(CLONE, str(e))
        cloned = 255
    stage.finish(CLONE, cloned)
    facts = {"branch": job.build.get("target") or "", "event": job.build.get("event") or "push",
             "ref": job.build["ref"], "repo": job.repo["slug"]}
    config, pipeline = _adapted_config(job, name, adapt=cloned == 0)  # no checkout: the steps only to skip
    stage.list_steps(pipeline, facts, job.next_id)
    job.changed()  # the first report: a running stage lists all its steps, as Drone's runner sends it
    if cloned != 0:
        return stage.end()
    manifest = job.workdir / (job.repo.get("config_path") or ".drone.yml")
    manifest.write_text(config)

    def log(line: str) -> None:
        job.transcript(line)
        _route_line(stage, line)

    engine = StepObservingEngine(job.client, stage, job.changed)
    try:
        run_exec(manifest, name, job.secrets,
                 _variables(job, stage.stage), bool(job.repo.get("trusted")), job.network_host, engine, log)
    except DroneKitError as e:
        job.transcript(f"error: {e}")
        return stage.end(error=str(e))
    return stage.end()
