"""One stage's steps as drone-runner reports them to Drone, with each step's log as Drone stores
it. Steps move only forward: pending → running → success/failure/error; what never started ends
"skipped" when the stage finishes.

Sources (read, not copied): drone/runner-go pipeline/runtime/runner.go (the steps are listed once
the pipeline is compiled, numbered from 1 in the compiler's order; a step whose `when` cannot match
is left out, neither stored nor shown), drone-runners/drone-runner-docker engine/compiler/
compiler.go (that order: clone, then the services, detached, then the steps), runner-go
pipeline/state.go (start, finish: 0 and 78 pass; skip: started = stopped = now, exit 0; an
internal error is status "error", exit 255; finishAll: pending → skipped, running (a detached
service) → success; the stage fails on a failed step unless `failure: ignore`), runner-go
livelog/livelog.go (a log line: `pos` from 0, `out` with its newline, `time` in whole seconds
since the step's log was opened), harness/harness branch `drone` core/step.go (the step's JSON:
`step_id` is the stage's id; started, stopped, error, errignore, depends_on, image and detached
omitted when empty).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from drone_kit.pipelines.plan import conditions_hold

CLONE, CLONE_IMAGE = "clone", "drone/git:latest"  # createClone in clone.go
DONE = ("success", "failure", "error", "skipped", "killed")
FAILING = ("failure", "error", "killed")


@dataclass
class StepState:
    id: int
    stage_id: int
    number: int
    name: str
    image: str
    detached: bool = False
    errignore: bool = False
    depends_on: list[str] = field(default_factory=list)
    status: str = "pending"
    exit_code: int = 0
    error: str = ""
    started: int = 0
    stopped: int = 0
    version: int = 1
    log: list[dict] | None = None  # None until the step's log is opened: Drone has no row for it
    log_opened: float = 0.0

    def json(self) -> dict:
        shown = {"id": self.id, "step_id": self.stage_id, "number": self.number, "name": self.name,
                 "status": self.status, "error": self.error, "errignore": self.errignore,
                 "exit_code": self.exit_code, "started": self.started, "stopped": self.stopped,
                 "version": self.version, "depends_on": self.depends_on, "image": self.image,
                 "detached": self.detached}
        optional = ("error", "errignore", "started", "stopped", "depends_on", "image", "detached")
        return {k: v for k, v in shown.items() if v or k not in optional}


def listed_steps(pipeline: dict, facts: dict[str, str], stage_id: int, next_id: Callable[[], int],
                 after: int) -> list[StepState]:
    """The services and steps Drone shows for this pipeline and build, numbered in the compiler's
    order from `after + 1`."""
    listed: list[StepState] = []
    for key in ("services", "steps"):
        for raw in pipeline.get(key) or []:
            when = {k: v for k, v in (raw.get("when") or {}).items() if k != "status"}
            if not conditions_hold(when, facts):
                continue
            listed.append(StepState(next_id(), stage_id, after + len(listed) + 1, str(raw.get("name")),
                                    str(raw.get("image") or ""), detached=key == "services",
                                    errignore=raw.get("failure") == "ignore",
                                    depends_on=[str(d) for d in raw.get("depends_on") or []]))
    return listed


class StageState:
    """Written from the runner's threads (each step streams in its own), read by whoever reports."""

    def __init__(self, stage: dict, clone_id: int) -> None:
        self.stage = dict(stage)
        self.steps = {CLONE: StepState(clone_id, stage["id"], 1, CLONE, CLONE_IMAGE)}
        self.lock = threading.Lock()

    def list_steps(self, pipeline: dict, facts: dict[str, str], next_id: Callable[[], int]) -> None:
        """The services and steps after the clone: listed once the checkout is there to adapt."""
        with self.lock:
            for step in listed_steps(pipeline, facts, self.stage["id"], next_id, after=len(self.steps)):
                self.steps.setdefault(step.name, step)

    def status_of(self, name: str) -> str:
        with self.lock:
            step = self.steps.get(name)
            return step.status if step else ""

    def begin(self, machine: str) -> None:
        with self.lock:
            self.stage.update(status="running", started=int(time.time()), stopped=0, machine=machine)

    def start(self, name: str) -> None:
        with self.lock:
            step = self.steps.get(name)
            if step is not None and step.status == "pending":
                step.status, step.started, step.version = "running", int(time.time()), step.version + 1
                self._open_log(step)

    def finish(self, name: str, exit_code: int) -> None:
        with self.lock:
            step = self.steps.get(name)
            if step is not None and step.status in ("pending", "running"):
                step.status = "success" if exit_code in (0, 78) else "failure"
                self._stop(step, exit_code)

    def fail(self, name: str, error: str) -> None:
        with self.lock:
            step = self.steps.get(name)
            if step is not None:
                step.status, step.error = "error", error
                self._stop(step, 255)

    def write(self, name: str, text: str) -> bool:
        """Append a line of the step's output; False when the step is done (a runner's remark)."""
        with self.lock:
            step = self.steps.get(name)
            if step is None or step.status in DONE:
                return False
            self._open_log(step)
            assert step.log is not None
            step.log.append({"pos": len(step.log), "out": text + "\n",
                             "time": int(time.monotonic() - step.log_opened)})
            return True

    def end(self, error: str = "") -> str:
        """finishAll (or failAll with an error): the stage's final status."""
        with self.lock:
            now = int(time.time())
            for step in self.steps.values():
                if step.status == "pending":
                    step.status, step.started, step.stopped, step.version = "skipped", now, now, step.version + 1
                elif step.status == "running":
                    step.status = "error" if error else "success"
                    self._stop(step, 255 if error else 0)
            failed = any(s.status in FAILING and not s.errignore for s in self.steps.values())
            status = "error" if error else "failure" if failed else "success"
            self.stage.update(status=status, stopped=now, error=error,
                              exit_code=next((s.exit_code for s in self.steps.values()
                                              if s.status in FAILING and not s.errignore), 0))
            return status

    def json(self) -> dict:
        with self.lock:
            shown = {k: v for k, v in self.stage.items() if k != "error" or v}
            return shown | {"steps": [step.json() for step in self.steps.values()]}

    def logs(self) -> dict[int, list[dict]]:
        """Step number → its log, for the steps done: the runner uploads a log when its step ends,
        and until then Drone's store has no row for it."""
        with self.lock:
            return {s.number: list(s.log) for s in self.steps.values() if s.log is not None and s.status in DONE}

    @staticmethod
    def _open_log(step: StepState) -> None:
        if step.log is None:
            step.log, step.log_opened = [], time.monotonic()

    @staticmethod
    def _stop(step: StepState, exit_code: int) -> None:
        step.exit_code, step.stopped, step.version = exit_code, int(time.time()), step.version + 1
        step.started = step.started or step.stopped
