"""Following a Drone build: step changes, its end, where it failed (pure)."""

from __future__ import annotations

from drone_kit.platform.build_watch import changes, failed_step, finished


def build(status: str, *steps: tuple[str, str, int]) -> dict:
    return {"number": 4, "status": status, "stages": [{"number": 1, "steps": [
        {"number": index, "name": name, "status": step_status, "exit_code": code}
        for index, (name, step_status, code) in enumerate(steps, start=1)]}]}


RUNNING = build("running", ("clone", "success", 0), ("build", "running", 0), ("deploy", "pending", 0))
FAILED = build("failure", ("clone", "success", 0), ("build", "success", 0), ("deploy", "failure", 1))


def test_the_first_look_says_every_step_and_later_looks_only_what_moved():
    assert changes(None, RUNNING) == ["clone: success", "build: running", "deploy: pending"]
    assert changes(RUNNING, RUNNING) == []
    assert changes(RUNNING, FAILED) == ["build: success", "deploy: failure (exit code 1)", "build #4: failure"]
    assert changes(FAILED, FAILED) == []


def test_a_build_is_over_when_drone_says_so_and_fails_where_its_first_step_failed():
    assert not finished(RUNNING) and finished(FAILED) and finished({"status": "error"})
    step = failed_step(FAILED)
    assert step is not None and (step.stage, step.number, step.name, step.exit_code) == (1, 3, "deploy", 1)
    assert failed_step(RUNNING) is None
