"""Log records of the library, as the CLI shows them: plain lines on stderr, masked like
everything else a plugin prints."""

from __future__ import annotations

import logging

import pytest

from drone_kit.cli.logs import configure_logging
from drone_kit.step.plugin import Plugin, run_plugin
from drone_kit.step.settings import Setting

SECRET = "t0ken-in-a-log-line"
log = logging.getLogger("drone_kit.tests.logs")


def logs_its_secret(run):
    log.warning("retrying with %s", run.settings["token"])
    log.debug("a detail only --debug shows")


LOGGER = Plugin("logger", "Logs its secret.", (Setting("token", secret=True, required=True),), logs_its_secret)


@pytest.fixture
def restored_logging():
    logger = logging.getLogger("drone_kit")
    saved = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


def test_a_log_line_is_plain_and_its_secret_masked(restored_logging, capsys, tmp_path):
    configure_logging(debug=False)
    assert run_plugin(LOGGER, {"PLUGIN_TOKEN": SECRET}, cwd=tmp_path) == 0
    err = capsys.readouterr().err
    assert "retrying with ******\n" in err.splitlines(keepends=True)
    assert SECRET not in err and "only --debug" not in err


def test_debug_shows_levels_names_and_debug_lines(restored_logging, capsys, tmp_path):
    configure_logging(debug=True)
    assert run_plugin(LOGGER, {"PLUGIN_TOKEN": SECRET}, cwd=tmp_path) == 0
    err = capsys.readouterr().err
    assert "WARNING drone_kit.tests.logs: retrying with ******" in err
    assert "DEBUG drone_kit.tests.logs: a detail only --debug shows" in err
    assert SECRET not in err
