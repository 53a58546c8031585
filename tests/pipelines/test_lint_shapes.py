"""drone_kit lint on files Drone would run nothing from or refuse: an empty file or one with no
pipeline, `commands` that is not a list, and drone_kit plugin settings whose value is not of their
type (a bool that is not a boolean, `insecure: maybe`) — each with its line, naming the key."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from drone_kit.cli import cli
from drone_kit.pipelines.document import load_documents
from drone_kit.pipelines.lint import lint
from drone_kit.plugins.catalog import PLUGINS

STEPS = """\
kind: pipeline
type: docker
name: default
steps:
  - name: test
    image: python:3.12
    commands: pytest -q
  - name: echo
    image: alpine
    commands:
      - echo ok
      - echo time: now
      - 42
  - name: build
    image: 192.168.1.70:30500/drone-kit/build-push
    settings:
      repo: 192.168.1.70:30500/team/app
      insecure: maybe
      no_cache: [sometimes]
      dry_run: yes
      password: s3cret-literal
      pull:
  - name: deploy
    image: 192.168.1.70:30500/drone-kit/deploy
    settings:
      deployment: web
      rollback: perhaps
      kubeconfig:
        from_secret: kubeconfig
"""


def problems(text: str) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in lint(load_documents(text), PLUGINS, None) if p.severity == "error"]


def test_commands_and_setting_values_with_their_lines():
    assert problems(STEPS) == [
        (7, "pipeline 'default'.steps[0] (test).commands: expected a list of commands (one `- ` item each), "
            "got a string"),
        (12, "pipeline 'default'.steps[1] (echo).commands[1]: not a command (quote it: YAML reads an unquoted "
             "`: ` as a mapping)"),
        (18, "pipeline 'default'.steps[2] (build).settings.insecure: expected auto, true or false, or registries "
             "(host:port, dotted names) and CIDRs, got 'maybe'"),
        (19, "pipeline 'default'.steps[2] (build).settings.no_cache: expected true or false (also yes/no, 1/0), "
             "got 'sometimes'"),
        (27, "pipeline 'default'.steps[3] (deploy).settings.rollback: expected true or false (also yes/no, 1/0), "
             "got 'perhaps'"),
    ]


@pytest.mark.parametrize("value", ["auto", "true", "false", "yes", "off", "192.168.1.70:30500", "reg.lab",
                                   "registry:5000", "localhost:5000", "10.0.0.0/8", "[reg.lab, 10.0.0.0/8]"])
def test_every_documented_insecure_value_passes(value):
    text = STEPS.replace("insecure: maybe", f"insecure: {value}")
    assert not [m for _, m in problems(text) if ".insecure" in m]


@pytest.mark.parametrize("value", ["maybe", "sure", "[true, reg.lab]", "reg_lab.x"])
def test_an_insecure_value_that_is_neither_bool_nor_registry_is_flagged(value):
    text = STEPS.replace("insecure: maybe", f"insecure: {value}")
    assert [line for line, m in problems(text) if ".insecure" in m] == [18]


def test_a_secret_setting_given_in_the_file_is_not_repeated():
    text = STEPS.replace("      deployment: web\n", "      deployment: web\n      kubeconfig: leaked-in-clear\n", 1)
    text = text.replace("      kubeconfig:\n        from_secret: kubeconfig\n", "")
    found = [m for _, m in problems(text) if ".kubeconfig" in m]
    assert found == ["pipeline 'default'.steps[3] (deploy).settings.kubeconfig: expected a kubeconfig (YAML with "
                     "clusters, or its base64), got a value (not shown: the setting is secret)"]


@pytest.mark.parametrize("text, line, message", [
    ("", 1, "the file is empty: no pipeline (kind: pipeline) for Drone to run"),
    ("# only a comment\n", 1, "the file is empty: no pipeline (kind: pipeline) for Drone to run"),
    ("---\n---\n", 1, "the file is empty: no pipeline (kind: pipeline) for Drone to run"),
    ("# secrets only\nkind: secret\nname: token\n", 2,
     "no pipeline: no document has kind: pipeline, so Drone runs nothing"),
])
def test_a_file_without_a_pipeline(text, line, message):
    assert problems(text) == [(line, message)]


def test_the_command_fails_on_an_empty_file(tmp_path):
    path = tmp_path / ".drone.yml"
    path.write_text("")
    result = CliRunner().invoke(cli, ["lint", str(path)])
    assert result.exit_code == 1
    assert f"{path}:1: error: the file is empty" in result.stderr and ": ok" not in result.stderr


def test_the_command_names_the_line_and_key_of_a_bad_bool(tmp_path):
    path = tmp_path / ".drone.yml"
    path.write_text(STEPS)
    result = CliRunner().invoke(cli, ["lint", str(path)])
    assert result.exit_code == 1
    assert f"{path}:18: error: pipeline 'default'.steps[2] (build).settings.insecure: expected" in result.stderr
    assert "s3cret-literal" not in result.stderr
