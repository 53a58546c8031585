"""`drone_kit shim serve` refuses a bad setting before it serves or writes anything: one `Error:`
line naming the setting and what it got, a hint naming the option that sets it (an option that
exists), exit 1, no traceback, no secret."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from drone_kit.cli import cli
from drone_kit.cli.shim_commands import serve

HOOK_SECRET = "hook-s3cret-value"
TOKEN = "drone-t0ken-value"


def run_serve(tmp_path, *args: str):
    base = ["shim", "serve", "--drone-url", "http://127.0.0.1:9", "--hook-secret", HOOK_SECRET,
            "--outbox", str(tmp_path / "outbox.sqlite")]
    return CliRunner().invoke(cli, [*base, *args])


def refusal(result) -> tuple[str, str]:
    """(the error line, the hint line) of a refused command, checked for what every refusal must be."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and HOOK_SECRET not in result.output and TOKEN not in result.output
    error, hint = result.stderr.strip().splitlines()
    assert error.startswith("Error: ") and hint.startswith("Hint: ")
    return error, hint


def options_of_serve() -> set[str]:
    return {name for param in serve.params for name in param.opts}


@pytest.mark.parametrize("listen", ["127.0.0.1:70000", "127.0.0.1:0", "127.0.0.1:http", "127.0.0.1"])
def test_a_listen_address_without_a_usable_port_is_refused(tmp_path, listen):
    error, hint = refusal(run_serve(tmp_path, "--listen", listen))
    assert error == f"Error: listen: expected HOST:PORT with a port from 1 to 65535, got {listen!r}"
    assert "--listen 0.0.0.0:8080" in hint
    assert not (tmp_path / "outbox.sqlite").exists()


def test_auto_activate_without_a_drone_token_is_refused(tmp_path):
    error, hint = refusal(run_serve(tmp_path, "--auto-activate"))
    assert error.startswith("Error: auto_activate:") and "drone_token is not set" in error
    assert "--drone-token" in hint and "DRONE_KIT_SHIM_DRONE_TOKEN" in hint
    assert not (tmp_path / "outbox.sqlite").exists()


def test_an_outbox_that_cannot_be_made_is_refused_naming_the_setting(tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    outbox = tmp_path / "a-file" / "outbox.sqlite"
    error, hint = refusal(run_serve(tmp_path, "--drone-token", TOKEN, "--outbox", str(outbox)))
    assert error.startswith(f"Error: outbox: cannot open {outbox}: ") and "[Errno " in error  # the OS says why
    assert "--outbox" in hint and "DRONE_KIT_SHIM_OUTBOX" in hint


@pytest.mark.parametrize("option, value, key", [("--retry-base", "0s", "retry_base"),
                                                ("--retry-max", "0s", "retry_max"),
                                                ("--retry-age", "0s", "retry_age"),
                                                ("--retention", "0s", "retention")])
def test_a_setting_at_zero_is_refused_with_a_hint_naming_an_option_that_exists(tmp_path, option, value, key):
    error, hint = refusal(run_serve(tmp_path, option, value))
    assert error == f"Error: {key}: must be above 0, got 0.0"
    assert option in hint and option in options_of_serve()


def test_every_setting_named_in_a_hint_is_an_option_of_serve():
    from drone_kit.shim.config import ShimConfig

    for key in ShimConfig.__dataclass_fields__:
        if key not in ("outbox",):
            assert f"--{key.replace('_', '-')}" in options_of_serve(), key
