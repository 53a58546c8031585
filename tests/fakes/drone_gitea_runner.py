"""A runner for the Gitea-backed Drone fake, playing drone-runner's part: it takes each pending
build, clones the commit from the Gitea fake, runs the build's pipeline with `drone_kit exec` on
a Docker engine, and reports the build, its stages and their steps to Drone as they go, with each
step's log readable through Drone's API.

    runner = Runner(drone, gitea.url, (ADMIN, PASSWORD), engine, {"kubeconfig": …}, adapt).attach()
    ...push...
    build = runner.wait("owner/app", 1, timeout=120)

One build at a time, the oldest pending first: DRONE_RUNNER_CAPACITY=1, a Raspberry Pi's, which
also makes the order of a repository's builds certain (Drone itself would run them side by side
up to the runner's capacity; the platform's default capacity is 2). The stages of a build run one
after another in the file's order, each with the pipeline of its name.

Sources (read, not copied): drone/runner-go pipeline/runtime/runner.go and pipeline/state.go (the
stage accepted, running, then finished from its steps), harness/harness branch `drone`
core/build.go and core/stage.go (the fields reported), scheduler/queue (oldest stage first).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import docker

from tests.fakes.drone_gitea import DroneOnGitea
from tests.fakes.drone_gitea_stage_run import Adapt, StageJob, run_stage
from tests.fakes.drone_gitea_stage_state import StageState
from tests.fakes.drone_gitea_step_logs import step_logs_of

FINISHED = ("success", "failure", "error", "killed", "skipped", "declined")


class HasDockerClient(Protocol):
    client: docker.DockerClient  # the suite's Engine, or a ContainerEngine


def unchanged(pipeline: dict, workdir: Path) -> dict:
    return pipeline


@dataclass
class Run:
    slug: str
    number: int
    began: float  # time.monotonic()
    ended: float = 0.0
    transcript: list[str] = field(default_factory=list)  # what run_exec printed, runner's remarks too
    failure: str = ""  # the runner's own crash, if any


class Runner:
    def __init__(self, drone: DroneOnGitea, gitea_url: str, credentials: tuple[str, str], engine: HasDockerClient,
                 secrets: Mapping[str, str] | None = None, adapt: Adapt = unchanged, *,
                 network_host: bool = False) -> None:
        self.drone, self.gitea_url, self.credentials = drone, gitea_url.rstrip("/"), credentials
        self.client, self.secrets, self.adapt = engine.client, dict(secrets or {}), adapt
        self.network_host = network_host
        self.runs: list[Run] = []  # in the order they began
        self.handed: list[tuple[str, int, float]] = []  # (slug, number, time.monotonic()) as Drone handed them
        self._repos: dict[str, dict] = {}  # slug → the repository JSON of its latest build handed over
        self._wake = threading.Condition()
        self._report_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False

    def attach(self) -> Runner:
        self.drone.on_build = self._hand_over
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, daemon=True, name="fake drone runner")
            self._worker.start()
        return self

    def close(self) -> None:
        """Stop taking builds; the one running, if any, runs to its end."""
        if self.drone.on_build == self._hand_over:
            self.drone.on_build = None
        with self._wake:
            self._closed = True
            self._wake.notify_all()

    def wait(self, slug: str, number: int, timeout: float = 120.0) -> dict:
        """The build once finished; AssertionError, with what the runner saw, if it is not in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            build = next((b for b in self.drone.builds(slug) if b["number"] == number), None)
            if build is not None and build["status"] in FINISHED:
                return build
            time.sleep(0.05)
        run = next((r for r in self.runs if (r.slug, r.number) == (slug, number)), None)
        seen = "\n".join(run.transcript) + run.failure if run else "(never started)"
        raise AssertionError(f"build {slug}#{number} not finished after {timeout} s:\n{seen}")

    def _hand_over(self, build: dict, repo: dict) -> None:
        with self._wake:
            self.handed.append((repo["slug"], build["number"], time.monotonic()))
            self._repos[repo["slug"]] = repo
            self._wake.notify_all()

    def _oldest_pending(self) -> tuple[dict, dict] | None:
        """Drone's queue: the pending build created first, of the repositories handed to us. Read
        from the store, so a build whose hand-over thread lost the race still comes first."""
        pending = [(build, repo) for slug, repo in self._repos.items()
                   for build in self.drone.builds(slug) if build["status"] == "pending"]
        return min(pending, key=lambda found: found[0]["id"], default=None)

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._closed and (found := self._oldest_pending()) is None:
                    self._wake.wait(0.5)
                if self._closed:
                    return
            assert found is not None
            self._run_build(*found)

    def _run_build(self, build: dict, repo: dict) -> None:
        slug, number = repo["slug"], build["number"]
        run = Run(slug, number, time.monotonic())
        self.runs.append(run)
        states: list[StageState] = []
        try:
            self.drone.update_build(slug, number, status="running", started=int(time.time()))
            for stage in build.get("stages") or []:
                states.append(StageState(stage, self._next_step_id()))
                self._run_stage(build, repo, states, run)
            statuses = {state.stage["status"] for state in states}
            status = next((s for s in ("error", "killed", "failure") if s in statuses), "success")
            self._report(slug, build, states, status=status, finished=int(time.time()))
        except Exception as e:  # a crash of the fake runner must still finish the build, or wait() hangs
            run.failure = "\n" + traceback.format_exc()
            self.drone.update_build(slug, number, status="error", error=f"fake runner: {e}", finished=int(time.time()))
        finally:
            run.ended = time.monotonic()

    def _run_stage(self, build: dict, repo: dict, states: list[StageState], run: Run) -> None:
        workdir = Path(tempfile.mkdtemp(prefix="drone-fake-runner-"))
        try:
            job = StageJob(f"{self.gitea_url}/{repo['slug']}.git", self.credentials, build, repo,
                           self.drone.pipeline(repo["slug"], build["number"]), workdir / "src", self.client,
                           self.secrets, self.adapt, self.network_host, self._next_step_id,
                           lambda: self._report(repo["slug"], build, states), run.transcript.append)
            run_stage(job, states[-1])
            self._report(repo["slug"], build, states)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _next_step_id(self) -> int:
        with self.drone.store.lock:
            return self.drone.store.next_id("step")

    def _report(self, slug: str, build: dict, states: list[StageState], **fields: object) -> None:
        """The build's stages as they are now, and the logs of the steps done, sent together."""
        number = build["number"]
        with self._report_lock:
            shown = [state.json() for state in states]
            stages = shown + [dict(s) for s in (build.get("stages") or [])[len(shown):]]
            for state in states:
                for step, lines in state.logs().items():
                    step_logs_of(self.drone).upload(slug, number, state.stage["number"], step, lines)
            self.drone.update_build(slug, number, stages=stages, **fields)
