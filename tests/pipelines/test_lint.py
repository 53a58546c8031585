"""drone_kit lint: every shipped pipeline passes; typos Drone would ignore are caught with their line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from drone_kit.cli import cli
from drone_kit.errors import DroneKitError
from drone_kit.pipelines.document import load_documents
from drone_kit.pipelines.lint import lint, secrets_used
from drone_kit.plugins.catalog import PLUGINS
from tests.paths import ROOT

SHIPPED = sorted(ROOT.glob("pipelines/*.yml")) + [ROOT / "sample-app" / ".drone.yml"]

BROKEN = """\
kind: pipeline
type: kubernetes
name: default
node_selectr: {a: b}
steps:
  - name: build
    image: 192.168.1.70:30500/drone-kit/build-push
    settings:
      repo: 192.168.1.70:30500/x/y
      tagz: [a]
      auto_tag: maybe
  - name: deploy
    image: 192.168.1.70:30500/drone-kit/deploy:1.0
    depends_on: [biuld]
    imagee: x
    settings:
      deployment: web
      kubeconfig:
        from_secret: kubeconfig
    when:
      paths: [src/**]
      brnch: main
---
kind: secret
name: ignored
"""


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_pipeline_passes_lint(path):
    result = CliRunner().invoke(cli, ["lint", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().endswith(": ok")


def test_problems_come_with_their_line_and_a_suggestion():
    problems = [(p.line, p.severity, p.message) for p in lint(load_documents(BROKEN), PLUGINS, {"kubeconfig"})]
    assert problems == [
        (4, "error", "pipeline 'default'.node_selectr: not a key Drone knows here (did you mean node_selector?); "
                     "Drone ignores it"),
        (10, "error", "pipeline 'default'.steps[0] (build).settings.tagz: not a setting of the build-push plugin "
                      "(did you mean tags?); it would be ignored"),
        (11, "error", "pipeline 'default'.steps[0] (build).settings.auto_tag: expected true or false "
                      "(also yes/no, 1/0), got 'maybe'"),
        (14, "error", "pipeline 'default'.steps[1] (deploy).depends_on: no step named 'biuld' (did you mean build?)"),
        (15, "error", "pipeline 'default'.steps[1] (deploy).imagee: not a key Drone knows here (did you mean image?); "
                      "Drone ignores it"),
        (21, "warning", "pipeline 'default'.steps[1] (deploy).when.paths: Drone does not evaluate paths without a "
                        "paths-changed extension; the condition is ignored and the step always runs"),
        (22, "error", "pipeline 'default'.steps[1] (deploy).when.brnch: not a key Drone knows here "
                      "(did you mean branch?); Drone ignores it"),
    ]


def test_missing_secrets_and_required_settings():
    documents = load_documents(BROKEN.replace("      deployment: web\n", ""))
    messages = [p.message for p in lint(documents, PLUGINS, set())]
    assert "pipeline 'default': secret 'kubeconfig' is used (from_secret) but not given" in messages
    assert (
        "pipeline 'default'.steps[1] (deploy).settings: missing required deployment for the deploy plugin" in messages
    )
    assert secrets_used(documents[0].data) == {"kubeconfig"}


def test_yaml_errors_name_the_line():
    with pytest.raises(DroneKitError, match=r"^\.drone\.yml:3:\d+: YAML error: mapping values are not allowed here"):
        load_documents("kind: pipeline\nname: x\n  bad: indent\n")


def test_cli_exit_status_and_summary(tmp_path):
    path = tmp_path / ".drone.yml"
    path.write_text(BROKEN)
    result = CliRunner().invoke(cli, ["lint", str(path), "--secret", "kubeconfig"])
    assert result.exit_code == 1
    assert f"{path}:10: error: " in result.stderr
    assert result.stderr.strip().splitlines()[-2] == f"Error: {path}: 6 errors"
