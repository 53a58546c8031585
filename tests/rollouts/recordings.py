"""The rollouts recorded on a real cluster (tests/fixtures/k8s-rollouts, copied from
../shared/fixtures; never edited), and their expected verdicts."""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.paths import FIXTURES

RECORDINGS = FIXTURES / "k8s-rollouts"
EXPECTED = json.loads((RECORDINGS / "expected.json").read_text())
NAMES = sorted(name for name in EXPECTED if not name.startswith("_"))
# The recordings' reason names, as drone_kit's verdicts name them.
REASONS = {"image-pull": "image-pull", "crash-loop": "crash-loop", "invalid-image": "invalid-image",
           "progress-deadline": "progress-deadline"}


@dataclass(frozen=True)
class Row:
    t: float
    kind: str
    type: str
    object: dict


def load(name: str) -> list[Row]:
    with open(RECORDINGS / f"{name}.jsonl") as handle:
        return [Row(**json.loads(line)) for line in handle]


def snapshot_generation(rows: list[Row]) -> int:
    return next(r.object["metadata"]["generation"] for r in rows if r.kind == "Deployment" and r.type == "SNAPSHOT")


def renamed(rows: list[Row], name: str) -> list[Row]:
    """The same recording for a Deployment called `name` instead of web (names, labels, messages)."""
    return [Row(**json.loads(json.dumps(row.__dict__).replace("web", name))) for row in rows]


def first_verdict(name: str, limits=None):
    """Replays a recording into the pure decisions: (verdict, state, time) at the first row that
    decides it. Time-based rules are not ticked: this is the first *object* that shows it."""
    from drone_kit.rollouts.rules import Limits, RolloutState, judge

    rows = load(name)
    state = RolloutState("web")
    for row in rows:
        if row.kind == "Mark":
            continue
        state.apply(row.kind, "ADDED" if row.type == "SNAPSHOT" else row.type, row.object, row.t)
        verdict = judge(state, snapshot_generation(rows) + 1, limits or Limits(), row.t)
        if verdict.done:
            return verdict, state, row.t
    raise AssertionError(f"{name}: the recording never decides")
