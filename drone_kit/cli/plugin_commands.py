"""`drone_kit plugin …` (list, describe, run, readme), and a `drone_kit <plugin>` command for each
plugin, made from its settings, for use by hand.

`drone_kit build-push --repo reg:5000/app --tag v1 --tag latest --dry-run` runs exactly what
the Drone step runs: every option becomes the setting of the same name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from drone_kit.errors import DroneKitError
from drone_kit.plugins.catalog import PLUGINS, get_plugin
from drone_kit.step.docs import settings_markdown, settings_table, update_readme
from drone_kit.step.plugin import Plugin, run_plugin
from drone_kit.step.settings import BOOL, MAP, Setting, encode_setting


@click.group()
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
@click.option("--format", "output_format", type=click.Choice(["text", "markdown"]), default="text",
              show_default=True)
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
        raise DroneKitError("out of date: " + ", ".join(stale),
                            hint="run `drone_kit plugin readme` and commit the result")


def singular(word: str) -> str | None:
    """Pure: the singular of an English plural (tags → tag, queries → query), or None when the word
    is no plural or its singular is not sure (dns, status, aliases): a wrong one reads worse than none."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return None
    stem = word[:-1]
    if len(stem) < 3 or not set(stem) & set("aeiouy") or stem.endswith(("se", "xe", "che", "she")):
        return None
    return stem


def option_names(setting: Setting) -> tuple[list[str], str | None]:
    """Pure: a setting's long options as a person writes them, and a bool's opposite switch.

    `no_cache` is --no-cache / --cache (never --no-no-cache); a repeatable list also takes its
    singular (--tag v1 --tag v2, --build-arg A=1), but `dns` stays --dns.
    """
    flag = "--" + setting.name.replace("_", "-")
    if setting.type is BOOL:
        opposite = "--" + flag.removeprefix("--no-") if flag.startswith("--no-") else "--no-" + flag[2:]
        return [flag], opposite
    names = [flag]
    last = flag.rpartition("-")[2]
    one = singular(last) if setting.type.repeatable else None
    if one:
        names.append(flag[: -len(last)] + one)
    return names, None


def _option(setting: Setting) -> click.Option:
    names, opposite = option_names(setting)
    secret_note = f" [secret: prefer the PLUGIN_{setting.name.upper()} variable]" if setting.secret else ""
    help_text = setting.help + secret_note
    if setting.type is BOOL:
        return click.Option([f"{names[0]}/{opposite}"], default=None, help=help_text)
    if setting.type.repeatable:
        return click.Option(names, multiple=True, metavar="KEY=VALUE" if setting.type is MAP else "VALUE",
                            help=help_text + " Repeatable.")
    return click.Option(names, metavar=setting.type.name.upper(), help=help_text)


def _raw(setting: Setting, value: Any) -> str | None:
    """The option's value in the form Drone would send it, or None when not given."""
    if value is None or value == ():
        return None
    if setting.type.repeatable:
        return json.dumps(list(value))  # a JSON array keeps commas inside values
    return encode_setting(value)


def plugin_command(plugin: Plugin) -> click.Command:
    def callback(**values: Any) -> None:
        ctx = click.get_current_context()
        overrides = {}
        for setting in plugin.settings:
            raw = _raw(setting, values[setting.name])
            if raw is not None:
                overrides[setting.name] = raw
        debug = bool(ctx.find_root().params.get("debug"))
        ctx.exit(run_plugin(plugin, os.environ, overrides, debug=debug))

    params: list[click.Parameter] = [_option(s) for s in plugin.settings]
    for param, setting in zip(params, plugin.settings, strict=True):
        param.name = setting.name
    return click.Command(plugin.name, callback=callback, params=params,
                         help=f"{plugin.summary}\n\nRuns the {plugin.name} plugin with these settings; "
                              f"`drone_kit plugin describe {plugin.name}` explains each.")


def add_plugin_commands(group: click.Group) -> None:
    """A `drone_kit <plugin>` command for every plugin."""
    for definition in PLUGINS.values():
        group.add_command(plugin_command(definition))
