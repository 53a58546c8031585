"""The plugin contract end to end: a plugin run through the CLI as Drone runs it."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from drone_kit.cli import cli
from drone_kit.errors import DroneKitError
from drone_kit.plugins import catalog
from drone_kit.plugins.build_push import BUILD_PUSH
from drone_kit.step.plugin import Plugin
from drone_kit.step.results import read_result, write_result
from drone_kit.step.settings import DURATION, LIST, Setting

SECRET = "pa55-w0rd-xyz"


def leaky_run(run):
    """Tries every way to leak its secret: its own lines, a subprocess, an exception."""
    run.say(f"password is {run.settings['password']}")
    print(f"stdout has {run.settings['password']} too")
    child = subprocess.run([sys.executable, "-c", "import os; print('child says', os.environ['PLUGIN_PASSWORD'])"],
                           capture_output=True, text=True)
    run.stderr.write(child.stdout)
    write_result(
        run.context.workspace, "leaky", {"tags": run.settings["tags"], "timeout": run.settings["timeout"].seconds}
    )
    if run.settings["fail"]:
        raise DroneKitError(f"login with {run.settings['password']} refused", hint="check settings.password")


LEAKY = Plugin(
    name="leaky",
    summary="A test plugin that tries to print its secret.",
    settings=(
        Setting("password", secret=True, required=True, help="A secret."),
        Setting("tags", LIST, default="latest"),
        Setting("timeout", DURATION, default="1m"),
        Setting("fail", default=""),
    ),
    run=leaky_run,
)


@pytest.fixture
def leaky(monkeypatch):
    monkeypatch.setitem(catalog.PLUGINS, "leaky", LEAKY)


def invoke(args, env):
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def test_plugin_reads_drone_env_and_writes_its_result(leaky, tmp_path):
    env = {"PLUGIN_PASSWORD": SECRET, "PLUGIN_TAGS": "a,b", "PLUGIN_TIMEOUT": "90s", "DRONE_WORKSPACE": str(tmp_path)}
    result = invoke(["plugin", "run", "leaky"], env)
    assert result.exit_code == 0, result.output
    assert read_result(tmp_path, "leaky") == {"tags": ["a", "b"], "timeout": 90}


def test_secret_never_appears_in_output_from_any_source(leaky, tmp_path):
    env = {"PLUGIN_PASSWORD": SECRET, "PLUGIN_FAIL": "yes", "DRONE_WORKSPACE": str(tmp_path)}
    result = invoke(["plugin", "run", "leaky"], env)
    everything = result.stdout + result.stderr
    assert result.exit_code == 1
    assert SECRET not in everything
    assert everything.count("******") == 4, everything  # own line, print, subprocess, error
    assert "Error: login with ****** refused" in result.stderr
    assert "Hint: check settings.password" in result.stderr


def test_settings_on_the_command_line(leaky, tmp_path):
    result = invoke(
        ["plugin", "run", "leaky", "--setting", f"password={SECRET}", "-s", "tags=x", "-s", "timeout=2m"],
        {"DRONE_WORKSPACE": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    assert read_result(tmp_path, "leaky") == {"tags": ["x"], "timeout": 120}
    assert SECRET not in result.output


def test_bad_settings_are_listed_with_hint_and_exit_2(leaky, tmp_path):
    result = invoke(
        ["plugin", "run", "leaky"], {"PLUGIN_TIMEOUT": "abc", "PLUGIN_TAGZ": "v1", "DRONE_WORKSPACE": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Warning: settings.tagz is not a setting of this plugin and is ignored (did you mean tags?)",
        "Error: 2 problems with the settings",
        "  - missing required settings.password",
        '  - settings.timeout: expected a duration like 90s or 5m, got "abc"',
        "Hint: fix them under `settings:` in .drone.yml (or --setting key=value)",
    ]
    assert read_result(tmp_path, "leaky") is None  # nothing half-done


def test_malformed_setting_flag_is_one_error_line(leaky):
    result = invoke(["plugin", "run", "leaky", "--setting", "novalue"], {})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --setting 'novalue' is not KEY=VALUE")


def test_unexpected_exceptions_are_masked_and_traceback_only_with_debug(monkeypatch, tmp_path):
    def broken(run):
        raise RuntimeError(f"bug near {run.settings['password']}")

    monkeypatch.setitem(
        catalog.PLUGINS, "broken", Plugin("broken", "Broken.", (Setting("password", secret=True),), broken)
    )
    env = {"PLUGIN_PASSWORD": SECRET, "DRONE_WORKSPACE": str(tmp_path)}
    quiet = invoke(["plugin", "run", "broken"], env)
    assert quiet.exit_code == 70
    assert quiet.stderr.splitlines() == [
        "Error: unexpected RuntimeError: bug near ******",
        "Hint: re-run with --debug for the traceback",
    ]
    loud = invoke(["--debug", "plugin", "run", "broken"], env)
    assert "Traceback (most recent call last)" in loud.stderr and SECRET not in loud.stderr


def test_unknown_plugin_suggests_the_close_one(leaky):
    result = invoke(["plugin", "describe", "leaki"], {})
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "Error: no plugin named 'leaki' (did you mean leaky?)"


def test_list_and_describe(leaky):
    listing = invoke(["plugin", "list"], {})
    rows = [line.split(None, 1) for line in listing.stdout.splitlines()]
    assert ["leaky", "A test plugin that tries to print its secret."] in rows
    assert ["build-push", BUILD_PUSH.summary] in rows
    table = invoke(["plugin", "describe", "leaky"], {}).stdout.splitlines()
    assert table[2].split() == ["SETTING", "TYPE", "DEFAULT", "DESCRIPTION"]
    assert table[3].split() == ["password", "string,", "secret", "required", "A", "secret."]
    assert table[5].split() == ["timeout", "duration", "1m"]
    markdown = invoke(["plugin", "describe", "leaky", "--format", "markdown"], {}).stdout
    assert "| `tags` | list | latest |  |" in markdown
