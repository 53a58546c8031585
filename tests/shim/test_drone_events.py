"""What the shim reads from Drone's build events: the facts of a finished build, whether it
deployed, and the Grafana annotation of a deploy."""

from __future__ import annotations

import pytest

from drone_kit.shim.drone_events import BuildFacts, build_facts, deploy_annotation, is_deploy
from tests.shim.support import drone_build_event

DEPLOY_STEPS = (("clone", "drone/git"), ("build-push", "192.168.1.70:30500/drone-kit/build-push:0.1"),
                ("rollout", "192.168.1.70:30500/drone-kit/deploy:0.1"))


def test_a_finished_build_gives_its_facts():
    facts = build_facts(drone_build_event("success"))
    assert facts == BuildFacts(repo="our-task/app", number=9, status="success", branch="main", commit="9f8e7d6c" * 5,
                               link="http://gitea:3000/our-task/app/compare/0a1b2c3d...9f8e7d6c", duration=90,
                               finished=1700000090.0, commit_time=1699999400.0, deploy=False)


@pytest.mark.parametrize("status", ["success", "failure", "error", "killed"])
def test_every_finished_status_counts(status):
    facts = build_facts(drone_build_event(status))
    assert facts is not None and facts.status == status


@pytest.mark.parametrize("status", ["pending", "running", "blocked", "declined", "waiting_on_dependencies", "skipped"])
def test_an_unfinished_build_gives_no_facts(status):
    assert build_facts(drone_build_event(status)) is None  # finish time left set: the status alone decides


def test_a_finished_status_without_a_finish_time_gives_no_facts():
    assert build_facts(drone_build_event("success", finished=0)) is None


@pytest.mark.parametrize("event", [
    {"event": "repo", "action": "enabled", "repo": {"slug": "our-task/app"}},
    {"event": "user", "action": "created", "user": {"login": "octocat"}},
    {"event": "build", "action": "created", "repo": {"slug": "our-task/app"}},
    {},
])
def test_other_events_give_no_facts(event):
    assert build_facts(event) is None


def test_the_repository_is_namespace_and_name_without_a_slug():
    event = drone_build_event("success")
    del event["repo"]["slug"]
    assert build_facts(event).repo == "our-task/app"


def test_a_pull_request_build_is_of_its_target_branch():
    facts = build_facts(drone_build_event("success", event="pull_request", source="fix-probe", target="main"))
    assert facts.branch == "main"


def test_without_a_target_the_branch_is_the_source():
    assert build_facts(drone_build_event("success", source="fix-probe", target="")).branch == "fix-probe"


def test_a_build_that_never_started_has_no_duration():
    facts = build_facts(drone_build_event("killed", started=0, finished=1700000005))
    assert facts.duration is None and facts.finished == 1700000005.0


def test_a_build_without_a_commit_time_has_none():
    assert build_facts(drone_build_event("success", timestamp=0)).commit_time is None


def test_a_step_named_deploy_is_a_deploy():
    build = drone_build_event("success", steps=(("clone", "drone/git"), ("deploy", "bitnami/kubectl:1.29")))["build"]
    assert is_deploy(build)


def test_a_step_running_the_deploy_image_is_a_deploy():
    assert is_deploy(drone_build_event("success", steps=DEPLOY_STEPS)["build"])


def test_a_promotion_is_a_deploy_whatever_its_steps():
    assert is_deploy(drone_build_event("success", event="promote", steps=(("clone", "drone/git"),))["build"])
    assert is_deploy({"event": "promote"})


@pytest.mark.parametrize("build", [
    drone_build_event("success", steps=(("clone", "drone/git"), ("test", "python:3.12-slim")))["build"],
    drone_build_event("success", steps=(("deploy-docs", "plugins/gh-pages"),))["build"],
    {"event": "push", "stages": [{"steps": [{"name": "build"}]}]},  # a step without an image
    {"event": "push", "stages": [{"name": "default", "steps": None}]},  # a stage that never ran
    {"event": "push", "stages": None},
    {"event": "push"},
])
def test_anything_else_is_not_a_deploy(build):
    assert not is_deploy(build)


def test_a_finished_deploy_build_is_marked_deploy():
    assert build_facts(drone_build_event("failure", steps=DEPLOY_STEPS)).deploy


def test_the_deploy_annotation_marks_the_commit_on_the_branch():
    facts = build_facts(drone_build_event("success", steps=DEPLOY_STEPS))
    assert deploy_annotation(facts) == {
        "time": 1700000090000,  # Grafana wants epoch milliseconds
        "tags": ["deploy", "our-task/app", "main", "9f8e7d6c"],
        "text": "deploy of our-task/app 9f8e7d6c by build #9: http://gitea:3000/our-task/app/compare/0a1b2c3d...9f8e7d6c",
    }
