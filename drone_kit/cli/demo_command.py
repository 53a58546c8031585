"""`drone_kit demo`: a push that deploys, and a push that is rolled back, on the platform."""

from __future__ import annotations

import sys
from pathlib import Path

import click

import drone_kit
from drone_kit import __version__
from drone_kit.cli.platform_commands import config_option, connect, kubeconfig_option, load_config
from drone_kit.cli.wire_common import drone_url_option, gitea_url_option, wire_urls
from drone_kit.errors import DroneKitError
from drone_kit.platform import demo_files
from drone_kit.platform.demo import NAME, Demo, sample_app
from drone_kit.platform.progress import progress_for
from drone_kit.platform.wire_repos import NAME as REPOSITORIES

CHECKOUT_SAMPLE = Path(drone_kit.__file__).resolve().parent.parent / "sample-app"


@click.command("demo")
@config_option
@kubeconfig_option
@gitea_url_option
@drone_url_option
@click.option("--sample-app", "sample_folder", type=click.Path(file_okay=False, path_type=Path),
              default=CHECKOUT_SAMPLE, show_default="this checkout's sample-app/", help="The app to push.")
@click.option("--timeout", type=click.IntRange(1, 120), default=15, show_default=True, metavar="MINUTES",
              help="How long each build may take, from the push to its end.")
def demo_command(config_path: Path | None, kubeconfig: str | None, gitea_url: str | None, drone_url: str | None,
                 sample_folder: Path, timeout: int) -> None:
    """Show the platform working, after `drone_kit bootstrap` and `drone_kit wire`: the sample
    app goes into the admin's Gitea repository drone-kit-demo (made if missing), wired to Drone
    as trusted; a push builds, deploys and verifies it, and its URL is printed; then a broken
    release (the app crashes at start) goes red at deploy, is rolled back, and the previous
    version still serves. Each outcome is checked on the cluster. Exits 1 if either is not
    what it should be. Safe to run again: each run pushes two new commits."""
    config = load_config(config_path)
    sample = sample_app(sample_folder)
    progress = progress_for(sys.stderr, [REPOSITORIES, NAME])
    try:
        outcome = Demo(connect(kubeconfig), config, *wire_urls(config, gitea_url, drone_url), sample, __version__,
                       progress, say=lambda line: click.echo(f"demo: {line}"), build_timeout=timeout * 60.0).run()
    finally:
        progress.close()
    if outcome.problems:
        for problem in outcome.problems:
            click.echo(f"demo: {problem}", err=True)
        raise DroneKitError(f"the demo did not go as it should: {outcome.problems[0]}",
                            hint=f"the build's steps and logs are in Drone (repository "
                                 f"{config.gitea.admin_user}/{demo_files.REPO_NAME}); `drone_kit doctor` "
                                 "checks the platform")
    click.echo(f"demo: a push deployed, a broken push was rolled back; the app: {outcome.url}")
