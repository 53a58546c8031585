"""What a plugin is, and how one runs: settings in, secrets masked, one error line out.

A plugin declares its settings once; from that declaration come the parsing of PLUGIN_*
variables, the `drone_kit plugin describe` table and the settings section of its README.
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drone_kit.errors import DroneKitError, error_lines
from drone_kit.step.context import BuildContext, read_context
from drone_kit.step.masking import Masker, MaskingStream
from drone_kit.step.progress import StatusLines, TextOut
from drone_kit.step.settings import Setting, parse_settings, read_raw

UNEXPECTED_ERROR_EXIT = 70


@dataclass(frozen=True)
class Plugin:
    name: str
    summary: str
    settings: tuple[Setting, ...]
    run: Callable[[PluginRun], None]  # raises DroneKitError when the step must fail

    def setting(self, name: str) -> Setting:
        return next(s for s in self.settings if s.name == name)


@dataclass
class PluginRun:
    """What a plugin's `run` gets: typed settings, the build context and masked output streams."""

    plugin: Plugin
    settings: dict[str, Any]
    context: BuildContext
    stdout: TextOut  # machine output: cards, results meant for other programs
    stderr: TextOut  # the human log
    environ: Mapping[str, str] = field(default_factory=dict)
    masker: Masker = field(default_factory=Masker)
    lines: StatusLines | None = None  # None: StatusLines on stderr

    def __post_init__(self) -> None:
        self.lines = self._lines = self.lines or StatusLines(self.stderr)

    def say(self, message: str) -> None:
        """One line in the build log."""
        self._lines.event(message)

    def status(self, key: str, message: str) -> None:
        """Where something long stands: a line when it changes; live on a terminal."""
        self._lines.status(key, message)


@contextlib.contextmanager
def masked_std_streams(masker: Masker) -> Iterator[tuple[MaskingStream, MaskingStream]]:
    """Route sys.stdout and sys.stderr through the masker, so nothing bypasses it."""
    real_out, real_err = sys.stdout, sys.stderr
    out, err = MaskingStream(real_out, masker), MaskingStream(real_err, masker)
    sys.stdout, sys.stderr = out, err
    try:
        yield out, err
    finally:
        sys.stdout, sys.stderr = real_out, real_err
        out.close_pending()
        err.close_pending()


def run_plugin(
    plugin: Plugin,
    environ: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    debug: bool = False,
) -> int:
    """Run a plugin as a Drone step would; its exit status. Never raises for expected errors."""
    masker = Masker()
    with masked_std_streams(masker) as (out, err):
        try:
            context = read_context(environ, cwd or Path.cwd())
            raw = read_raw(list(plugin.settings), environ, overrides or {})
            for setting in plugin.settings:
                if setting.secret and setting.name in raw.values:
                    masker.add(raw.values[setting.name])
                    for inner in setting.secrets_within(raw.values[setting.name]) if setting.secrets_within else []:
                        masker.add(inner)
            for warning in raw.warnings:
                err.write(f"Warning: {warning}\n")
            settings = parse_settings(list(plugin.settings), raw.values, context.workspace)
            lines = StatusLines(err)
            run = PluginRun(plugin, settings, context, out, err, environ, masker, lines)
            try:
                plugin.run(run)
            finally:
                lines.finish()
            return 0
        except DroneKitError as e:
            err.write("\n".join(error_lines(e)) + "\n")
            return e.exit_code
        except Exception as e:  # a bug: say so plainly, masked like everything else
            if debug:
                err.write(traceback.format_exc())
            err.write(f"Error: unexpected {type(e).__name__}: {e}\nHint: re-run with --debug for the traceback\n")
            return UNEXPECTED_ERROR_EXIT
