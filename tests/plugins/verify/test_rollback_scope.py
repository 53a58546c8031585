"""verify rolls back only what this build's deploy step changed (its .drone-kit/deploy.json); with
nothing of its own to undo it says so plainly, touches no cluster, and still fails the step."""

from __future__ import annotations

import copy

import pytest

from drone_kit.plugins.deploy import DEPLOY
from drone_kit.plugins.verify import VERIFY
from drone_kit.plugins.verify.undo import NOTHING, changes_to_undo
from drone_kit.step.plugin import run_plugin
from drone_kit.step.results import read_result, write_result
from tests.fakes.kube_api import FakeCluster
from tests.rollouts.recordings import load
from tests.stack.registry import free_port

BUILD = "8"


@pytest.fixture
def cluster():
    running = FakeCluster(load("success"))
    yield running
    running.close()


def failing_verify(tmp_path, capsys, **settings) -> tuple[int, str, dict]:
    """verify of a URL nothing answers: the check fails at its first and only attempt."""
    env = {"DRONE_WORKSPACE": str(tmp_path), "DRONE_BUILD_NUMBER": BUILD,
           "PLUGIN_URL": f"http://127.0.0.1:{free_port()}/", "PLUGIN_ATTEMPTS": "1", "PLUGIN_TIMEOUT": "2s",
           **{f"PLUGIN_{k.upper()}": v for k, v in settings.items()}}
    code = run_plugin(VERIFY, env)
    result = read_result(tmp_path, "verify")
    assert result is not None
    return code, capsys.readouterr().err, result


def entry(cluster: FakeCluster, name: str = "web", changed: bool = True) -> dict:
    """One deployment of deploy.json as the deploy step writes it."""
    template = cluster.current["Deployment"]["web"]["spec"]["template"]
    image = template["spec"]["containers"][0]["image"]
    return {"name": name, "container": "web", "from_image": image, "to_image": cluster.image if changed else image,
            "from_revision": "1", "generation": None, "changed": changed, "template": copy.deepcopy(template)}


def test_with_no_deploy_step_it_says_there_is_nothing_to_roll_back(tmp_path, capsys):
    code, err, result = failing_verify(tmp_path, capsys)  # no kubeconfig, no cluster: none is needed
    assert code == 1
    assert result["outcome"] == "fail" and result["rollback"] == NOTHING
    assert "nothing to roll back: no deploy step ran in this build (no .drone-kit/deploy.json)" in err
    assert err.splitlines()[-2].endswith("; nothing to roll back: no deploy step ran in this build "
                                         "(no .drone-kit/deploy.json)")
    assert "ROLLBACK" not in err and "CANNOT" not in err


def test_a_deploy_that_changed_nothing_is_not_undone(cluster, tmp_path, capsys):
    running = cluster.current["Deployment"]["web"]["spec"]["template"]["spec"]["containers"][0]["image"]
    deployed = run_plugin(DEPLOY, {"DRONE_WORKSPACE": str(tmp_path), "DRONE_BUILD_NUMBER": BUILD,
                                   "PLUGIN_KUBECONFIG": cluster.kubeconfig(), "PLUGIN_NAMESPACE": "demo",
                                   "PLUGIN_DEPLOYMENT": "web", "PLUGIN_IMAGE": running,
                                   "PLUGIN_VERIFY_IMAGE": "false", "PLUGIN_TIMEOUT": "20s"})
    assert deployed == 0, capsys.readouterr().err
    assert read_result(tmp_path, "deploy")["deployments"][0]["changed"] is False
    capsys.readouterr()
    code, err, result = failing_verify(tmp_path, capsys, kubeconfig=cluster.kubeconfig())
    assert code == 1 and result["rollback"] == NOTHING
    assert "nothing to roll back: the deploy step changed nothing" in err
    assert not cluster.patches
    assert "THE ROLLBACK FAILED TOO" not in err


def test_only_the_deployments_the_deploy_step_changed_are_rolled_back(cluster, tmp_path, capsys):
    # api was found already running its image: restoring it would be undoing nobody's change
    # (and the fake cluster has no api: a request for it would fail the rollback).
    write_result(tmp_path, "deploy", {"outcome": "success", "namespace": "demo", "build_number": int(BUILD),
                                      "deployments": [entry(cluster), entry(cluster, "api", changed=False)]})
    code, err, result = failing_verify(tmp_path, capsys, kubeconfig=cluster.kubeconfig())
    assert code == 1 and result["rollback"] == "rolled-back", err
    assert "rolling back web to the recorded pod templates" in err
    assert [kind for kind, _ in cluster.patches] == ["application/json-patch+json"]
    assert not [path for _, path, _ in cluster.requests if path.rstrip("/").endswith("/deployments/api")]


def test_another_builds_deploy_is_not_undone(cluster, tmp_path, capsys):
    write_result(tmp_path, "deploy", {"outcome": "success", "namespace": "demo", "build_number": 3,
                                      "deployments": [entry(cluster)]})
    code, err, result = failing_verify(tmp_path, capsys, kubeconfig=cluster.kubeconfig())
    assert code == 1 and result["rollback"] == NOTHING
    assert f"nothing to roll back: .drone-kit/deploy.json is from build 3, not from this one ({BUILD})" in err
    assert not cluster.patches


CHANGED = {"name": "web", "from_image": "r/web:v1", "to_image": "r/web:v2", "changed": True}
UNCHANGED = {"name": "api", "from_image": "r/api:v1", "to_image": "r/api:v1", "changed": False}


@pytest.mark.parametrize("deployed, build, undone, reason", [
    (None, 8, [], "no deploy step ran in this build"),
    ({"deployments": [CHANGED, UNCHANGED]}, 8, ["web"], ""),
    ({"build_number": 8, "deployments": [CHANGED]}, 8, ["web"], ""),
    ({"build_number": 7, "deployments": [CHANGED]}, 8, [], "is from build 7"),
    ({"build_number": 7, "deployments": [CHANGED]}, 0, ["web"], ""),  # by hand: no build to compare
    ({"deployments": [UNCHANGED]}, 8, [], "the deploy step changed nothing"),
    ({"deployments": []}, 8, [], "the deploy step changed nothing"),
    ({"outcome": "rolled-back", "deployments": [CHANGED]}, 8, [], "already rolled its change back"),
    ({"outcome": "superseded", "deployments": [CHANGED]}, 8, [], "a newer deploy has changed"),
    ({"outcome": "failed", "deployments": [CHANGED]}, 8, ["web"], ""),  # deploy's own rollback was off
    # Written before deploy.json said `changed`: the image was set only when it differed.
    ({"deployments": [{"name": "web", "from_image": "a", "to_image": "b"},
                      {"name": "api", "from_image": "a", "to_image": "a"},
                      {"name": "db", "from_image": "a", "to_image": None}]}, 8, ["web"], ""),
])
def test_what_is_verifys_to_undo(deployed, build, undone, reason):
    undo = changes_to_undo(deployed and {"namespace": "demo", **deployed}, build)
    assert [d["name"] for d in undo.deployments] == undone
    assert undo.namespace == ("demo" if undone else "")
    assert reason in undo.reason and bool(undo.reason) == (not undone)
