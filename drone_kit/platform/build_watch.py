"""Pure: a Drone build as a person follows it: which steps changed since the last look, whether it
is over, and where it failed. Builds are Drone's JSON (`GET /api/repos/{o}/{n}/builds/{b}`:
core/build.go, stage.go, step.go on harness/harness branch `drone`)."""

from __future__ import annotations

from dataclasses import dataclass

FINISHED = frozenset({"success", "failure", "error", "killed", "declined", "skipped", "blocked"})


@dataclass(frozen=True)
class StepState:
    stage: int  # the stage's number, as the log API wants it
    number: int  # the step's number in its stage
    name: str
    status: str
    exit_code: int = 0


def step_states(build: dict) -> list[StepState]:
    return [StepState(int(stage.get("number") or 0), int(step.get("number") or 0), str(step.get("name") or ""),
                      str(step.get("status") or ""), int(step.get("exit_code") or 0))
            for stage in build.get("stages") or [] for step in stage.get("steps") or []]


def finished(build: dict) -> bool:
    return build.get("status") in FINISHED


def changes(before: dict | None, after: dict) -> list[str]:
    """One line per step whose status moved since `before` (every step with a status at the
    first look), and one for the build when it finished."""
    seen = {(s.stage, s.number): s.status for s in step_states(before or {})}
    lines = []
    for step in step_states(after):
        if step.status and seen.get((step.stage, step.number)) != step.status:
            code = f" (exit code {step.exit_code})" if step.status == "failure" and step.exit_code else ""
            lines.append(f"{step.name}: {step.status}{code}")
    if finished(after) and not (before and finished(before)):
        lines.append(f"build #{after.get('number')}: {after.get('status')}")
    return lines


def failed_step(build: dict) -> StepState | None:
    """The step the build failed at: the first that failed or erred."""
    return next((step for step in step_states(build) if step.status in ("failure", "error")), None)
