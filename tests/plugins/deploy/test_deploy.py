"""The deploy plugin end to end: the real kubernetes client against a fake API playing back
rollouts recorded on a real cluster, with the rollback and its convergence."""

from __future__ import annotations

import dataclasses
import time

import pytest

from drone_kit.plugins.deploy import DEPLOY
from drone_kit.plugins.deploy.run import run_deploy
from drone_kit.step.plugin import run_plugin
from drone_kit.step.results import read_result, write_result
from tests.fakes.kube_api import FakeCluster, Fault
from tests.rollouts.recordings import EXPECTED, NAMES, load

TOKEN = "fake-token-5up3r-s3cret"
SLOW = {"readiness-never-deadline": 8.0, "slow-start-success": 8.0}


@pytest.fixture
def cluster_for():
    clusters = []

    def make(name: str, speed: float = 1.0, **options) -> FakeCluster:
        cluster = FakeCluster(load(name), speed=speed, **options)
        clusters.append(cluster)
        return cluster

    yield make
    for cluster in clusters:
        cluster.close()


def deploy(cluster: FakeCluster, workspace, capsys, speed: float = 1.0, **settings):
    scaled = lambda: time.monotonic() * speed  # noqa: E731 - the fake plays the recording at this speed
    plugin = dataclasses.replace(DEPLOY, run=lambda run: run_deploy(run, clock=scaled))
    env = {"PLUGIN_KUBECONFIG": cluster.kubeconfig(TOKEN), "PLUGIN_NAMESPACE": "demo", "PLUGIN_DEPLOYMENT": "web",
           "PLUGIN_IMAGE": cluster.image, "PLUGIN_VERIFY_IMAGE": "false", "DRONE_WORKSPACE": str(workspace),
           "DRONE_BUILD_NUMBER": "42", "DRONE_COMMIT_SHA": "c0ffee" * 6 + "abcd"}
    env.update({f"PLUGIN_{k.upper()}": v for k, v in settings.items()})
    code = run_plugin(plugin, env)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", NAMES)
def test_each_recorded_rollout_end_to_end(name, cluster_for, tmp_path, capsys):
    speed = SLOW.get(name, 1.0)
    cluster, expected = cluster_for(name, speed), EXPECTED[name]
    old_image = cluster.current["Deployment"]["web"]["spec"]["template"]["spec"]["containers"][0]["image"]
    code, out, err = deploy(cluster, tmp_path, capsys, speed)
    result = read_result(tmp_path, "deploy")
    assert TOKEN not in out + err
    if name == "invalid-image-name":  # pre-flight refuses it before the cluster is touched
        assert code == 2 and "Error: settings.image: '127.0.0.1:5000/demo/Web:UP'" in err
        assert not cluster.patches and result is None
        return
    strategic = [body for kind, body in cluster.patches if kind.startswith("application/strategic-merge-patch")]
    assert strategic[0]["spec"]["template"]["spec"]["containers"] == [{"name": "web", "image": cluster.image}]
    assert strategic[0]["metadata"]["annotations"]["kubernetes.io/change-cause"].startswith(
        "drone build 42, commit c0ffeec0"
    )
    if expected["verdict"] == "success":
        assert code == 0, err
        assert result["outcome"] == "success"
        assert expected["not_before"] <= result["detect_seconds"] <= expected["by"] + 1.0
        return
    assert code == 1, err
    assert result["outcome"] == "rolled-back", err
    assert result["detect_seconds"] <= expected["by"] + 1.0
    assert result["failure"]["reason"] == expected["reason"]
    if "pod" in expected:
        assert expected["pod"] in err
    for mention in expected.get("diagnosis_mentions", []):
        assert mention in err
    rollback = [body for kind, body in cluster.patches if kind.startswith("application/json-patch")]
    precondition, restore = rollback[0][0], rollback[0][1]
    assert precondition["op"] == "test" and precondition["path"] == "/metadata/generation"
    assert restore["path"] == "/spec/template"
    assert restore["value"]["spec"]["containers"][0]["image"] == old_image
    assert "rolled back in" in err and f"web runs {old_image} again" in err
    assert err.strip().splitlines()[-2].startswith("Error: the rollout failed after")


def test_crash_then_undo_follows_the_recorded_undo(cluster_for, tmp_path, capsys):
    cluster = cluster_for("crash-then-undo")
    code, out, err = deploy(cluster, tmp_path, capsys)
    result = read_result(tmp_path, "deploy")
    assert code == 1 and result["outcome"] == "rolled-back"
    assert result["failure"]["exit_code"] == 3
    assert "last 20 log lines of the crashed container:" in err
    assert "/log?container=web&previous=true&tailLines=20" in " ".join(p for _, p, _ in cluster.requests)


def test_a_dropped_watch_is_resumed(cluster_for, tmp_path, capsys):
    cluster = cluster_for("image-pull-missing")
    cluster.faults.drop_watch_after["Pod"] = 1
    code, out, err = deploy(cluster, tmp_path, capsys)
    assert code == 1 and read_result(tmp_path, "deploy")["failure"]["reason"] == "image-pull"
    assert "kubernetes: watch of pods interrupted" in err


def test_410_gone_relists(cluster_for, tmp_path, capsys):
    cluster = cluster_for("success")
    cluster.faults.expire_watch.add("Deployment")
    code, out, err = deploy(cluster, tmp_path, capsys)
    assert code == 0, err
    assert "kubernetes: watch of deployments expired (410 Gone); listing again" in err


@pytest.mark.parametrize("fault, logged", [
    (Fault("GET", "deployments", 500), "kubernetes: get deployments demo/web answered 500; retrying"),
    (Fault("PATCH", "deployments", 409), "kubernetes: patch deployments demo/web answered 409; retrying"),
])
def test_server_errors_and_conflicts_are_retried(cluster_for, tmp_path, capsys, fault, logged):
    cluster = cluster_for("success")
    cluster.faults.planned.append(fault)
    code, out, err = deploy(cluster, tmp_path, capsys)
    assert code == 0, err
    assert logged in err


def test_forbidden_names_the_verb_and_resource(cluster_for, tmp_path, capsys):
    cluster = cluster_for("success")
    cluster.faults.forbidden.add(("patch", "deployments"))
    code, out, err = deploy(cluster, tmp_path, capsys)
    assert code == 1
    assert "Error: not allowed to patch deployments in demo/web (RBAC)" in err
    assert "give the step's service account the 'patch' verb on 'deployments'" in err
    assert not cluster.patches


@pytest.mark.parametrize("settings, message", [
    ({"deployment": "nope"}, "Error: deployment nope does not exist in namespace demo"),
    ({"container": "sidecar"}, "Error: settings.container: web has no container 'sidecar' (it has: web)"),
    ({"image": "127.0.0.1:5000/demo/Web:UP"}, "Error: settings.image: '127.0.0.1:5000/demo/Web:UP': 'demo/Web' is not"),
    ({"kubeconfig": "not: [a kubeconfig"}, "Error: settings.kubeconfig: expected a kubeconfig"),
])
def test_bad_targets_fail_before_any_change(cluster_for, tmp_path, capsys, settings, message):
    cluster = cluster_for("success")
    code, out, err = deploy(cluster, tmp_path, capsys, **settings)
    assert code in (1, 2)
    assert message in err
    assert not cluster.patches


def test_image_comes_from_build_push(cluster_for, tmp_path, capsys):
    cluster = cluster_for("success")
    write_result(tmp_path, "image", {"image": cluster.image})
    code, out, err = deploy(cluster, tmp_path, capsys, image="")
    assert code == 0, err
    assert read_result(tmp_path, "deploy")["image"] == cluster.image


def test_dry_run_changes_nothing(cluster_for, tmp_path, capsys):
    cluster = cluster_for("success")
    code, out, err = deploy(cluster, tmp_path, capsys, dry_run="true")
    assert code == 0, err
    assert "dryRun=All" in " ".join(p for _, p, _ in cluster.requests)
    assert "dry run: the API server accepted the change" in err


def test_when_one_of_several_fails_every_changed_one_rolls_back(tmp_path, capsys):
    from tests.rollouts.recordings import renamed

    cluster = FakeCluster(load("success") + renamed(load("image-pull-missing"), "api"))
    try:
        code, out, err = deploy(cluster, tmp_path, capsys, deployment="web,api")
    finally:
        cluster.close()
    result = read_result(tmp_path, "deploy")
    assert code == 1 and result["outcome"] == "rolled-back"
    assert "api" in result["failure"]["pod"]
    rolled_back = [path for method, path, kind in cluster.requests if method == "PATCH" and "json-patch" in kind]
    assert sorted(p.rsplit("/", 1)[1] for p in rolled_back) == ["api", "web"]


def test_watch_only_follows_a_rollout_someone_else_started(cluster_for, tmp_path, capsys):
    cluster = cluster_for("crashloop")
    cluster.start()
    time.sleep(0.5)  # the controller has made the new revision
    code, out, err = deploy(cluster, tmp_path, capsys, watch_only="true")
    result = read_result(tmp_path, "deploy")
    assert code == 1 and result["outcome"] == "rolled-back", err
    assert result["failure"]["reason"] == "crash-loop"
    strategic = [body for kind, body in cluster.patches if kind.startswith("application/strategic-merge-patch")]
    assert not strategic
    (_, rollback), = [(k, b) for k, b in cluster.patches if k.startswith("application/json-patch")]
    template = next(op["value"] for op in rollback if op["path"] == "/spec/template")
    assert template["spec"]["containers"][0]["image"] == "127.0.0.1:5000/demo/web:v1"
    assert "pod-template-hash" not in template["metadata"]["labels"]


def test_logs_that_cannot_be_had_never_delay_the_rollback(cluster_for, tmp_path, capsys):
    # A kubelet that cannot serve logs (pods/log answering 500) costs the diagnosis its log
    # lines, asked for once, and the rollback nothing.
    cluster = cluster_for("crashloop")
    cluster.faults.planned.append(Fault("GET", "pods/log", 500, times=10))
    code, out, err = deploy(cluster, tmp_path, capsys)
    assert code == 1 and read_result(tmp_path, "deploy")["outcome"] == "rolled-back", err
    assert len([request for request in cluster.requests if "/log" in request[1]]) == 1
    assert "(no log lines:" in err and "pods/log" in err and "retrying" not in err


def test_a_watch_refused_after_the_change_still_rolls_back_and_records_it(cluster_for, tmp_path, capsys):
    # RBAC that lets the step patch but not watch pods: the change is made, the watch fails; the
    # change is undone, and as the rollback cannot be watched either, the step says so loudly.
    cluster = cluster_for("success")
    cluster.faults.forbidden.add(("watch", "pods"))
    code, out, err = deploy(cluster, tmp_path, capsys)
    assert code == 1, err
    result = read_result(tmp_path, "deploy")
    assert result["outcome"] == "rollback-failed" and result["failure"]["reason"] == "watch-failed"
    assert "the rollout cannot be watched: not allowed to watch pods" in result["failure"]["message"]
    assert [content_type for content_type, _ in cluster.patches] == [
        "application/strategic-merge-patch+json", "application/json-patch+json"]
    assert "COULD NOT ROLL BACK: not allowed to watch pods" in err
    assert "THE ROLLBACK FAILED TOO" in err


def test_the_rollback_is_watched_until_it_has_converged(cluster_for, tmp_path, capsys):
    # The fake's controller observes the restored template at once but converges only 2 s later:
    # a deploy that believed the first answer would report the rollback done too early.
    cluster = cluster_for("crashloop", rollback_seconds=2.0)
    code, out, err = deploy(cluster, tmp_path, capsys)
    result = read_result(tmp_path, "deploy")
    assert code == 1 and result["outcome"] == "rolled-back", err
    assert result["rollback_seconds"] >= 1.9
    assert "web runs 127.0.0.1:5000/demo/web:v1 again" in err
