"""`drone_kit wire`: Gitea and Drone made to work together after bootstrap (Drone's OAuth2
application, its settings, the admin's first login), idempotent."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from drone_kit.cli.platform_commands import config_option, connect, kubeconfig_option, load_config
from drone_kit.cli.wire_common import drone_url_option, gitea_url_option, wire_summary, wire_urls
from drone_kit.platform import wire_repos
from drone_kit.platform.progress import progress_for
from drone_kit.platform.repo_plan import RepoSettings
from drone_kit.platform.wire import NAME, Wiring


@click.group("wire", invoke_without_command=True)
@config_option
@kubeconfig_option
@gitea_url_option
@drone_url_option
@click.pass_context
def wire(ctx: click.Context, config_path: Path | None, kubeconfig: str | None, gitea_url: str | None,
         drone_url: str | None) -> None:
    """Wire Gitea to Drone: an access token for drone_kit in Gitea, Drone's OAuth2 application
    (made again if its secret was lost), Drone's settings (its OAuth client, the shim as the
    target of hooks and build events, the admin's API token; Drone restarts only when they
    change), and the admin's first login to Drone through Gitea, done as a browser would.
    `drone_kit bootstrap` ends with it; alone, it is safe to run again."""
    config = load_config(config_path)
    gitea_url, drone_url = wire_urls(config, gitea_url, drone_url)
    ctx.obj = {**(ctx.obj or {}), "config": config, "kubeconfig": kubeconfig, "gitea_url": gitea_url,
               "drone_url": drone_url}
    if ctx.invoked_subcommand is not None:
        return
    progress = progress_for(sys.stderr, [NAME])
    try:
        changed = Wiring(connect(kubeconfig), config, ctx.obj["gitea_url"], ctx.obj["drone_url"], progress,
                         timeout=config.timeouts.ready).run()
    finally:
        progress.close()
    click.echo(wire_summary(changed))


@wire.command("repo")
@click.argument("slugs", nargs=-1, metavar="OWNER/NAME...")
@click.option("--all", "every", is_flag=True, help="Every repository drone_kit can see in Gitea that has a .drone.yml.")
@click.option("--trusted/--untrusted", default=None,
              help="Trust the repository in Drone (needed for build-push's privileged step), or take trust away. "
                   "Default: left as it is.")
@click.option("--timeout", type=click.IntRange(1, 24 * 60), default=60, show_default=True, metavar="MINUTES",
              help="How long a build may run before Drone kills it.")
@click.pass_context
def repo(ctx: click.Context, slugs: tuple[str, ...], every: bool, trusted: bool | None, timeout: int) -> None:
    """Activate repositories in Drone: Drone syncs them from Gitea and registers their hook
    (through the shim); their timeout and trust are set; each hook is then checked in Gitea.
    Safe to run again: a repository already wired is left as it is."""
    if not slugs and not every:
        raise click.UsageError("name the repositories to wire: drone_kit wire repo OWNER/NAME..., or --all")
    progress = progress_for(sys.stderr, [wire_repos.NAME])
    wiring = wire_repos.repo_wiring(connect(ctx.obj["kubeconfig"]), ctx.obj["gitea_url"], ctx.obj["drone_url"],
                                    RepoSettings(timeout, trusted), progress)
    try:
        for slug in [*slugs, *(wiring.with_pipelines() if every else [])]:
            wiring.wire(slug)
    finally:
        progress.close()
    click.echo(f"wire repo: {len(wiring.changed)} changes" + "".join(f"\n  {line}" for line in wiring.changed))
