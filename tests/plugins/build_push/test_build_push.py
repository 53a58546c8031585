"""build-push against the real engine and registry of the test stack."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import uuid

import pytest
from click.testing import CliRunner

from drone_kit.cli import cli
from drone_kit.clients.registry import RegistryClient
from drone_kit.step.results import read_result
from tests.plugins.build_push.support import SHA, make_workspace, run
from tests.plugins.build_push.support import drone_env as make_drone_env
from tests.stack.registry import free_port, running_registry
from tests.stack.require import require_binary


@pytest.fixture
def workspace(tmp_path):
    return make_workspace(tmp_path)


@pytest.fixture
def drone_env(engine, base_image, workspace):
    return make_drone_env(engine.host, base_image, workspace)


def repo_of(registry) -> tuple[str, str]:
    name = f"test/{uuid.uuid4().hex[:10]}"
    return name, f"{registry.host}/{name}"


def blob_uploads(registry, name: str) -> int:
    """Blobs put into the repository: uploaded, or mounted from another repository of the same
    registry (the engine does that for a base layer an earlier test already pushed)."""
    log = registry.log_text()
    return (len(re.findall(rf'"PUT /v2/{name}/blobs/uploads/[^"]*digest=sha256[^"]*" 201', log))
            + len(re.findall(rf'"POST /v2/{name}/blobs/uploads/\?[^"]*mount=sha256[^"]*" 201', log)))


def test_builds_once_pushes_once_and_every_tag_has_the_same_digest(
    drone_env, registry, engine, base_image, capsys, workspace
):
    name, repo = repo_of(registry)
    build_args = json.dumps({"BASE": base_image, "VERSION": "1.0"})
    code, out, err = run(
        drone_env, capsys, repo=repo, tags="latest,v1,stable", build_args=build_args, labels="team=web"
    )
    assert code == 0, err
    result = read_result(workspace, "image")
    client = RegistryClient(registry.host, scheme="http")
    digests = {tag: client.manifest_digest(name, tag) for tag in ("latest", "v1", "stable")}
    assert set(digests.values()) == {result["digest"]}
    assert result["repo"] == repo and result["tags"] == ["latest", "v1", "stable"]
    assert result["image"] == f"{repo}@{result['digest']}" and result["commit"] == SHA and result["size"] > 300000
    assert "Warning" not in err
    # 2 base + 3 app layers, the built config and the labelled one: once, not once per tag
    assert blob_uploads(registry, name) == 7

    manifest = json.loads(client.manifest(name, result["digest"]).body)
    config = json.loads(client.blob(name, manifest["config"]["digest"]))
    labels = config["config"]["Labels"]
    assert labels["team"] == "web"
    assert labels["org.opencontainers.image.revision"] == SHA
    assert labels["org.opencontainers.image.source"] == "http://gitea.lab/our-task/app"
    assert labels["org.opencontainers.image.version"] == SHA[:8]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", labels["org.opencontainers.image.created"])

    engine.client.images.remove(f"{repo}:latest", force=True)
    engine.client.api.pull(f"{repo}@{result['digest']}")
    output = engine.client.containers.run(
        f"{repo}@{result['digest']}", ["cat", "/version"], remove=True, network_mode="none"
    )
    assert output.decode().strip() == "1.0"


def test_default_tags_card_and_a_rebuild_uploads_only_the_changed_layer(drone_env, registry, capsys, workspace):
    name, repo = repo_of(registry)
    env = {**drone_env, "DRONE_CARD_PATH": "/dev/stdout"}
    code, out, err = run(env, capsys, repo=repo)
    assert code == 0, err
    first = read_result(workspace, "image")
    assert first["tags"] == ["latest", SHA[:8]]
    card = json.loads(base64.b64decode(re.search(r"\x1b\]1338;([^\x1b]+)\x1b\]0m", out).group(1)))
    assert card["data"]["digest"] == first["digest"]
    uploads_before = blob_uploads(registry, name)

    (workspace / "app.txt").write_text("hello v2\n")
    code, out, err = run({**env, "DRONE_COMMIT_SHA": "1" * 40}, capsys, repo=repo)
    assert code == 0, err
    second = read_result(workspace, "image")
    assert second["digest"] != first["digest"]
    assert second["layers"] == {"uploaded": 1, "reused": 4}
    assert blob_uploads(registry, name) - uploads_before == 3  # the app layer and two small configs


def test_skip_existing_only_adds_tags(drone_env, registry, capsys, workspace):
    name, repo = repo_of(registry)
    assert run(drone_env, capsys, repo=repo)[0] == 0
    built = read_result(workspace, "image")
    (workspace / "Dockerfile").write_text("this would not build\n")
    code, out, err = run(drone_env, capsys, repo=repo, tags=f"release,{SHA[:8]}", skip_existing="true")
    assert code == 0, err
    assert "no build" in err
    assert RegistryClient(registry.host, scheme="http").manifest_digest(name, "release") == built["digest"]
    assert read_result(workspace, "image")["skipped_build"] is True


@pytest.mark.parametrize(
    "event, tag, expected",
    [("tag", "v1.4.2", ["latest", SHA[:8], "1", "1.4", "1.4.2"]), ("push", "", ["latest", SHA[:8]])],
)
def test_auto_tag(drone_env, registry, capsys, workspace, event, tag, expected):
    name, repo = repo_of(registry)
    code, out, err = run(
        {**drone_env, "DRONE_BUILD_EVENT": event, "DRONE_TAG": tag}, capsys, repo=repo, auto_tag="true"
    )
    assert code == 0, err
    assert read_result(workspace, "image")["tags"] == expected
    assert sorted(RegistryClient(registry.host, scheme="http").tags(name)) == sorted(expected)


def test_tags_file_and_target(drone_env, registry, capsys, workspace):
    name, repo = repo_of(registry)
    (workspace / ".tags").write_text("first\n second ,third\n")
    code, out, err = run(drone_env, capsys, repo=repo, target="deps")
    assert code == 0, err
    result = read_result(workspace, "image")
    assert result["tags"] == ["first", "second", "third"]
    client = RegistryClient(registry.host, scheme="http")
    config = json.loads(client.blob(name, json.loads(client.manifest(name, "first").body)["config"]["digest"]))
    assert config["config"]["Cmd"] != ["cat", "/app/app.txt"]  # stopped at the deps stage


def test_a_failing_instruction_is_named_with_its_output(drone_env, registry, capsys, workspace):
    (workspace / "Dockerfile").write_text("ARG BASE\nFROM $BASE\nRUN echo about to fail && exit 3\n")
    code, out, err = run(drone_env, capsys, repo=repo_of(registry)[1])
    assert code == 1
    assert re.search(r"^Error: the build failed at Step 3/\d+ : RUN echo about to fail && exit 3: ", err, re.M)
    assert "returned a non-zero code: 3" in err
    assert "  - about to fail" in err
    assert read_result(workspace, "image") is None


def test_missing_dockerfile_names_the_setting(drone_env, registry, capsys, workspace):
    code, out, err = run(drone_env, capsys, repo=repo_of(registry)[1], dockerfile="docker/Dockerfile.prod")
    assert code == 2
    assert f"Error: settings.dockerfile: {workspace}/docker/Dockerfile.prod does not exist" in err


def test_registry_down_fails_before_building(drone_env, capsys, engine):
    images_before = len(engine.client.images.list(all=True))
    code, out, err = run(drone_env, capsys, repo=f"127.0.0.1:{free_port()}/team/app")
    assert code == 1
    assert "is unreachable" in err.splitlines()[-2]
    assert len(engine.client.images.list(all=True)) == images_before


def test_wrong_password_is_refused_and_never_printed(drone_env, capsys, tmp_path):
    htpasswd = require_binary("htpasswd", "apache2-utils")
    users = tmp_path / "htpasswd"
    users.write_text(
        subprocess.run([htpasswd, "-Bbn", "ci", "right-pass"], capture_output=True, text=True, check=True).stdout
    )
    with running_registry(require_binary("docker-registry", "docker-registry"), htpasswd=users) as secured:
        secret = "wr0ng-Pa55word"
        code, out, err = run(drone_env, capsys, repo=f"{secured.host}/team/app", username="ci", password=secret)
        assert code == 1
        assert f"Error: registry {secured.host} refused the credentials" in err
        assert secret not in out + err

        code, out, err = run(drone_env, capsys, repo=f"{secured.host}/team/app", username="ci", password="right-pass")
        assert code == 0, err
        assert "right-pass" not in out + err


def test_bad_settings_fail_before_anything_runs(drone_env, capsys):
    code, out, err = run(drone_env, capsys, repo="127.0.0.1:5000/Team/App:v1", timeout="5m")
    assert code == 2
    assert "Warning: settings.timeout is not a setting of this plugin" in err
    assert "Error: settings.repo: '127.0.0.1:5000/Team/App:v1': 'Team/App' is not a valid repository name" in err


def test_dry_run_builds_without_the_registry(drone_env, capsys, workspace):
    code, out, err = run(drone_env, capsys, repo=f"127.0.0.1:{free_port()}/team/app", dry_run="true")
    assert code == 0, err
    assert "dry run: built " in err and read_result(workspace, "image") is None


def test_external_daemon_mode_fails_clearly_without_an_engine(drone_env, capsys, tmp_path, registry):
    env = {**drone_env, "DOCKER_HOST": f"unix://{tmp_path}/nothing.sock"}
    code, out, err = run(env, capsys, repo=f"{registry.host}/team/app", daemon="external")
    assert code == 1
    assert f"Error: no Docker engine answers at DOCKER_HOST=unix://{tmp_path}/nothing.sock" in err


def test_by_hand_from_a_laptop(engine, registry, base_image, workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    name, repo = repo_of(registry)
    result = CliRunner().invoke(cli, [
        "build-push", "--repo", repo, "--tag", "dev", "--tag", "v1", "--build-arg", f"BASE={base_image}",
        "--label", "note=a,b", "--no-dry-run",
    ], env={"DOCKER_HOST": engine.host})
    assert result.exit_code == 0, result.output
    image = read_result(workspace, "image")
    assert image["tags"] == ["dev", "v1"]
    client = RegistryClient(registry.host, scheme="http")
    config = json.loads(client.blob(name, json.loads(client.manifest(name, "v1").body)["config"]["digest"]))
    assert config["config"]["Labels"]["note"] == "a,b"  # a comma inside a value survives


def test_by_hand_bad_option_value_names_the_setting(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["build-push", "--repo", "reg.lab/app", "--daemon-timeout", "soon"])
    assert result.exit_code == 2
    assert 'settings.daemon_timeout: expected a duration like 90s or 5m, got "soon"' in result.stderr


def test_build_args_from_env_and_no_cache(drone_env, registry, engine, capsys, workspace):
    name, repo = repo_of(registry)
    env = {**drone_env, "VERSION": "7.7"}
    code, out, err = run(env, capsys, repo=repo, build_args_from_env="VERSION")
    assert code == 0, err
    first = read_result(workspace, "image")
    output = engine.client.containers.run(first["image"], ["cat", "/version"], remove=True, network_mode="none")
    assert output.decode().strip() == "7.7"

    code, out, err = run(env, capsys, repo=repo, build_args_from_env="VERSION", no_cache="true")
    assert code == 0, err
    # Without cache the dependency stage runs again and writes new random bytes: 3 new layers.
    assert read_result(workspace, "image")["layers"] == {"uploaded": 3, "reused": 2}
