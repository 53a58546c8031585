"""The decision code against every rollout recorded on a real cluster: the right verdict, in time."""

from __future__ import annotations

import math

import pytest

from drone_kit.rollouts.rules import Limits, RolloutState, judge
from tests.rollouts.recordings import EXPECTED, NAMES, REASONS, load, snapshot_generation

LIMITS = Limits(max_restarts=2, ready_timeout=120, unschedulable_grace=30)
TIMEOUT = 300.0


def replay(rows, state, target_generation, start=0.0):
    """Feed rows from `start`; judge after each one and at every whole second between them.
    Returns (verdict, time) of the first decided verdict, or of the end of the rows."""
    last = start
    for row in rows:
        if row.t < start or (row.t == start and row.kind == "Mark"):
            continue
        if row.kind == "Mark":
            continue
        for tick in range(math.floor(last) + 1, math.floor(row.t) + 1):
            verdict = judge(state, target_generation, LIMITS, float(tick))
            if verdict.done:
                return verdict, float(tick)
        state.apply(row.kind, "ADDED" if row.type == "SNAPSHOT" else row.type, row.object, row.t)
        last = row.t
        verdict = judge(state, target_generation, LIMITS, row.t)
        if verdict.done:
            return verdict, row.t
    return judge(state, target_generation, LIMITS, last), last


@pytest.mark.parametrize("name", NAMES)
def test_each_recording_gets_its_verdict_in_time(name):
    rows, expected = load(name), EXPECTED[name]
    state = RolloutState("web")
    verdict, at = replay(rows, state, snapshot_generation(rows) + 1)
    assert verdict.state == {"success": "succeeded", "failure": "failed"}[expected["verdict"]], verdict
    assert at <= expected["by"], f"verdict at {at}s, due by {expected['by']}s"
    if expected["verdict"] == "success":
        assert at >= expected["not_before"]
    else:
        assert verdict.reason == REASONS[expected["reason"]]
        if "pod" in expected:
            assert verdict.pod == expected["pod"] and expected["pod"] in verdict.message
        if "exit_code" in expected:
            assert (
                verdict.exit_code == expected["exit_code"] and f"exit code {expected['exit_code']}" in verdict.message
            )


def test_the_undo_is_followed_to_convergence():
    rows, expected = load("crash-then-undo"), EXPECTED["crash-then-undo"]
    state = RolloutState("web")
    undo_at = next(r.t for r in rows if r.kind == "Mark" and r.type == "UNDO")
    for row in rows:
        if row.t < undo_at and row.kind != "Mark":
            state.apply(row.kind, "ADDED" if row.type == "SNAPSHOT" else row.type, row.object, row.t)
    undo_generation = state.deployment["metadata"]["generation"] + 1
    verdict, at = replay(rows, state, undo_generation, start=undo_at)
    assert verdict.state == "succeeded"
    assert expected["after_undo"]["not_before"] <= at <= expected["after_undo"]["by"]


@pytest.mark.parametrize("name", [n for n in NAMES if EXPECTED[n]["verdict"] == "success"])
def test_successes_are_never_failed_even_watched_long_after(name):
    rows = load(name)
    state = RolloutState("web")
    target = snapshot_generation(rows) + 1
    for row in rows:
        if row.kind != "Mark":
            state.apply(row.kind, "ADDED" if row.type == "SNAPSHOT" else row.type, row.object, row.t)
    assert judge(state, target, LIMITS, rows[-1].t + 100).state == "succeeded"
