"""What runs when in a local run, decided as Drone's runner decides it (pure functions)."""

from __future__ import annotations

import pytest

from drone_kit.pipelines.masks import secret_lines
from drone_kit.pipelines.plan import Step
from drone_kit.pipelines.schedule import (
    Outcome,
    exit_status,
    graph,
    outcome,
    pipeline_failed,
    ready,
    run_policy,
    skip_reason,
)


def step(name: str, depends_on: list[str] | None = None, when: dict | None = None, ignore: bool = False) -> Step:
    return Step(name, "image", [], {}, depends_on or [], when or {}, ignore, False)


def test_without_depends_on_each_step_waits_for_the_one_before():
    assert graph([step("a"), step("b"), step("c")]) == {"a": [], "b": ["a"], "c": ["b"]}


def test_with_depends_on_steps_wait_only_for_their_dependencies():
    waits_for = graph([step("a"), step("b"), step("c", ["a", "b"]), step("d")])
    assert waits_for == {"a": [], "b": [], "c": ["a", "b"], "d": []}
    assert ready(waits_for, finished=[], started=[]) == ["a", "b", "d"]
    assert ready(waits_for, finished=["a"], started=["a", "b", "d"]) == []
    assert ready(waits_for, finished=["a", "b"], started=["a", "b", "d"]) == ["c"]


@pytest.mark.parametrize("when, policy", [
    ({}, "success"), ({"status": ["success"]}, "success"), ({"status": ["failure"]}, "failure"),
    ({"status": "failure"}, "failure"), ({"status": ["success", "failure"]}, "always"),
    ({"status": {"exclude": ["success"]}}, "failure"), ({"status": []}, "success"), ({"branch": ["main"]}, "success"),
])
def test_run_policy_from_when_status(when, policy):
    assert run_policy(when) == policy


@pytest.mark.parametrize("when, failed, reason", [
    ({}, False, None),
    ({}, True, "the pipeline has failed"),
    ({"status": ["failure"]}, False, "when: status failure, and nothing has failed"),
    ({"status": ["failure"]}, True, None),
    ({"status": ["success", "failure"]}, True, None),
    ({"event": ["tag"], "status": ["failure"]}, True, "when: {'event': ['tag']}"),
])
def test_skip_reason(when, failed, reason):
    assert skip_reason(step("s", when=when), {"event": "push", "branch": "main"}, failed) == reason


def test_outcomes_and_the_pipeline_status():
    assert outcome(step("a"), 0) == Outcome("success", 0)
    assert outcome(step("a"), 78) == Outcome("success", 78)  # Drone's early exit passes
    assert outcome(step("a", ignore=True), 5) == Outcome("ignored", 5)
    results = [Outcome("ignored", 5), Outcome("skipped"), Outcome("failure", 4), Outcome("failure", 2)]
    assert not pipeline_failed(results[:2]) and pipeline_failed(results)
    assert exit_status(results) == 4 and exit_status(results[:2]) == 0


def test_secrets_are_masked_line_by_line_and_not_when_too_short():
    assert secret_lines(["  token  ", "line one\n  line two\n\nx\n", "a"]) == ["line one", "line two", "token"]
