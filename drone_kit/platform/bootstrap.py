"""`drone_kit bootstrap` as a library: render the chosen components, check the cluster first,
install component after component, check that every node can pull from the registry as soon as
it serves, and make sure drone_kit's own images are there before the shim needs one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drone_kit import __version__
from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.clients.registry import RegistryClient, RegistryError, probe_scheme
from drone_kit.errors import DroneKitError
from drone_kit.images.reference import parse_reference
from drone_kit.platform import catalog, findings
from drone_kit.platform.component import Component
from drone_kit.platform.components import metallb, registry, shim
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.install import Installer, Outcome, Planned, Report
from drone_kit.platform.objects import Obj
from drone_kit.platform.pull_check import pull_check
from drone_kit.platform.upstream_manifest import cache_path, default_cache_dir, metallb_objects, parse_manifest

OWN_IMAGES = ("shim", "build-push", "deploy", "verify")  # what `drone_kit images push` pushes


class PreflightFailed(DroneKitError):
    """The cluster is not ready for the platform; nothing was applied."""


def upstream_loader(cache_dir: Path | None = None, offline: bool = False) -> catalog.UpstreamLoader:
    """Published manifests by component: downloaded once (pinned by sha256), then from the cache.
    `offline` reads the cache only, and renders nothing of a manifest not cached yet."""
    def load(config: PlatformConfig, component: Component) -> list[Obj]:
        if component is not metallb.COMPONENT:
            return []
        if offline:
            cached = cache_path(cache_dir or default_cache_dir(), config.metallb.manifest_sha256)
            return parse_manifest(cached.read_text()) if cached.is_file() else []
        return metallb_objects(config.metallb, cache_dir)
    return load


def uncached_manifests(config: PlatformConfig, components: list[Component], cache_dir: Path | None = None) -> list[str]:
    """The URLs of published manifests a dry run cannot show, not having been downloaded yet."""
    cached = cache_path(cache_dir or default_cache_dir(), config.metallb.manifest_sha256).is_file()
    return [] if cached or metallb.COMPONENT not in components else [config.metallb.manifest_url]


def stop_on(found: list[findings.Finding], what: str) -> None:
    if findings.worst(found) == findings.FAILED:
        failures = [f for f in found if f.status == findings.FAILED]
        raise PreflightFailed(f"{what}: {failures[0].message}" if len(failures) == 1 else
                              f"{what}: {len(failures)} problems", details=findings.finding_lines(failures),
                              hint="fix these, then run `drone_kit bootstrap` again; nothing was applied"
                              if what == "pre-flight" else "fix these, then run `drone_kit bootstrap` again")


def missing_images(config: PlatformConfig, names: tuple[str, ...] = OWN_IMAGES,
                   client: Callable[[str], RegistryClient] | None = None) -> list[str]:
    """drone_kit's own images the registry does not have (all of them when it cannot be asked)."""
    missing = []
    for name in names:
        reference = parse_reference(config.drone_kit_image(name, __version__))
        try:
            registry_client = (client or (lambda host: RegistryClient(host, scheme=probe_scheme(host), attempts=1,
                                                                       timeout=10)))(reference.registry)
            present = registry_client.manifest_digest(reference.repository, reference.tag or "") is not None
        except RegistryError:
            present = False
        if not present:
            missing.append(f"{reference.registry}/{reference.repository}:{reference.tag}")
    return missing


@dataclass
class Bootstrap:
    cluster: ClusterObjects
    config: PlatformConfig
    report: Report
    force_conflicts: bool = False
    provide_images: Callable[[list[str]], None] | None = None  # pushes them, or raises saying how

    def run(self, plan: list[Planned]) -> Outcome:
        installer = Installer(self.cluster, self.report, timeout=self.config.timeouts.ready,
                              webhook_timeout=self.config.metallb.webhook_timeout,
                              force_conflicts=self.force_conflicts)
        for planned in plan:
            if planned.component is shim.COMPONENT:
                self._own_images(installer.outcome)
            installer.install([planned])
            if planned.component is registry.COMPONENT:
                self.report("registry", "waiting", "for every node to pull from it")
                stop_on(pull_check(self.cluster, self.config), "registry pull")
        return installer.outcome

    def _own_images(self, outcome: Outcome) -> None:
        """The shim runs from its image in the registry, so without it the run stops here; the
        plugins' images only matter to pipelines later, so they are a warning."""
        missing = missing_images(self.config)
        push = "from a drone_kit checkout on a machine with Docker, run `drone_kit images push --config platform.yaml`"
        if missing and self.provide_images:
            try:
                self.provide_images(missing)
            except DroneKitError as e:
                if any("/shim:" in image for image in missing):
                    raise
                outcome.warnings.append(f"could not push drone_kit's images here: {e.message}")
            missing = missing_images(self.config)
        if any("/shim:" in image for image in missing):
            raise DroneKitError(f"drone_kit's images are not in the registry: {', '.join(missing)}",
                                hint=f"{push}, then `drone_kit bootstrap` again")
        if missing:
            outcome.warnings.append(f"pipelines will not find {', '.join(missing)}: {push}")
