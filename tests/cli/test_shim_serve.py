"""`drone_kit shim serve` (and `replay`) refuse a bad setting before they serve or write anything:
one `Error:` line naming the setting and what it got, a hint naming the option that sets it (an
option that exists), exit 1, no traceback, no secret. What they accept reaches the served app."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from drone_kit.cli import cli
from drone_kit.cli.shim_commands import serve
from drone_kit.errors import DroneKitError
from drone_kit.shim.config import ShimConfig

HOOK_SECRET = "hook-s3cret-value"
TOKEN = "drone-t0ken-value"


@pytest.fixture(autouse=True)
def served(monkeypatch) -> list[dict[str, Any]]:
    """What serve handed to uvicorn: without this, a setting let through would serve until killed."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    yield calls
    gc.unfreeze()  # serve froze the suite's objects, as it does the shim's


def run_serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    base = ["shim", "serve", "--drone-url", "http://127.0.0.1:9", "--hook-secret", HOOK_SECRET,
            "--outbox", str(tmp_path / "outbox.sqlite")]
    return CliRunner().invoke(cli, [*base, *args], env=env)


def refusal(result: Result) -> tuple[str, str]:
    """(the error line, the hint line) of a refused command, checked for what every refusal must be."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and HOOK_SECRET not in result.output and TOKEN not in result.output
    error, hint = result.stderr.strip().splitlines()
    assert error.startswith("Error: ") and hint.startswith("Hint: ")
    return error, hint


def options_of_serve() -> dict[str, str]:
    """Each option of serve, to its environment variable."""
    return {name: param.envvar for param in serve.params for name in param.opts if isinstance(param.envvar, str)}


@pytest.mark.parametrize("listen", ["127.0.0.1:70000", "127.0.0.1:65536", "127.0.0.1:0", "127.0.0.1:http",
                                    "127.0.0.1:²"])
def test_a_listen_address_without_a_usable_port_is_refused(tmp_path, served, listen):
    error, hint = refusal(run_serve(tmp_path, "--listen", listen))
    assert error == f"Error: --listen: expected HOST:PORT with a port from 1 to 65535, got {listen!r}"
    assert "--listen 0.0.0.0:8080" in hint and "DRONE_KIT_SHIM_LISTEN" in hint
    assert served == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("listen, host, port", [("127.0.0.1:65535", "127.0.0.1", 65535), (":1", "0.0.0.0", 1),
                                                ("8080", "0.0.0.0", 8080)])
def test_a_listen_address_with_a_port_in_range_is_served(tmp_path, served, listen, host, port):
    result = run_serve(tmp_path, "--listen", listen)
    assert result.exit_code == 0, result.output
    assert [(call["host"], call["port"]) for call in served] == [(host, port)]


def test_a_port_out_of_range_from_the_environment_is_refused(tmp_path, served):
    error, _ = refusal(run_serve(tmp_path, env={"DRONE_KIT_SHIM_LISTEN": "0.0.0.0:99999"}))
    assert error == "Error: --listen: expected HOST:PORT with a port from 1 to 65535, got '0.0.0.0:99999'"
    assert served == []


@pytest.mark.parametrize("args, env", [(["--auto-activate"], {}), ([], {"DRONE_KIT_SHIM_AUTO_ACTIVATE": "true"})])
def test_auto_activate_without_a_drone_token_is_refused_before_serving(tmp_path, served, args, env):
    error, hint = refusal(run_serve(tmp_path, *args, env=env))
    assert error.startswith("Error: auto_activate: needs drone_token, which is not set")
    assert "--drone-token" in hint and "DRONE_KIT_SHIM_DRONE_TOKEN" in hint
    assert "--auto-activate" in hint and "DRONE_KIT_SHIM_AUTO_ACTIVATE" in hint
    assert served == [] and list(tmp_path.iterdir()) == []


def test_auto_activate_with_a_drone_token_is_served(tmp_path, served):
    result = run_serve(tmp_path, "--auto-activate", "--drone-token", TOKEN)
    assert result.exit_code == 0, result.output
    assert len(served) == 1 and TOKEN not in result.output


def test_an_outbox_under_a_regular_file_is_refused_with_the_os_reason(tmp_path, served):
    (tmp_path / "a-file").write_text("not a folder")
    outbox = tmp_path / "a-file" / "deeper" / "outbox.sqlite"
    error, hint = refusal(run_serve(tmp_path, "--drone-token", TOKEN, "--outbox", str(outbox)))
    assert error == f"Error: --outbox: cannot open {outbox}: Not a directory"
    assert "--outbox" in hint and "DRONE_KIT_SHIM_OUTBOX" in hint
    assert served == [] and sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_an_outbox_that_is_a_folder_is_refused_with_the_os_reason(tmp_path, served):
    result = CliRunner().invoke(cli, ["shim", "serve", "--drone-url", "http://127.0.0.1:9", "--hook-secret",
                                      HOOK_SECRET], env={"DRONE_KIT_SHIM_OUTBOX": str(tmp_path)})
    error, hint = refusal(result)
    assert error == f"Error: --outbox: cannot open {tmp_path}: Is a directory"
    assert "DRONE_KIT_SHIM_OUTBOX" in hint
    assert served == [] and list(tmp_path.iterdir()) == []


def test_an_outbox_that_is_not_a_database_is_refused_naming_the_setting(tmp_path, served):
    outbox = tmp_path / "outbox.sqlite"
    outbox.write_bytes(b"not SQLite, and long enough for SQLite to read its header: " * 4)
    error, hint = refusal(run_serve(tmp_path))
    assert error == f"Error: --outbox: cannot open {outbox}: file is not a database"
    assert "--outbox" in hint and served == []


def test_replay_of_an_outbox_that_is_a_folder_is_refused_with_the_os_reason(tmp_path):
    error, hint = refusal(CliRunner().invoke(cli, ["shim", "replay", "--failed", "--outbox", str(tmp_path)]))
    assert error == f"Error: --outbox: cannot open {tmp_path}: Is a directory"
    assert "DRONE_KIT_SHIM_OUTBOX" in hint and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", ["retry_base", "retry_max", "retry_attempts", "retry_age", "retention",
                                 "commit_batch", "max_body", "drone_url", "grafana_url"])
def test_every_setting_hint_names_an_option_of_serve_and_its_environment_variable(key):
    with pytest.raises(DroneKitError) as refused:
        ShimConfig(**{"drone_url": "http://drone", "outbox": Path("unused"), "hook_secret": HOOK_SECRET,
                      key: "ftp://x" if key.endswith("_url") else 0})
    option = f"--{key.replace('_', '-')}"
    assert refused.value.hint == f"set {option} or {options_of_serve()[option]}"


@pytest.mark.parametrize("args, env", [(["--retry-base", "0s"], {}), ([], {"DRONE_KIT_SHIM_RETRY_BASE": "0s"})])
def test_retry_base_is_set_by_its_option_and_environment_variable(tmp_path, served, args, env):
    error, hint = refusal(run_serve(tmp_path, *args, env=env))
    assert error == "Error: retry_base: must be above 0, got 0.0"
    assert hint == "Hint: set --retry-base or DRONE_KIT_SHIM_RETRY_BASE"


@pytest.mark.parametrize("args, env", [(["--max-body", "10"], {}), ([], {"DRONE_KIT_SHIM_MAX_BODY": "10"})])
def test_max_body_set_by_its_option_or_environment_variable_limits_the_served_app(tmp_path, served, args, env):
    result = run_serve(tmp_path, *args, env=env)
    assert result.exit_code == 0, result.output
    answer = TestClient(served[0]["app"]).post("/hook", content=b"x" * 11)
    assert answer.status_code == 413 and answer.json() == {"message": "body over 10 bytes"}


def test_serving_without_a_drone_token_says_so_at_start(tmp_path, served):
    without, with_token = run_serve(tmp_path), run_serve(tmp_path, "--drone-token", TOKEN)
    assert without.exit_code == with_token.exit_code == 0, without.output + with_token.output
    assert "shim: no --drone-token:" in without.stderr and "--drone-token" not in with_token.stderr
    assert TOKEN not in with_token.output and len(served) == 2
