"""`drone_kit images push` as a user meets it: drone_kit's images built from this checkout with the
suite's engine and pushed to its registry (seen through the registry's HTTP API), a multi-arch
index, and bad input or no engine said in one error with a hint before anything is pushed."""

from __future__ import annotations

import re
import shutil
import socket

import click
import pytest
import requests
from click.testing import CliRunner, Result

import drone_kit
from drone_kit import __version__
from drone_kit.cli import Root
from drone_kit.cli.images_command import images, push_command, repositories
from drone_kit.images.manifests import DOCKER_MANIFEST_LIST, MANIFEST_TYPES
from drone_kit.images.platforms import Platform
from drone_kit.plugins.build_push.own_images import build_order
from tests.paths import ROOT
from tests.stack.engine import Engine
from tests.stack.project_images import OFFLINE, import_base
from tests.stack.registry import Registry


@click.group(cls=Root)
def drone_kit_cli() -> None:
    """A stand-in for the drone_kit root: its error boundary, with only `images`."""


drone_kit_cli.add_command(images)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(drone_kit_cli, ["images", "push", *args], env=env)


def manifest(registry: Registry, name: str, reference: str) -> requests.Response:
    return requests.get(f"{registry.url}/v2/drone-kit/{name}/manifests/{reference}",
                        headers={"Accept": ", ".join(MANIFEST_TYPES)}, timeout=10)


def offline_build(engine: Engine) -> list[str]:
    return ["--base", import_base(engine), "--pip-options", OFFLINE]


def test_deploy_and_shim_are_built_and_pushed_under_the_version(engine, registry):
    result = invoke("--registry", registry.host, "--only", "deploy", "--only", "shim", *offline_build(engine),
                    env={"DOCKER_HOST": engine.host})
    assert result.exit_code == 0, result.output

    lines = result.stdout.splitlines()
    assert [line.split(" ", 2)[:2] for line in lines[:-1]] == [
        ["deploy:", "building"], ["deploy:", "pushed"], ["shim:", "building"], ["shim:", "pushed"]]
    assert lines[-1] == f"pushed 2 images to {registry.host}"
    layers = {}
    for name in ("deploy", "shim"):
        answer = manifest(registry, name, __version__)
        assert answer.status_code == 200, answer.text
        reference = f"{registry.host}/drone-kit/{name}:{__version__}"
        assert f"{name}: pushed {reference} {answer.headers['Docker-Content-Digest']} (linux/" in result.stdout
        layers[name] = [layer["digest"] for layer in answer.json()["layers"]]
    # shim starts FROM the deploy image just built: all of deploy's layers, then its own
    assert layers["shim"][:len(layers["deploy"])] == layers["deploy"]
    assert len(layers["shim"]) >= len(layers["deploy"])


def test_a_platform_list_pushes_an_index_and_a_base_only_image_is_not_pushed(engine, registry):
    arch = engine.client.version()["Arch"]
    result = invoke("--registry", registry.host, "--only", "verify", "--platform", f"linux/{arch}",
                    *offline_build(engine), env={"DOCKER_HOST": engine.host})
    assert result.exit_code == 0, result.output

    assert "deploy: building" in result.stdout and "(a base, not pushed)" in result.stdout
    assert "deploy: pushed" not in result.stdout and result.stdout.endswith(f"pushed 1 image to {registry.host}\n")
    index = manifest(registry, "verify", __version__)
    assert index.status_code == 200 and index.headers["Content-Type"] == DOCKER_MANIFEST_LIST
    children = index.json()["manifests"]
    assert [child["platform"] for child in children] == [{"architecture": arch, "os": "linux"}]
    assert manifest(registry, "verify", children[0]["digest"]).status_code == 200
    deploy_tags = requests.get(f"{registry.url}/v2/drone-kit/deploy/tags/list", timeout=10)
    assert f"{__version__}-linux-{arch}" not in (deploy_tags.json().get("tags") or [] if deploy_tags.ok else [])


def test_no_engine_is_one_error_with_the_command_to_run_elsewhere_and_nothing_pushed(tmp_path):
    with socket.socket() as registry:  # stands in for the registry: nothing may even connect to it
        registry.bind(("127.0.0.1", 0))
        registry.listen(8)
        registry.setblocking(False)
        host = f"127.0.0.1:{registry.getsockname()[1]}"
        result = invoke("--registry", host, "--only", "deploy", "--platform", "linux/amd64,linux/arm64",
                        env={"DOCKER_HOST": f"unix://{tmp_path}/nothing.sock"})
        with pytest.raises(BlockingIOError):
            registry.accept()

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Error: no Docker engine answers at DOCKER_HOST=unix://{tmp_path}/nothing.sock",
        "Hint: start Docker or set DOCKER_HOST to an engine that runs, or on a machine with Docker, from a "
        f"drone_kit checkout, run: drone_kit images push --registry {host} --platform linux/amd64,linux/arm64 "
        "--only deploy",
    ]


def test_an_unreachable_registry_says_how_to_reach_it_through_a_port_forward(engine):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{closed.getsockname()[1]}"
    result = invoke("--registry", host, "--only", "deploy", env={"DOCKER_HOST": engine.host})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: registry {host} is unreachable: nothing accepts connections there",
        "Hint: check the registry's address, or push through a port-forward: kubectl -n registry port-forward "
        "svc/registry 5000:5000, then --registry 127.0.0.1:5000",
    ]
    assert "building" not in result.stdout


def test_an_unknown_image_names_the_option_and_the_closest_image():
    result = invoke("--only", "deploy", "--only", "shm")
    assert result.exit_code == 2
    assert "Invalid value for '--only': no image named 'shm' (did you mean shim?); " \
           "the images are build-push, deploy, verify, shim" in result.stderr


@pytest.mark.parametrize("option, value, says", [
    ("--platform", "linux/amd64,arm64", "'arm64' is not a platform like linux/amd64"),
    ("--registry", "http://127.0.0.1:5000", "is not a registry host:port like 192.168.1.70:30500"),
    ("--registry", "myregistry", "is not a registry host:port"),
])
def test_bad_values_name_their_option(option, value, says):
    result = invoke(option, value)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr and says in result.stderr


def test_a_folder_that_is_not_a_checkout_is_refused_naming_source(tmp_path):
    result = invoke("--source", str(tmp_path), "--registry", "127.0.0.1:1")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: --source: {tmp_path} is not a drone_kit source checkout: "
                                    "it has no pyproject.toml\n")
    assert "Traceback" not in result.output


def test_an_installed_drone_kit_needs_a_checkout(tmp_path, monkeypatch):
    installed = tmp_path / "site-packages" / "drone_kit" / "__init__.py"
    installed.parent.mkdir(parents=True)
    monkeypatch.setattr(drone_kit, "__file__", str(installed))
    result = invoke("--registry", "127.0.0.1:1")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: this drone_kit is installed in {tmp_path / 'site-packages'}, not run from a source checkout",
        "Hint: run it from a drone_kit checkout (pip install -e CHECKOUT), or pass --source CHECKOUT",
    ]


def test_a_checkout_of_another_version_is_refused(tmp_path):
    for name in ("pyproject.toml", *(f"plugins/{image}/Dockerfile" for image in ("build-push", "deploy", "verify",
                                                                                 "shim"))):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "drone_kit").mkdir()
    (tmp_path / "drone_kit" / "__init__.py").write_text('__version__ = "9.9.9"\n')
    result = invoke("--source", str(tmp_path), "--registry", "127.0.0.1:1")
    assert result.exit_code == 1
    assert f"holds drone_kit 9.9.9, but this drone_kit is {__version__}" in result.stderr


def test_the_registry_comes_from_platform_yaml(tmp_path):
    config = tmp_path / "platform.yaml"
    config.write_text("server:\n  address: 10.1.2.3\nregistry:\n  node_port: 31000\n")
    assert repositories(config, None)["shim"].name == "10.1.2.3:31000/drone-kit/shim"
    assert repositories(config, "127.0.0.1:5000")["shim"].name == "127.0.0.1:5000/drone-kit/shim"
    assert repositories(None, None)["deploy"].name == "192.168.1.70:30500/drone-kit/deploy"
    config.write_text("images:\n  drone_kit: mirror.lab/tools\n")
    assert repositories(config, None)["verify"].name == "mirror.lab/tools/verify"


def test_a_bad_platform_yaml_is_reported_before_any_engine_is_asked(tmp_path):
    config = tmp_path / "platform.yaml"
    config.write_text("registry:\n  node_prot: 31000\n")
    result = invoke("--config", str(config), env={"DOCKER_HOST": f"unix://{tmp_path}/nothing.sock"})
    assert result.exit_code == 2
    assert re.search(r"registry\.node_prot: unknown key \(did you mean node_port\?\)", result.stderr)
    assert "Docker engine" not in result.stderr


@pytest.mark.parametrize("only, order", [
    ((), [("build-push", True), ("deploy", True), ("verify", True), ("shim", True)]),
    (("shim",), [("deploy", False), ("shim", True)]),
    (("shim", "deploy"), [("deploy", True), ("shim", True)]),
    (("build-push",), [("build-push", True)]),
])
def test_bases_are_built_first_and_pushed_only_when_asked_for(only, order):
    assert build_order(only) == order


def test_the_command_for_elsewhere_keeps_the_options_but_the_source():
    arm = [Platform("linux", "arm64")]
    assert push_command(None, None, [], (), None, None) == "drone_kit images push --registry 192.168.1.70:30500"
    assert push_command(None, "127.0.0.1:5000", arm, ("shim",), "debian:bookworm", "--no-index") == (
        "drone_kit images push --registry 127.0.0.1:5000 --platform linux/arm64 --only shim "
        "--base debian:bookworm --pip-options --no-index")
    config = ROOT / "my platform.yaml"
    assert push_command(config, None, [], (), None, None) == f"drone_kit images push --config '{config}'"
    assert push_command(config, "10.0.0.1:30500", [], (), None, "--no-index --find-links /w") == (
        "drone_kit images push --registry 10.0.0.1:30500 --pip-options '--no-index --find-links /w'")
