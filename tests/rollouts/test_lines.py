"""What the build log says of a rollout: its progress and each pod of the current revision."""

from __future__ import annotations

import pytest

from drone_kit.rollouts.lines import pod_line, progress_line
from drone_kit.rollouts.rules import revision_pods
from tests.rollouts.test_rules import pod, rollout


def evicted(name: str) -> dict:
    finished = pod(name, "new", state={"terminated": {"exitCode": 137, "reason": "Error"}})
    finished["status"].update(phase="Failed", reason="Evicted",
                              message="Pod ephemeral local storage usage exceeds the total limit of containers 4Mi. ")
    return finished


@pytest.mark.parametrize("state, ready, expected", [
    ({"waiting": {"reason": "ErrImagePull", "message": "not found"}}, False, "waiting: ErrImagePull"),
    ({"running": {"startedAt": "2026-11-27T14:00:00Z"}}, True, "running, ready"),
    ({"terminated": {"exitCode": 3, "reason": "Error"}}, False, "terminated: Error"),
])
def test_a_pod_in_a_few_words(state, ready, expected):
    assert pod_line(pod("web-new-a", "new", state=state, ready=ready)) == expected


def test_a_pod_not_started_says_its_phase():
    assert pod_line({"metadata": {"name": "web-new-a"}, "status": {"phase": "Pending"}}) == "pending"


def test_an_evicted_pod_says_why_the_kubelet_evicted_it():
    assert pod_line(evicted("web-new-a")) == \
        "evicted: Pod ephemeral local storage usage exceeds the total limit of containers 4Mi."


def test_an_evicted_pod_is_shown_but_not_counted():
    state = rollout(evicted("web-new-a"), pod("web-new-b", "new", ready=True), pod("web-old-a", "old", ready=True))
    assert [p["metadata"]["name"] for p in revision_pods(state)] == ["web-new-a", "web-new-b"]
    assert progress_line(state) == "1/2 pods of the current revision ready, 1 other"
