"""`drone_kit init`: write the commented example `platform.yaml` to start a platform from."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from drone_kit.errors import DroneKitError
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.config_example import example_yaml


@click.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="platform.yaml")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init_command(path: Path, force: bool) -> None:
    """Write an example platform.yaml to PATH (default ./platform.yaml): every key with its
    default (the seed platform's addresses) and what it is for, ready to edit."""
    quoted = shlex.quote(str(path))
    try:
        # "x" refuses an existing file in the same call that creates it: nothing is overwritten by a race
        with path.open("w" if force else "x") as file:
            file.write(example_yaml())
    except FileExistsError:
        raise DroneKitError(f"{path} already exists; nothing was written",
                            hint=f"edit it, or replace it with the example: drone_kit init {quoted} --force") from None
    except OSError as e:
        raise DroneKitError(f"cannot write {path}: {e.strerror}",
                            hint="give a path in a folder you can write to") from e
    defaults = PlatformConfig()
    click.echo(f"Wrote {path}: the example platform (server node {defaults.server.address}, "
               f"MetalLB pool {defaults.metallb.pool}, registry {defaults.registry_host}).")
    click.echo(f"Next: change its addresses to your LAN's, then run: drone_kit bootstrap --config {quoted}")
