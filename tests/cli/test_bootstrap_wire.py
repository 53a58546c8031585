"""`drone_kit bootstrap`'s last phase, the wiring, as its command line shows it: the options it
shares with `drone_kit wire`, and a run that does not wire saying so; no cluster is contacted."""

from __future__ import annotations

import re

from click.testing import CliRunner

from drone_kit.cli import cli


def help_of(*command: str) -> str:
    result = CliRunner().invoke(cli, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def option_help(text: str, option: str) -> str:
    """The help of one option, its wrapped lines joined."""
    block = re.search(rf"^\s+{option}\b(.*?)(?=^\s+-|^\S|\Z)", text, re.MULTILINE | re.DOTALL)
    assert block, f"{option} not in:\n{text}"
    return " ".join(block.group(1).split())


def test_bootstrap_help_offers_to_leave_gitea_and_drone_unwired():
    text = help_of("bootstrap")
    assert "--no-wire" in text
    assert "unwired" in option_help(text, "--no-wire") and "drone_kit wire" in option_help(text, "--no-wire")
    assert "wire Gitea to Drone" in " ".join(text.split())


def test_bootstrap_and_wire_mean_the_same_by_gitea_url_and_drone_url():
    bootstrap, wire = help_of("bootstrap"), help_of("wire")
    for option in ("--gitea-url", "--drone-url"):
        assert option_help(bootstrap, option) == option_help(wire, option)
        assert "Default:" in option_help(bootstrap, option)


def test_a_dry_run_says_it_does_not_wire(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["bootstrap", "--dry-run", "--only", "grafana"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        "wiring: skipped (--dry-run applies nothing); run `drone_kit wire` to wire Gitea to Drone once they are "
        "installed")
    assert "wiring" not in result.stdout
