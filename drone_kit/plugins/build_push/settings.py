"""The build-push plugin's settings, as a user writes them under `settings:` in .drone.yml."""

from __future__ import annotations

import ipaddress
import re

from drone_kit.images.plain_http import split_host
from drone_kit.step.settings import BOOL, DURATION, INT, LIST, MAP, PATH, Setting, SettingType

INSECURE_WORDS = {"auto", "true", "false", "yes", "no", "1", "0"}
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$", re.IGNORECASE)


def _daemon_mode(raw: str) -> str:
    if raw.strip() not in ("auto", "external", "start"):
        raise ValueError
    return raw.strip()


def _registry_or_cidr(entry: str) -> bool:
    """Pure: whether a word names a registry (host:port, a dotted name, localhost, an address) or a CIDR.

    A bare word with neither dot nor port is refused: no image reference can name such a registry,
    and it is far more likely a mistyped boolean (`insecure: maybe`) that would silently mean HTTPS.
    """
    try:
        ipaddress.ip_network(entry, strict=False)
        return True
    except ValueError:
        pass
    hostname, port = split_host(entry)
    try:
        ipaddress.ip_address(hostname)
        return True
    except ValueError:
        pass
    return bool(_HOSTNAME.match(hostname)) and ("." in hostname or port is not None or hostname == "localhost")


def _insecure(raw: str) -> list[str]:
    items = LIST.parse(raw)
    if len(items) == 1 and items[0].lower() in INSECURE_WORDS:
        return items
    if not items or not all(_registry_or_cidr(item) for item in items):
        raise ValueError
    return items


DAEMON_MODE = SettingType("auto|external|start", "one of auto, external, start", _daemon_mode)
INSECURE = SettingType("auto|bool|list", "auto, true or false, or registries (host:port, dotted names) and CIDRs",
                       _insecure, repeatable=True)

SETTINGS = (
    Setting("repo", required=True, help="Image repository with its registry, e.g. 192.168.1.70:30500/team/app."),
    Setting("registry", default_help="the host of repo",
            help="Registry host[:port] to log in to; prefixed to repo when repo has none."),
    Setting("tags", LIST, aliases=("PLUGIN_TAG",), default_help="latest and the short commit sha",
            help="Tags to push. Without it, the .tags file is read when present."),
    Setting("tags_file", PATH, default=".tags", help="File of tags, comma or newline separated."),
    Setting("auto_tag", BOOL, default="false",
            help="On tag events add 1, 1.2, 1.2.3 for git tag v1.2.3 (other events build as usual)."),
    Setting("context", PATH, default=".", help="Build context directory."),
    Setting("dockerfile", PATH, default_help="Dockerfile in the context", help="The Dockerfile to build."),
    Setting("build_args", MAP, help="Build arguments (--build-arg)."),
    Setting("build_args_from_env", LIST, help="Names of environment variables passed as build arguments."),
    Setting("target", help="Build stage to stop at (--target)."),
    Setting("labels", MAP, help="Extra image labels. The OCI revision, source, created and version labels are "
                                "added to the pushed image through the registry, so they never invalidate the cache."),
    Setting("cache_from", LIST, default_help="the first of the tags already in the registry",
            help="Images pulled and used as build cache."),
    Setting("platforms", LIST, default_help="the engine's own platform",
            help="Build for each platform (e.g. linux/amd64,linux/arm64) and push one multi-arch image; "
                 "foreign RUN steps need QEMU binfmt on the engine's host."),
    Setting("no_cache", BOOL, default="false", help="Build without any cache."),
    Setting("pull", BOOL, default="false", help="Always pull a newer version of the base images."),
    Setting("insecure", INSECURE, default="auto",
            help="Plain-HTTP registries: auto (probe https, then http), true, false, or registries "
                 "(host:port, dotted names) and CIDRs."),
    Setting("username", help="Registry user."),
    Setting("password", secret=True, help="Registry password (use from_secret)."),
    Setting("dry_run", BOOL, default="false", help="Build, but push nothing."),
    Setting("daemon", DAEMON_MODE, default="auto",
            help="auto: use DOCKER_HOST or a mounted socket when one answers; else start dockerd in a Drone step "
                 "(needs privileged), and fail by hand; external: only use one; start: always start one."),
    Setting("daemon_timeout", DURATION, default="30s", help="How long a started dockerd may take to answer."),
    Setting("mtu", INT, help="MTU of a started dockerd's networks (lower it on overlay networks)."),
    Setting("dns", LIST, help="DNS servers for a started dockerd's build containers."),
    Setting("storage_driver", help="Storage driver of a started dockerd (e.g. overlay2, vfs)."),
    Setting("skip_existing", BOOL, default="false",
            help="If repo:<short sha> is already in the registry, only add the tags (no build)."),
)
