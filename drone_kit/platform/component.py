"""What a component is: the objects it renders, the secrets it needs generated once, and what
"ready" means for it. Each component is one module under `platform.components` exposing a
`COMPONENT`; all of it is pure, computed from the `PlatformConfig`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.objects import Obj


@dataclass(frozen=True)
class GeneratedSecret:
    """A Secret created once with random values for `keys` and read back on every later run,
    never rotated: a regenerated Gitea SECRET_KEY or Drone RPC secret breaks everything."""

    namespace: str
    name: str
    keys: tuple[str, ...]
    fixed: tuple[tuple[str, str], ...] = ()  # keys whose value is known, not random (a user name)
    sizes: tuple[tuple[str, int], ...] = ()  # keys whose random value needs exactly this many characters


@dataclass(frozen=True)
class Workload:
    kind: str  # Deployment | DaemonSet
    namespace: str
    name: str


@dataclass(frozen=True)
class HttpCheck:
    """An HTTP GET through the API server's service proxy (works wherever the kubeconfig does,
    with or without kube-proxy): ready when it answers `status`."""

    namespace: str
    service: str
    port: int | str
    path: str
    status: int = 200


@dataclass(frozen=True)
class LogCheck:
    """Ready when a pod of the workload has printed `text`: for a program whose health endpoint
    answers before it has done what matters (the Drone runner, before it reaches the server)."""

    namespace: str
    workload: str  # a Deployment's name; its pods are found by its selector
    text: str


@dataclass(frozen=True)
class Component:
    name: str
    summary: str  # one line for `status` and `render --footprint`
    render: Callable[[PlatformConfig], list[Obj]]
    secrets: Callable[[PlatformConfig], list[GeneratedSecret]] = lambda config: []
    workloads: Callable[[PlatformConfig], list[Workload]] = lambda config: []
    checks: Callable[[PlatformConfig], list[HttpCheck]] = lambda config: []
    log_checks: Callable[[PlatformConfig], list[LogCheck]] = lambda config: []
    url: Callable[[PlatformConfig], str] = lambda config: ""
    depends_on: tuple[str, ...] = field(default=())
    # A component installing a published manifest (MetalLB): its objects given the manifest's,
    # which a loader downloads (pinned by sha256) or reads from its cache; `render` is the rest.
    with_upstream: Callable[[PlatformConfig, list[Obj]], list[Obj]] | None = None
