"""Every plugin drone_kit ships, by name."""

from __future__ import annotations

from drone_kit.errors import DroneKitError, did_you_mean
from drone_kit.plugins.build_push import BUILD_PUSH
from drone_kit.plugins.deploy import DEPLOY
from drone_kit.plugins.verify import VERIFY
from drone_kit.step.plugin import Plugin

PLUGINS: dict[str, Plugin] = {plugin.name: plugin for plugin in (BUILD_PUSH, DEPLOY, VERIFY)}


def get_plugin(name: str) -> Plugin:
    try:
        return PLUGINS[name]
    except KeyError:
        known = sorted(PLUGINS)
        raise DroneKitError(
            f"no plugin named {name!r}{did_you_mean(name, known)}",
            hint="`drone_kit plugin list` shows the plugins: " + ", ".join(known),
        ) from None
