"""A `drone_kit <plugin>` command for each plugin, made from its settings, for use by hand.

`drone_kit build-push --repo reg:5000/app --tag v1 --tag latest --dry-run` runs exactly what
the Drone step runs: every option becomes the setting of the same name.
"""

from __future__ import annotations

import json
import os

import click

from drone_kit.plugin import Plugin, run_plugin
from drone_kit.settings import BOOL, LIST, MAP, Setting


def _option(setting: Setting) -> click.Option:
    flag = "--" + setting.name.replace("_", "-")
    names = [flag]
    if setting.type in (LIST, MAP) and setting.name.endswith("s"):
        names.append(flag[:-1])  # --tag v1 --tag v2, --build-arg A=1, --label k=v
    help_text = setting.help + (" [secret: prefer the PLUGIN_%s variable]" % setting.name.upper() if setting.secret else "")
    if setting.type is BOOL:
        return click.Option([f"{flag}/--no-{flag[2:]}"], default=None, help=help_text)
    if setting.type in (LIST, MAP):
        return click.Option(names, multiple=True, metavar="KEY=VALUE" if setting.type is MAP else "VALUE",
                            help=help_text + " Repeatable.")
    return click.Option(names, metavar=setting.type.name.upper(), help=help_text)


def _raw(setting: Setting, value) -> str | None:
    """The option's value in the form Drone would send it, or None when not given."""
    if value is None or value == ():
        return None
    if setting.type is BOOL:
        return "true" if value else "false"
    if setting.type in (LIST, MAP):
        return json.dumps(list(value))  # a JSON array keeps commas inside values
    return value


def plugin_command(plugin: Plugin) -> click.Command:
    def callback(**values) -> None:
        ctx = click.get_current_context()
        overrides = {}
        for setting in plugin.settings:
            raw = _raw(setting, values[setting.name])
            if raw is not None:
                overrides[setting.name] = raw
        debug = bool(ctx.find_root().params.get("debug"))
        ctx.exit(run_plugin(plugin, os.environ, overrides, debug=debug))

    params = [_option(s) for s in plugin.settings]
    for param, setting in zip(params, plugin.settings):
        param.name = setting.name
    return click.Command(plugin.name, callback=callback, params=params,
                         help=f"{plugin.summary}\n\nRuns the {plugin.name} plugin with these settings; "
                              f"`drone_kit plugin describe {plugin.name}` explains each.")
