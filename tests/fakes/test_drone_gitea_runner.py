"""The fake runner runs what the Drone fake builds: a real push to the Gitea fake, its signed hook
straight to Drone, the commit cloned back over smart HTTP, the pipeline run by `drone_kit exec` on
the suite's engine, and the build, its steps and their logs read through Drone's API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drone_kit.clients.oauth_login import first_login
from tests.fakes.drone_gitea import DroneOnGitea
from tests.fakes.drone_gitea_runner import Runner
from tests.fakes.drone_gitea_world import ADMIN, PASSWORD, World, push_commit, wire
from tests.fakes.gitea import FakeGitea
from tests.stack.engine import Engine

APP = f"{ADMIN}/app"
NOTES = "notes from the commit\n"
FAILING = """\
kind: pipeline
type: docker
name: default
steps:
- name: greet
  image: busybox
  environment:
    GREETING:
      from_secret: greeting
  commands:
  - echo "hello from $DRONE_REPO at ${DRONE_COMMIT_SHA:0:8}"
  - cat notes.txt
  - echo "greeting=$GREETING"
- name: break
  image: busybox
  commands: [echo about to fail, exit 3]
- name: after
  image: busybox
  commands: [echo should never run]
"""
PASSING = FAILING.replace("exit 3", "echo fixed")


@pytest.fixture
def loop(gitea: FakeGitea, drone: DroneOnGitea) -> World:
    world = wire(gitea, drone, proxy_host=drone.host)  # Gitea's hook goes to Drone itself
    first_login(drone.url, ADMIN, PASSWORD)
    world.gitea_client().create_repository("app", auto_init=True)
    assert world.api("POST", "/user/repos").status_code == 200
    assert world.api("POST", f"/repos/{APP}").status_code == 200
    return world


@pytest.fixture
def adapted() -> list[tuple[str, list[str]]]:
    return []  # (pipeline name, files in the checkout) for each pipeline adapted


@pytest.fixture
def runner(loop: World, engine: Engine, base_image: str, adapted: list) -> Iterator[Runner]:
    def local_images(pipeline: dict, workdir: Path) -> dict:
        adapted.append((pipeline["name"], sorted(p.name for p in workdir.iterdir())))
        for step in pipeline["steps"]:
            step["image"] = base_image  # no image hub here: the suite's own busybox
        return pipeline

    running = Runner(loop.drone, loop.gitea.url, (ADMIN, PASSWORD), engine, {"greeting": "s3cret"},
                     local_images).attach()
    yield running
    running.close()


def summary(build: dict) -> list[tuple[int, str, str, int]]:
    return [(s["number"], s["name"], s["status"], s["exit_code"]) for s in build["stages"][0]["steps"]]


def test_a_failing_pipeline_is_run_and_reported_as_drone_would(loop, runner, adapted, tmp_path, monkeypatch):
    reports: list[dict] = []
    update_build = loop.drone.update_build
    monkeypatch.setattr(loop.drone, "update_build", lambda *a, **kw: reports.append(update_build(*a, **kw)) or {})
    commit = push_commit(loop, APP, tmp_path, {".drone.yml": FAILING, "notes.txt": NOTES}, "a failing pipeline")
    build = runner.wait(APP, 1, timeout=180)
    assert loop.api("GET", f"/repos/{APP}/builds/1").json() == build
    assert (build["status"], build["after"]) == ("failure", commit), runner.runs[0].transcript
    [stage] = build["stages"]
    assert (stage["status"], stage["exit_code"], stage["name"]) == ("failure", 3, "default")
    assert summary(build) == [(1, "clone", "success", 0), (2, "greet", "success", 0), (3, "break", "failure", 3),
                              (4, "after", "skipped", 0)]
    steps = stage["steps"]
    assert all(s["step_id"] == stage["id"] and 0 < s["started"] <= s["stopped"] for s in steps)
    assert stage["started"] <= steps[0]["started"] and steps[-1]["stopped"] <= stage["stopped"] <= build["finished"]
    assert steps[3]["started"] == steps[3]["stopped"] >= steps[2]["stopped"]
    assert adapted == [("default", [".drone.yml", ".git", "README.md", "notes.txt"])]
    assert reports[0]["status"] == "running" and reports[0]["stages"][0]["status"] == "pending"
    listed = next(r["stages"][0] for r in reports if r["stages"][0]["status"] != "pending")
    assert listed["status"] == "running"
    assert [s["name"] for s in listed["steps"]] == ["clone", "greet", "break", "after"]
    assert {r["status"] for r in reports[:-1]} == {"running"} and reports[-1] == build

    greet = loop.api("GET", f"/repos/{APP}/builds/1/logs/1/2").json()
    assert [line["pos"] for line in greet] == list(range(len(greet)))
    assert all(isinstance(line["time"], int) and line["time"] >= 0 for line in greet)
    outs = [line["out"] for line in greet]
    assert f"hello from {APP} at {commit[:8]}\n" in outs and NOTES in outs
    assert "greeting=******\n" in outs and "s3cret" not in "".join(outs)
    broken = [line["out"] for line in loop.api("GET", f"/repos/{APP}/builds/1/logs/1/3").json()]
    assert "about to fail\n" in broken and not any("exit code" in out for out in broken)  # run_exec's remark
    clone = [line["out"] for line in loop.api("GET", f"/repos/{APP}/builds/1/logs/1/1").json()]
    assert f"+ git checkout {commit} -b main\n" in clone and PASSWORD not in "".join(clone)
    for path in ("logs/1/4", "logs/1/5", "logs/2/1"):  # a skipped step has no log; no such step or stage
        answer = loop.api("GET", f"/repos/{APP}/builds/1/{path}")
        assert (answer.status_code, answer.json()) == (404, {"message": "sql: no rows in result set"})
    assert loop.api("GET", f"/repos/{APP}/builds/1/logs/1/x").status_code == 400


def test_builds_of_a_repository_run_one_at_a_time_in_order(loop, runner, tmp_path):
    push_commit(loop, APP, tmp_path, {".drone.yml": FAILING, "notes.txt": NOTES}, "breaks")
    push_commit(loop, APP, tmp_path, {".drone.yml": PASSING}, "fixes")
    first, second = runner.wait(APP, 1, timeout=180), runner.wait(APP, 2, timeout=180)
    assert (first["status"], second["status"]) == ("failure", "success"), runner.runs[-1].transcript
    assert summary(second) == [(1, "clone", "success", 0), (2, "greet", "success", 0), (3, "break", "success", 0),
                               (4, "after", "success", 0)]
    assert [(r.number, r.failure) for r in runner.runs] == [(1, ""), (2, "")]
    handed_second = next(at for slug, number, at in runner.handed if number == 2)
    assert handed_second < runner.runs[0].ended <= runner.runs[1].began  # queued behind the first, not beside it
    assert first["finished"] <= second["started"]
    after = [line["out"] for line in loop.api("GET", f"/repos/{APP}/builds/2/logs/1/4").json()]
    assert "should never run\n" in after


def test_a_pipeline_exec_refuses_is_an_error_of_the_stage(loop, engine, tmp_path):
    bare = Runner(loop.drone, loop.gitea.url, (ADMIN, PASSWORD), engine).attach()  # no secret `greeting`
    try:
        push_commit(loop, APP, tmp_path, {".drone.yml": FAILING, "notes.txt": NOTES}, "needs a secret")
        build = bare.wait(APP, 1, timeout=60)
    finally:
        bare.close()
    [stage] = build["stages"]
    assert (build["status"], stage["status"]) == ("error", "error")
    assert "secret 'greeting' is not given" in stage["error"]
    assert summary(build)[0] == (1, "clone", "success", 0)
    assert {s["status"] for s in stage["steps"][1:]} == {"skipped"}


def test_drone_kits_build_follower_says_each_step_as_it_changes_and_where_it_failed(loop, runner, tmp_path):
    from drone_kit.clients.drone_admin import DroneAdmin
    from drone_kit.platform.build_follow import failure_lines, follow
    commit = push_commit(loop, APP, tmp_path, {".drone.yml": FAILING, "notes.txt": NOTES}, "fails on purpose")
    said: list[str] = []
    drone = DroneAdmin(loop.drone.url, loop.drone_token)
    build = follow(drone, APP, commit, said.append, timeout=120)
    assert build["status"] == "failure" and build["after"] == commit
    assert said[0].startswith(f"build #1 of {commit[:8]}: ")
    assert "break: failure (exit code 3)" in said and said[-1] == "build #1: failure"
    assert said.index("greet: success") < said.index("break: failure (exit code 3)")
    assert "after: skipped" in said
    tail = failure_lines(drone, APP, build)
    assert "break: about to fail" in tail and all(line.startswith("break: ") for line in tail)
