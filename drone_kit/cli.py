"""The `drone_kit` command: parses input, calls the library, turns expected errors into one line."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click

from drone_kit import __version__
from drone_kit.catalog import PLUGINS, get_plugin
from drone_kit.commands import plugin_command
from drone_kit.docs import settings_markdown, settings_table, update_readme
from drone_kit.drone_yaml import read_drone_yml
from drone_kit.exec_cmd import run_exec
from drone_kit.errors import DroneKitError, error_lines
from drone_kit.lint import lint, secrets_used
from drone_kit.plugin import run_plugin
from drone_kit.shim_cli import shim


class Root(click.Group):
    """Shows DroneKitError as `Error: …` plus a hint; a traceback only with --debug."""

    def invoke(self, ctx: click.Context):
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
    registry, roll them out with a watch that fails fast and rolls back, and verify them.

    Each plugin runs as a Drone step (settings from PLUGIN_* variables) or by hand with
    `drone_kit plugin run NAME --setting key=value`."""
    ctx.obj = {"debug": debug}


@cli.group()
def plugin() -> None:
    """List, describe and run drone_kit's Drone plugins."""


@plugin.command("list")
def plugin_list() -> None:
    """List the plugins with a one-line summary each."""
    width = max((len(name) for name in PLUGINS), default=0)
    for name, definition in sorted(PLUGINS.items()):
        click.echo(f"{name.ljust(width)}  {definition.summary}")


@plugin.command("describe")
@click.argument("name")
@click.option("--format", "output_format", type=click.Choice(["text", "markdown"]), default="text", show_default=True)
def plugin_describe(name: str, output_format: str) -> None:
    """Show every setting of plugin NAME: type, default and what it does."""
    definition = get_plugin(name)
    if output_format == "markdown":
        click.echo(settings_markdown(definition))
    else:
        click.echo(f"{definition.name}: {definition.summary}\n")
        click.echo(settings_table(definition), nl=False)


@plugin.command("run", context_settings={"ignore_unknown_options": False})
@click.argument("name")
@click.option("--setting", "-s", "pairs", multiple=True, metavar="KEY=VALUE",
              help="A setting as in .drone.yml `settings:` (repeatable); overrides PLUGIN_* variables.")
@click.pass_context
def plugin_run(ctx: click.Context, name: str, pairs: tuple[str, ...]) -> None:
    """Run plugin NAME as a Drone step would.

    Settings come from PLUGIN_* environment variables (what Drone sets) and from --setting;
    the build context from DRONE_* variables. Lists take a,b,c or a JSON array; maps take JSON."""
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise DroneKitError(f"--setting {pair!r} is not KEY=VALUE", hint="e.g. --setting repo=registry:5000/app")
        overrides[key.strip()] = value
    code = run_plugin(get_plugin(name), os.environ, overrides, debug=ctx.obj["debug"])
    ctx.exit(code)


@plugin.command("readme")
@click.argument("plugins_dir", type=click.Path(file_okay=False, path_type=Path), default="plugins")
@click.option("--check", is_flag=True, help="Only check: exit 1 if a README's settings section is out of date.")
def plugin_readme(plugins_dir: Path, check: bool) -> None:
    """Regenerate the settings section of PLUGINS_DIR/<name>/README.md for every plugin."""
    stale = []
    for name, definition in sorted(PLUGINS.items()):
        path = plugins_dir / name / "README.md"
        text = path.read_text() if path.exists() else f"# {name}\n\n{definition.summary}\n"
        updated = update_readme(text, definition)
        if updated != text:
            stale.append(str(path))
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(updated)
                click.echo(f"updated {path}", err=True)
    if check and stale:
        raise DroneKitError("out of date: " + ", ".join(stale), hint="run `drone_kit plugin readme` and commit the result")


cli.add_command(shim)

for _definition in PLUGINS.values():
    cli.add_command(plugin_command(_definition))


@cli.command("lint")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), default=".drone.yml")
@click.option("--secret", "secrets", multiple=True, metavar="NAME",
              help="A secret the repository has in Drone (repeatable); then every from_secret must be one of them.")
def lint_command(file: Path, secrets: tuple[str, ...]) -> None:
    """Check a .drone.yml for what Drone silently ignores: unknown keys, misspelled drone_kit
    plugin settings, bad setting values, depends_on typos, `paths` conditions, missing secrets."""
    documents = read_drone_yml(file)
    problems = lint(documents, PLUGINS, set(secrets) if secrets else None)
    for problem in problems:
        click.echo(f"{file}:{problem.line}: {problem.severity}: {problem.message}", err=True)
    needed = sorted(set().union(*(secrets_used(d.data) for d in documents))) if documents else []
    if needed and not secrets:
        click.echo(f"{file}: needs the secrets {', '.join(needed)} (check them with --secret NAME)", err=True)
    errors = sum(1 for p in problems if p.severity == "error")
    if errors:
        raise DroneKitError(f"{file}: {errors} error{'s' if errors != 1 else ''}", hint="each is listed above")
    click.echo(f"{file}: ok" + (f" ({len(problems)} warnings)" if problems else ""), err=True)


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise DroneKitError(f"{option} {value!r} is not NAME=VALUE", hint=f"e.g. {option} registry_password=…")
        pairs[key] = text
    return pairs


@cli.command("exec")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), default=".drone.yml")
@click.option("--pipeline", "pipeline_name", help="Which pipeline of the file (default: the first).")
@click.option("--secret", "secret_pairs", multiple=True, metavar="NAME=VALUE", help="A secret for from_secret (repeatable).")
@click.option("--secrets-file", type=click.Path(dir_okay=False, path_type=Path), help="Secrets as NAME=VALUE lines.")
@click.option("--env", "env_pairs", multiple=True, metavar="NAME=VALUE",
              help="Set or override a DRONE_* variable (e.g. DRONE_BUILD_EVENT=tag) (repeatable).")
@click.option("--trusted", is_flag=True, help="Allow privileged steps and host volumes, as a trusted repository.")
@click.option("--network", type=click.Choice(["bridge", "host"]), default="bridge", show_default=True,
              help="host: steps reach services on this machine's loopback (a local registry or API).")
def exec_command(file: Path, pipeline_name: str | None, secret_pairs, secrets_file, env_pairs, trusted: bool,
                 network: str) -> None:
    """Run a pipeline of FILE (docker or kubernetes type) on the Docker engine at DOCKER_HOST,
    the way Drone's runner would: workspace at /drone/src with this checkout, PLUGIN_* from
    settings, DRONE_* from git, services by name, depends_on, when and trigger conditions."""
    import docker

    secrets = _pairs(secret_pairs, "--secret")
    if secrets_file:
        secrets.update(_pairs(tuple(line for line in secrets_file.read_text().splitlines()
                                    if line.strip() and not line.startswith("#")), "--secrets-file"))
    code = run_exec(file, pipeline_name, secrets, _pairs(env_pairs, "--env"), trusted, network == "host",
                    docker.from_env(), lambda line: click.echo(line, err=True))
    raise SystemExit(code)


def main() -> None:
    cli(prog_name="drone_kit")


if __name__ == "__main__":
    sys.exit(main())
