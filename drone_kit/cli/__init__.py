"""The `drone_kit` command: click commands only, one module per command group. They parse input
and call the library; the root group is the one error boundary, turning expected errors into
`Error: …` plus a hint, and it configures logging.

The only package that imports click and uvicorn; it may import every other part of drone_kit,
and passes to each feature what it needs from another (lint gets the plugins' declarations).
"""

from __future__ import annotations

import traceback
from typing import Any

import click

from drone_kit import __version__
from drone_kit.cli.demo_command import demo_command
from drone_kit.cli.images_command import images
from drone_kit.cli.logs import configure_logging
from drone_kit.cli.pipeline_commands import exec_command, lint_command
from drone_kit.cli.platform_commands import bootstrap_command, doctor_command, render_command, status_command
from drone_kit.cli.platform_init import init_command
from drone_kit.cli.plugin_commands import add_plugin_commands, plugin
from drone_kit.cli.shim_commands import shim
from drone_kit.cli.wire_command import wire
from drone_kit.errors import DroneKitError, error_lines


class Root(click.Group):
    """Shows DroneKitError as `Error: …` plus a hint; a traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DroneKitError as e:
            if ctx.params.get("debug"):
                traceback.print_exc()
            click.echo("\n".join(error_lines(e)), err=True)
            ctx.exit(e.exit_code)


@click.group(cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="drone_kit")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Drone pipeline steps for a home-lab k3s platform: build and push images to a plain-HTTP
    registry, roll them out with a watch that fails fast and rolls back, and verify them; and
    the platform itself, installed on k3s with one command (`init`, then `bootstrap`).

    Each plugin runs as a Drone step (settings from PLUGIN_* variables) or by hand with
    `drone_kit plugin run NAME --setting key=value`."""
    ctx.obj = {"debug": debug}
    configure_logging(debug)


cli.add_command(plugin)
add_plugin_commands(cli)
cli.add_command(shim)
cli.add_command(lint_command)
cli.add_command(exec_command)
for command in (init_command, bootstrap_command, render_command, status_command, doctor_command, images, wire,
                demo_command):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="drone_kit")


if __name__ == "__main__":
    main()
