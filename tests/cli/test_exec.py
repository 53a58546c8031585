"""`drone_kit exec` as a user meets it: no secret in anything it prints, a broken .drone.yml
stopped before any container exists, and no engine said in one error line with a hint."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from drone_kit.cli import cli
from tests.pipelines.exec_support import checkout, exec_containers_created, now

KUBECONFIG = """\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: QUJDREVGR0hJSktMTU5PUA==
    server: https://10.20.30.40:6443
  name: home
users:
- name: admin
  user:
    token: kube-t0ken-4f1c9
"""
SECRETS = {"token": "s3cret-T0ken", "password": "pa55-w0rd-x", "kubeconfig": KUBECONFIG,
           "unused": "given-but-not-used-77"}

SHOWS_SECRETS = """\
kind: pipeline
name: secrets
steps:
  - name: show
    image: {base}
    environment:
      TOKEN: {{from_secret: token}}
      KUBECONFIG: {{from_secret: kubeconfig}}
    settings:
      password: {{from_secret: password}}
    commands:
      - echo "token=$TOKEN"
      - echo "$KUBECONFIG"
      - echo "password=$PLUGIN_PASSWORD"
      - cat notes.txt
      - env | sort
      - echo "$TOKEN" >&2 && exit 3
"""


def _exec(*args: str, docker_host: str):
    return CliRunner().invoke(cli, ["exec", *args], env={"DOCKER_HOST": docker_host})


def _secret_args() -> list[str]:
    return [arg for name, value in SECRETS.items() for arg in ("--secret", f"{name}={value}")]


def test_no_secret_value_appears_in_anything_exec_prints(engine, base_image, tmp_path):
    repo = checkout(tmp_path, SHOWS_SECRETS.format(base=base_image),
                    {"notes.txt": f"a note that quotes {SECRETS['unused']} by mistake\n"})
    result = _exec(str(repo / ".drone.yml"), *_secret_args(), docker_host=engine.host)
    output = result.output
    assert result.exit_code == 3, output
    leaked = [line for value in SECRETS.values() for line in value.splitlines() if line.strip() in output]
    assert not leaked, output
    # What was masked was printed, and masked where it stood.
    assert "[show] token=******" in output and "[show] password=******" in output
    assert "[show] a note that quotes ****** by mistake" in output
    assert "[show]     ******" in output  # a kubeconfig line: masked on its own, its indentation kept
    assert "[show] TOKEN=******" in output and "[show] PLUGIN_PASSWORD=******" in output
    assert '[show] + echo "token=$TOKEN"' in output  # the trace shows the command as written
    # An error message is masked too.
    result = _exec(str(repo / ".drone.yml"), *_secret_args(), "--pipeline", SECRETS["token"], docker_host=engine.host)
    assert result.exit_code == 1
    assert "Error: " in result.output and "no pipeline named '******'" in result.output
    assert SECRETS["token"] not in result.output


BROKEN = """\
kind: pipeline
name: broken
steps:
  - name: a
    image: {base}
    commands: [touch ran]
  - name: b
    image: {base}
    depends_on: [a]
    when: {{brnch: main}}
    commands: [echo b]
"""


def test_a_broken_file_stops_before_any_container_is_created(engine, base_image, tmp_path):
    repo = checkout(tmp_path, BROKEN.format(base=base_image))
    path = repo / ".drone.yml"
    since = now()
    result = _exec(str(path), docker_host=engine.host)
    assert result.exit_code == 1, result.output
    # exec itself would run this file (it ignores a condition it does not know, as Drone does): only
    # lint's check stops it.
    assert f"{path}:10: error: pipeline 'broken'.steps[1] (b).when.brnch: not a key Drone knows here" in result.output
    assert result.output.strip().splitlines()[-2:] == [f"Error: {path}: 1 error", "Hint: each is listed above"]
    assert exec_containers_created(engine.client, since) == []
    # The same file, fixed, does create containers: the check above would have seen them.
    path.write_text(path.read_text().replace("brnch", "branch"))
    since = now()
    result = _exec(str(path), docker_host=engine.host)
    assert result.exit_code == 0, result.output
    assert len(exec_containers_created(engine.client, since)) == 2


PASSES = "kind: pipeline\nname: ok\nsteps:\n  - name: a\n    image: busybox\n    commands: [echo hi]\n"


@pytest.mark.parametrize("docker_host, error", [
    ("unix://{tmp}/no-engine.sock", "Error: no Docker engine answers at unix://{tmp}/no-engine.sock"),
    ("tcp://127.0.0.1:99999", "Error: DOCKER_HOST='tcp://127.0.0.1:99999' is not an engine address: "
                              "Port out of range 0-65535"),
])
def test_no_engine_is_one_error_line_and_a_hint(tmp_path, docker_host, error):
    repo = checkout(tmp_path / "repo", PASSES)
    result = _exec(str(repo / ".drone.yml"), docker_host=docker_host.format(tmp=tmp_path))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and lines[0] == error.format(tmp=tmp_path) and lines[1].startswith("Hint: "), lines


def test_debug_shows_the_traceback_and_a_broken_file_is_reported_before_the_engine(tmp_path):
    repo = checkout(tmp_path / "repo", PASSES)
    host = f"unix://{tmp_path}/no-engine.sock"
    result = CliRunner().invoke(cli, ["--debug", "exec", str(repo / ".drone.yml")], env={"DOCKER_HOST": host})
    assert result.exit_code == 1 and "Traceback" in result.output
    (repo / ".drone.yml").write_text(PASSES.replace("commands", "comands"))
    result = _exec(str(repo / ".drone.yml"), docker_host=host)
    assert result.exit_code == 1
    assert ".comands: not a key Drone knows here" in result.output and "Docker" not in result.output
