"""`drone_kit demo` on its command line: what it does said in --help, and input it cannot use
refused in one line before anything is contacted."""

from __future__ import annotations

from click.testing import CliRunner

from drone_kit.cli import cli


def test_demo_help_says_what_it_pushes_and_what_it_checks():
    result = CliRunner().invoke(cli, ["demo", "--help"], terminal_width=200)
    text = " ".join(result.output.split())
    assert result.exit_code == 0
    for words in ("drone-kit-demo", "rolled back", "Exits 1", "--timeout", "--sample-app", "--gitea-url"):
        assert words in text, text


def test_a_folder_that_is_not_the_sample_app_stops_before_anything_is_contacted(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    result = CliRunner().invoke(cli, ["demo", "--sample-app", str(tmp_path), "--kubeconfig", str(tmp_path / "none")])
    lines = result.output.splitlines()
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert lines[0] == f"Error: {tmp_path} is not drone_kit's sample app (no .drone.yml and k8s/ in it)"
    assert "--sample-app" in lines[1]


def test_a_timeout_out_of_range_is_refused_by_name():
    result = CliRunner().invoke(cli, ["demo", "--timeout", "0"])
    assert result.exit_code == 2 and "--timeout" in result.output
