"""What `drone_kit wire` and `drone_kit bootstrap` (whose last phase is the wiring) share: where
this machine reaches Gitea and Drone (the `--gitea-url` and `--drone-url` options and their
defaults, the LAN addresses platform.yaml gives them), and how the wiring's changes are printed."""

from __future__ import annotations

import click

from drone_kit.platform.config import PlatformConfig

gitea_url_option = click.option(
    "--gitea-url", metavar="URL", help="Where this machine reaches Gitea. Default: gitea.root_url's address from "
                                       "platform.yaml (http://<gitea.ip>:<gitea.http_port>/).")
drone_url_option = click.option(
    "--drone-url", metavar="URL", help="Where this machine reaches Drone. Default: http://<drone.ip>/.")


def wire_urls(config: PlatformConfig, gitea_url: str | None, drone_url: str | None) -> tuple[str, str]:
    """Gitea's and Drone's URLs as given, else their LAN addresses."""
    return gitea_url or config.gitea.root_url(), drone_url or f"http://{config.drone.ip}/"


def wire_summary(changed: list[str]) -> str:
    return f"wire: {len(changed)} changes" + "".join(f"\n  {line}" for line in changed)
