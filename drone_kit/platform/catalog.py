"""The platform's components in install order, choosing some of them (`--only`), and rendering
the chosen ones into the plan the installer, `render`, `status` and `--diff` all work from."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from drone_kit.errors import SettingsError, did_you_mean
from drone_kit.platform.component import Component
from drone_kit.platform.components import (
    deploy_access,
    drone_runner,
    drone_server,
    gitea,
    grafana,
    metallb,
    prometheus,
    registry,
    shim,
)
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.install import Planned
from drone_kit.platform.objects import Obj

# Install order: every component after the ones it depends on.
COMPONENTS: tuple[Component, ...] = tuple(module.COMPONENT for module in (
    metallb, registry, gitea, drone_server, drone_runner, prometheus, grafana, shim, deploy_access))
UpstreamLoader = Callable[[PlatformConfig, Component], list[Obj]]


def names() -> list[str]:
    return [component.name for component in COMPONENTS]


def choose(only: Iterable[str]) -> list[Component]:
    """The components named (all when none are), in install order; an unknown name is an error."""
    wanted = list(only)
    unknown = [name for name in wanted if name not in names()]
    if unknown:
        raise SettingsError([f"--only {name}: no such component{did_you_mean(name, names())}" for name in unknown],
                            hint=f"components: {', '.join(names())}")
    return [component for component in COMPONENTS if not wanted or component.name in wanted]


def plan(config: PlatformConfig, components: list[Component], upstream: UpstreamLoader) -> list[Planned]:
    """`upstream` may give no objects (a dry run before the first download): the component's own
    objects are rendered alone then."""
    planned = []
    for component in components:
        published = upstream(config, component) if component.with_upstream else []
        objects = (component.with_upstream(config, published) if component.with_upstream and published
                   else component.render(config))
        planned.append(Planned(component, objects, component.secrets(config), component.workloads(config),
                               component.checks(config), component.log_checks(config)))
    return planned
