"""drone_kit exec: pipelines run for real on the test stack's engine."""

from __future__ import annotations

import subprocess

import pytest
from click.testing import CliRunner

from drone_kit.clients.containers import ContainerEngine
from drone_kit.errors import DroneKitError
from drone_kit.pipelines.local_run import run_exec
from drone_kit.pipelines.plan import matches, script, substitute
from drone_kit.step.settings import encode_setting

PIPELINE = """\
kind: pipeline
type: docker
name: test
steps:
  - name: first
    image: {base}
    environment:
      TOKEN:
        from_secret: token
    settings:
      tags: [a, b]
      build_args: {{K: v}}
      dry_run: true
    commands:
      - cat hello.txt
      - echo "event=$DRONE_BUILD_EVENT branch=$DRONE_BRANCH sha=${{DRONE_COMMIT_SHA:0:8}}"
      - echo "tags=$PLUGIN_TAGS args=$PLUGIN_BUILD_ARGS dry=$PLUGIN_DRY_RUN token=$TOKEN"
  - name: only-on-tags
    image: {base}
    when: {{event: [tag]}}
    commands: [echo should not run]
  - name: web-client
    image: {base}
    depends_on: [first]
    commands:
      - wget -qO- http://web:8080/index.html
  - name: tolerated
    image: {base}
    depends_on: [web-client]
    failure: ignore
    commands: [exit 5]
  - name: breaks
    image: {base}
    depends_on: [tolerated]
    commands: [echo about to break, exit 4, echo never]
  - name: after-failure
    image: {base}
    depends_on: [breaks]
    commands: [echo skipped because the pipeline failed]
  - name: on-failure
    image: {base}
    depends_on: [breaks]
    when: {{status: [failure]}}
    commands: [echo cleaning up]
services:
  - name: web
    image: {base}
    commands:
      - mkdir -p /www && echo served-by-service > /www/index.html
      - httpd -f -p 8080 -h /www
"""


@pytest.fixture
def repo(tmp_path, base_image):
    (tmp_path / "hello.txt").write_text("hello from the workspace\n")
    (tmp_path / ".drone.yml").write_text(PIPELINE.format(base=base_image))
    for command in (["init", "-q", "-b", "main"], ["add", "."], ["-c", "user.email=t@t", "-c", "user.name=t",
                                                                  "commit", "-qm", "first"]):
        subprocess.run(["git", "-C", str(tmp_path), *command], check=True)
    return tmp_path


def test_a_pipeline_runs_as_the_runner_would(engine, repo):
    lines = []
    code = run_exec(
        repo / ".drone.yml", None, {"token": "s3cret"}, {}, False, False, ContainerEngine(engine.client), lines.append
    )
    text = "\n".join(lines)
    sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert code == 4, text
    assert "[first] hello from the workspace" in text
    assert f"[first] event=push branch=main sha={sha[:8]}" in text
    assert '[first] tags=a,b args={"K": "v"} dry=true token=******' in lines
    assert "s3cret" not in text
    assert "[only-on-tags] skipped" in text and "should not run" not in text.replace("echo should not run", "")
    assert "[web-client] served-by-service" in text
    assert "[tolerated] failed with exit code 5 (ignored: failure: ignore)" in lines
    assert "[breaks] about to break" in text and "[breaks] never" not in text
    assert "[breaks] failed with exit code 4" in lines
    # A failed dependency skips what follows, unless its `when: status` asks to run on failure.
    assert "[after-failure] skipped (the pipeline has failed)" in lines
    assert not any(line.startswith("[after-failure] +") for line in lines)
    assert "[on-failure] cleaning up" in lines
    assert lines[-1] == "pipeline 'test': failure (exit code 4)"
    assert text.index("[first]") < text.index("[web-client]") < text.index("[breaks]")
    assert not engine.client.containers.list(all=True, filters={"label": "drone-kit-exec"})


def test_a_missing_secret_and_unsupported_keys_are_errors(engine, repo):
    with pytest.raises(DroneKitError, match=r"secret 'token' is not given"):
        run_exec(repo / ".drone.yml", None, {}, {}, False, False, ContainerEngine(engine.client), print)
    (repo / ".drone.yml").write_text("kind: pipeline\nname: x\nclone: {disable: true}\nsteps: [{name: a, image: b}]\n")
    with pytest.raises(DroneKitError, match=r"pipeline 'x'.clone: not supported by drone_kit exec"):
        run_exec(repo / ".drone.yml", None, {}, {}, False, False, ContainerEngine(engine.client), print)


def test_privileged_needs_trusted(engine, repo, base_image):
    (repo / ".drone.yml").write_text(f"kind: pipeline\nname: x\nsteps:\n  - name: a\n    image: {base_image}\n"
                                     "    privileged: true\n    commands: [id -u]\n")
    with pytest.raises(DroneKitError, match=r"steps\[0\] \(a\)\.privileged: needs a trusted repository"):
        run_exec(repo / ".drone.yml", None, {}, {}, False, False, ContainerEngine(engine.client), print)
    lines = []
    assert run_exec(repo / ".drone.yml", None, {}, {}, True, False, ContainerEngine(engine.client), lines.append) == 0
    assert "[a] 0" in lines


def test_trigger_that_does_not_match_runs_nothing(engine, repo, base_image):
    (repo / ".drone.yml").write_text(f"kind: pipeline\nname: x\ntrigger: {{event: [tag]}}\nsteps:\n"
                                     f"  - name: a\n    image: {base_image}\n    commands: [echo ran]\n")
    lines = []
    assert run_exec(repo / ".drone.yml", None, {}, {}, False, False, ContainerEngine(engine.client), lines.append) == 0
    assert not any("ran" in line for line in lines if line.startswith("[a]"))
    lines = []
    assert run_exec(repo / ".drone.yml", None, {}, {"DRONE_BUILD_EVENT": "tag"}, False, False,
                    ContainerEngine(engine.client), lines.append) == 0
    assert "[a] ran" in lines


@pytest.mark.parametrize("text, expected", [
    ("${DRONE_COMMIT_SHA:0:8}", "abcdef12"), ("${DRONE_TAG}", "v1"), ("$${HOME}", "${HOME}"), ("${MISSING}", ""),
    ("${DRONE_COMMIT_SHA:4}", "ef1234567890"),
])
def test_substitution(text, expected):
    assert substitute(text, {"DRONE_COMMIT_SHA": "abcdef1234567890", "DRONE_TAG": "v1"}) == expected


@pytest.mark.parametrize("condition, value, result", [
    (["main"], "main", True), ("feature/*", "feature/x", True), ({"exclude": ["main"]}, "main", False),
    ({"include": ["v*"], "exclude": ["v0*"]}, "v1", True), (None, "x", True), (["push"], "tag", False),
])
def test_condition_matching(condition, value, result):
    assert matches(condition, value) is result


def test_setting_encoding():
    assert [encode_setting(v) for v in ([1, "b"], {"a": 1}, [{"a": 1}], True, None, 3)] == [
        "1,b", '{"a": 1}', '[{"a": 1}]', "true", "", "3"]


def test_the_script_traces_each_command_as_written():
    assert script(["make", "echo \"$TOKEN\" $(date) 'q'"]) == (
        "set -e\n"
        "printf '%s\\n' '+ make'\n"
        "make\n"
        "printf '%s\\n' '+ echo \"$TOKEN\" $(date) '\"'\"'q'\"'\"''\n"
        "echo \"$TOKEN\" $(date) 'q'\n"
    )


def test_cli_reads_secrets_files(engine, repo, tmp_path, monkeypatch):
    from drone_kit.cli import cli

    secrets = tmp_path / "secrets.env"
    secrets.write_text("# for the test\ntoken=from-file\n")
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    result = CliRunner().invoke(cli, ["exec", str(repo / ".drone.yml"), "--secrets-file", str(secrets)])
    assert result.exit_code == 4, result.output
    assert "token=******" in result.stderr and "from-file" not in result.output
