"""`drone_kit bootstrap`, `render`, `status` and `doctor`: the platform on k3s, from platform.yaml.
Each command reads the configuration first (every problem at once, before anything is touched),
then calls the platform library."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from drone_kit.cli.images_command import push
from drone_kit.cli.wire_common import drone_url_option, gitea_url_option, wire_summary, wire_urls
from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.errors import DroneKitError
from drone_kit.platform import catalog, footprint, guide, registries_file, wire, wire_phase
from drone_kit.platform.bootstrap import Bootstrap, PreflightFailed, stop_on, uncached_manifests, upstream_loader
from drone_kit.platform.changes import change_lines
from drone_kit.platform.compatibility import compatibility
from drone_kit.platform.config import PlatformConfig
from drone_kit.platform.config_file import read_config
from drone_kit.platform.doctor import doctor
from drone_kit.platform.findings import FAILED, OK, finding_lines, problems, worst
from drone_kit.platform.install import Outcome, Planned, Report
from drone_kit.platform.preflight_run import open_cluster, preflight
from drone_kit.platform.preview import preview
from drone_kit.platform.progress import progress_for
from drone_kit.platform.status import component_status, status_lines

log = logging.getLogger("drone_kit.platform")
config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
    help="platform.yaml. Default: ./platform.yaml if there is one, else the seed platform's defaults "
         "(server 192.168.1.70, pool 192.168.1.200-192.168.1.210); `drone_kit init` writes one.")
kubeconfig_option = click.option(
    "--kubeconfig", metavar="FILE", help="The cluster's kubeconfig. Default: /etc/rancher/k3s/k3s.yaml, "
                                         "then KUBECONFIG, then ~/.kube/config.")
only_option = click.option("--only", multiple=True, metavar="COMPONENT",
                           help=f"Only this component (repeatable): {', '.join(catalog.names())}.")


def load_config(path: Path | None) -> PlatformConfig:
    default = Path("platform.yaml")
    return read_config(path if path is not None else default if default.is_file() else None)


def connect(kubeconfig: str | None) -> ClusterObjects:
    cluster, finding = open_cluster(kubeconfig, os.environ, log.info)
    if cluster is None:
        raise PreflightFailed(finding.message, details=list(finding.fix),
                              hint="pass --kubeconfig, or run drone_kit on the k3s server node")
    return cluster


def rendered(config: PlatformConfig, only: tuple[str, ...], offline: bool = False) -> list[Planned]:
    return catalog.plan(config, catalog.choose(only), upstream_loader(offline=offline))


def yaml_stream(plan: list[Planned]) -> str:
    return "".join(f"---\n# {planned.component.name}\n" + yaml.safe_dump(obj, sort_keys=False)
                   for planned in plan for obj in planned.objects)


@click.command("bootstrap")
@config_option
@kubeconfig_option
@only_option
@click.option("--dry-run", is_flag=True, help="Print every object it would apply, as YAML; contact nothing.")
@click.option("--diff", is_flag=True, help="Show what a run would create or change, object by object and field by "
                                           "field (a server-side dry run); apply nothing.")
@click.option("--force-conflicts", is_flag=True, help="Take back fields changed by hand (kubectl edit) instead of "
                                                      "stopping at them. MetalLB's own objects are never forced.")
@click.option("--write-registries-yaml", is_flag=True,
              help=f"Run on a k3s node: write {registries_file.REGISTRIES_PATH} so it pulls from the platform "
                   "registry over HTTP, then exit (restart k3s or k3s-agent afterwards).")
@click.option("--no-wire", is_flag=True,
              help="Leave Gitea and Drone unwired (no OAuth2 application, no first login); run `drone_kit wire` "
                   f"later. An --only without {', '.join(wire_phase.WIRED_COMPONENTS)} does not wire either.")
@gitea_url_option
@drone_url_option
@click.pass_context
def bootstrap_command(ctx: click.Context, config_path: Path | None, kubeconfig: str | None, only: tuple[str, ...],
                      dry_run: bool, diff: bool, force_conflicts: bool, write_registries_yaml: bool, no_wire: bool,
                      gitea_url: str | None, drone_url: str | None) -> None:
    """Install the platform on k3s: MetalLB, the registry, Gitea, Drone and its runner,
    Prometheus, Grafana, and drone_kit's shim; then, once all of it is ready, wire Gitea to
    Drone as `drone_kit wire` does. Safe to run again: it changes only what differs, keeps
    every generated secret, and stops at anything changed by hand."""
    config = load_config(config_path)
    unwired = wire_phase.skipped_because(only, no_wire, dry_run, diff)
    if write_registries_yaml:
        changed = registries_file.write_registries_yaml(registries_file.REGISTRIES_PATH, config.registry_host)
        result = "written: now restart k3s (or k3s-agent)" if changed else "already right"
        click.echo(f"{registries_file.REGISTRIES_PATH}: {result}")
        return
    if dry_run:
        _show_dry_run(config, only)
        click.echo(wire_phase.skipped_line(unwired), err=True)
        return
    cluster = connect(kubeconfig)
    plan = _checked_plan(cluster, config, only, kubeconfig)
    if diff:
        click.echo("\n".join(change_lines(preview(cluster, plan))))
        click.echo(wire_phase.skipped_line(unwired), err=True)
        return
    progress = progress_for(sys.stderr, [planned.component.name for planned in plan] + ([] if unwired else [wire.NAME]))
    wired: list[str] = []
    wiring_failed: DroneKitError | None = None  # reported after the install's summary
    try:
        outcome = Bootstrap(cluster, config, progress, force_conflicts, provide_images=lambda missing: ctx.invoke(
            push, config=config_path, registry=None, source=None, platforms=(), base=None, pip_options=None,
            only=())).run(plan)
        if not unwired:
            wired, wiring_failed = _wire(cluster, config, wire_urls(config, gitea_url, drone_url), progress)
    finally:
        progress.close()
    _show_outcome(cluster, config, plan, outcome)
    if unwired:
        click.echo(wire_phase.skipped_line(unwired), err=True)
    elif wiring_failed is not None:
        raise wire_phase.failed_after_install(wiring_failed) from wiring_failed
    else:
        click.echo(wire_summary(wired))


def _show_dry_run(config: PlatformConfig, only: tuple[str, ...]) -> None:
    plan = rendered(config, only, offline=True)
    click.echo(yaml_stream(plan), nl=False)
    for url in uncached_manifests(config, [planned.component for planned in plan]):
        click.echo(f"--dry-run: not shown: the objects of {url}, not downloaded yet", err=True)
    click.echo(f"--dry-run: {sum(len(p.objects) for p in plan)} objects in {len(plan)} components; "
               "nothing was contacted", err=True)


def _checked_plan(cluster: ClusterObjects, config: PlatformConfig, only: tuple[str, ...],
                  kubeconfig: str | None) -> list[Planned]:
    """What to install, once the pre-flight checks pass (their warnings shown)."""
    checks = preflight(cluster, config, kubeconfig or "")
    plan = rendered(config, only)
    if any(finding.check == "api" and finding.status == OK for finding in checks):
        checks.append(compatibility(cluster.server_version(), [obj for p in plan for obj in p.objects]))
    warnings = [finding for finding in problems(checks) if finding.status != FAILED]
    click.echo("\n".join(finding_lines(warnings)) or "pre-flight: all checks passed", err=True)
    stop_on(checks, "pre-flight")
    return plan


def _wire(cluster: ClusterObjects, config: PlatformConfig, urls: tuple[str, str],
          progress: Report) -> tuple[list[str], DroneKitError | None]:
    """The wiring's changes, or its error: shown only after the install's own summary."""
    try:
        return wire.Wiring(cluster, config, *urls, progress, timeout=config.timeouts.ready).run(), None
    except DroneKitError as e:
        progress(wire.NAME, "failed", e.message)
        return [], e


def _show_outcome(cluster: ClusterObjects, config: PlatformConfig, plan: list[Planned], outcome: Outcome) -> None:
    click.echo(f"bootstrap: {len(outcome.changed)} of {outcome.applied} objects changed; "
               f"{len(outcome.secrets_created)} secrets generated")
    click.echo("\n".join(status_lines([component_status(cluster, p, p.component.url(config)) for p in plan])))
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo("\n".join(guide.join_agent_lines(config)))


@click.command("render")
@config_option
@only_option
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write one file per component (NN-name.yaml) into DIR instead of printing, for GitOps.")
@click.option("--footprint", "show_footprint", is_flag=True,
              help="Print each component's CPU and memory requests and limits, and the totals, instead.")
def render_command(config_path: Path | None, only: tuple[str, ...], output: Path | None, show_footprint: bool) -> None:
    """Every object bootstrap applies, as YAML (MetalLB's published manifest downloaded once,
    checked against its pinned sha256, then read from the cache)."""
    plan = rendered(load_config(config_path), only)
    if show_footprint:
        click.echo("\n".join(footprint.table([(p.component.name, footprint.of_objects(p.objects)) for p in plan])))
        return
    if output is None:
        click.echo(yaml_stream(plan), nl=False)
        return
    output.mkdir(parents=True, exist_ok=True)
    for index, planned in enumerate(plan, start=1):
        path = output / f"{index:02d}-{planned.component.name}.yaml"
        path.write_text(yaml_stream([planned]))
        click.echo(f"wrote {path} ({len(planned.objects)} objects)")


@click.command("status")
@config_option
@kubeconfig_option
@only_option
def status_command(config_path: Path | None, kubeconfig: str | None, only: tuple[str, ...]) -> None:
    """Each component: ready or not and why, its URL, and the Secrets holding its generated
    passwords (names only). Exits 1 when any component is not ready."""
    config = load_config(config_path)
    plan = rendered(config, only, offline=True)
    cluster = connect(kubeconfig)
    statuses = [component_status(cluster, p, p.component.url(config)) for p in plan]
    click.echo("\n".join(status_lines(statuses)))
    if not all(status.ready for status in statuses):
        sys.exit(1)


@click.command("doctor")
@config_option
@kubeconfig_option
@gitea_url_option
def doctor_command(config_path: Path | None, kubeconfig: str | None, gitea_url: str | None) -> None:
    """Look for the ten ways a home-lab platform like this one usually breaks, and, once Gitea is
    wired to Drone, for hooks that fail (from the shim's record; nothing is sent): say how to fix
    each one found. Exits 1 when something failed."""
    config = load_config(config_path)
    cluster = connect(kubeconfig)
    secrets = [spec for component in catalog.COMPONENTS for spec in component.secrets(config)]
    found: Any = doctor(cluster, config, secrets, gitea_url=gitea_url or config.gitea.root_url())
    click.echo("\n".join(finding_lines(found)))
    if worst(found) == FAILED:
        sys.exit(1)
