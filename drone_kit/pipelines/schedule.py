"""When each step of a local run starts, is skipped, and what the pipeline's status is, decided as
Drone's runner decides it. Pure.

Without any `depends_on`, Drone chains the steps one after another; with one, the steps form a
graph and a step starts once every step it depends on has finished (passed, failed or skipped).
Whether a step that is ready runs depends on the pipeline so far: by default only while nothing
has failed; `when: {status: [failure]}` only once something has; both, always. A failure under
`failure: ignore` fails nothing. Exit code 78 passes and skips every step not yet started.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from drone_kit.pipelines.plan import Step, conditions_hold, matches

EARLY_EXIT = 78  # Drone's "stop here, successfully"


@dataclass(frozen=True)
class Outcome:
    status: str  # success, failure, ignored (failed under failure: ignore) or skipped
    exit_code: int = 0


def graph(steps: list[Step]) -> dict[str, list[str]]:
    """Pure: what each step waits for: its depends_on, or, when no step has one, the step before it."""
    if any(step.depends_on for step in steps):
        return {step.name: list(step.depends_on) for step in steps}
    return {step.name: [steps[i - 1].name] if i else [] for i, step in enumerate(steps)}


def ready(waits_for: Mapping[str, list[str]], finished: Iterable[str], started: Iterable[str]) -> list[str]:
    """Pure: the steps not started yet whose dependencies have all finished, in the file's order."""
    done, begun = set(finished), set(started)
    return [name for name, needs in waits_for.items() if name not in begun and set(needs) <= done]


def not_started(waits_for: Mapping[str, list[str]], started: Iterable[str]) -> list[str]:
    """Pure: the steps not started yet, in the file's order."""
    begun = set(started)
    return [name for name in waits_for if name not in begun]


def run_policy(when: Mapping) -> str:
    """Pure: `success` (the default), `failure` or `always`, from `when.status` as Drone reads it."""
    status = when.get("status")
    if not status:
        return "success"
    on_failure, on_success = matches(status, "failure"), matches(status, "success")
    if on_failure:
        return "always" if on_success else "failure"
    return "success"


def skip_reason(step: Step, facts: Mapping[str, str], failed: bool) -> str | None:
    """Pure: why a step that is ready does not run, or None when it runs."""
    others = {key: value for key, value in step.when.items() if key != "status"}
    if not conditions_hold(others, dict(facts)):
        return f"when: {others}"
    policy = run_policy(step.when)
    if policy == "success" and failed:
        return "the pipeline has failed"
    if policy == "failure" and not failed:
        return "when: status failure, and nothing has failed"
    return None


def outcome(step: Step, exit_code: int) -> Outcome:
    """Pure: what a step's exit code means for the pipeline."""
    if exit_code in (0, EARLY_EXIT):
        return Outcome("success", exit_code)
    return Outcome("ignored" if step.ignore_failure else "failure", exit_code)


def pipeline_failed(outcomes: Iterable[Outcome]) -> bool:
    """Pure: whether the pipeline is failing so far."""
    return any(o.status == "failure" for o in outcomes)


def exit_status(outcomes: Iterable[Outcome]) -> int:
    """Pure: the run's exit status: 0, or the exit code of the first step that failed it."""
    return next((o.exit_code for o in outcomes if o.status == "failure"), 0)
