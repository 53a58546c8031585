"""`drone_kit init`: the example platform.yaml written, never over an existing file unless forced."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from drone_kit.cli import Root
from drone_kit.cli.platform_init import init_command
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.config_example import example_yaml
from drone_kit.platform.config_file import read_config


@pytest.fixture
def run(tmp_path, monkeypatch):
    """`drone_kit …` in an empty folder: init on a group with the root CLI's error handling."""
    monkeypatch.chdir(tmp_path)

    @click.group(cls=Root)
    def cli() -> None:
        pass

    cli.add_command(init_command)
    return lambda *args: CliRunner().invoke(cli, ["init", *args])


def test_init_writes_the_example_to_platform_yaml_and_says_what_next(run, tmp_path):
    result = run()
    assert result.exit_code == 0, result.output
    written = tmp_path / "platform.yaml"
    assert written.read_text() == example_yaml()
    assert read_config(written) == PlatformConfig()
    assert result.output.splitlines() == [
        "Wrote platform.yaml: the example platform (server node 192.168.1.70, MetalLB pool "
        "192.168.1.200-192.168.1.210, registry 192.168.1.70:30500).",
        "Next: change its addresses to your LAN's, then run: drone_kit bootstrap --config platform.yaml",
    ]


def test_init_writes_to_the_path_given(run, tmp_path):
    result = run("lab/my platform.yaml")
    assert result.exit_code != 0  # the folder does not exist
    assert result.output.splitlines()[0] == "Error: cannot write lab/my platform.yaml: No such file or directory"
    (tmp_path / "lab").mkdir()
    result = run("lab/my platform.yaml")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "lab" / "my platform.yaml").read_text() == example_yaml()
    assert result.output.splitlines()[-1].endswith("drone_kit bootstrap --config 'lab/my platform.yaml'")


def test_init_refuses_to_overwrite_and_writes_nothing(run, tmp_path):
    existing = tmp_path / "platform.yaml"
    existing.write_text("server:\n  address: 10.0.0.5\n")
    result = run()
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: platform.yaml already exists; nothing was written",
        "Hint: edit it, or replace it with the example: drone_kit init platform.yaml --force",
    ]
    assert existing.read_text() == "server:\n  address: 10.0.0.5\n"


def test_init_force_overwrites(run, tmp_path):
    existing = tmp_path / "platform.yaml"
    existing.write_text("server:\n  address: 10.0.0.5\n")
    result = run("--force")
    assert result.exit_code == 0, result.output
    assert existing.read_text() == example_yaml()


def test_init_refuses_a_folder(run, tmp_path):
    (tmp_path / "conf").mkdir()
    result = run("conf")
    assert result.exit_code == 2
    assert "is a directory" in result.output
