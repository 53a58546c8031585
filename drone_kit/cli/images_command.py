"""`drone_kit images push`: build drone_kit's own images (build-push, deploy, verify, shim) from a
source checkout with a local Docker engine and push them to the platform registry, tagged with
this drone_kit's version, where `bootstrap` and the pipelines expect them."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import click

import drone_kit
from drone_kit import __version__
from drone_kit.errors import DroneKitError, did_you_mean
from drone_kit.images.platforms import Platform, parse_platform
from drone_kit.images.reference import ImageRef, parse_reference
from drone_kit.platform.components import registry as registry_component
from drone_kit.platform.config import REGISTRY_NAMESPACE
from drone_kit.platform.config_file import read_config
from drone_kit.plugins.build_push.own_images import IMAGES, checkout_problem, checkout_version, image_builds
from drone_kit.plugins.build_push.own_images_push import local_engine, open_registry, push_own_images

REPOSITORY_PREFIX = "drone-kit"
# Loopback is plain HTTP to every engine, and the registry stores the same repositories whatever
# host name an image was pushed under.
PORT_FORWARD = (f"kubectl -n {REGISTRY_NAMESPACE} port-forward svc/{registry_component.NAME} "
                f"5000:{registry_component.PORT}, then --registry 127.0.0.1:5000")


class PlatformList(click.ParamType):
    """Platforms, comma separated: linux/amd64,linux/arm64."""

    name = "platforms"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[Platform]:
        if isinstance(value, list):
            return value
        try:
            return [parse_platform(word) for word in str(value).split(",") if word.strip()]
        except ValueError as e:
            self.fail(str(e), param, ctx)


def _known_images(ctx: click.Context, param: click.Parameter, names: tuple[str, ...]) -> tuple[str, ...]:
    for name in names:
        if name not in IMAGES:
            raise click.BadParameter(f"no image named {name!r}{did_you_mean(name, list(IMAGES))}; "
                                     f"the images are {', '.join(IMAGES)}", ctx, param)
    return names


def _registry_host(ctx: click.Context, param: click.Parameter, host: str | None) -> str | None:
    if host is not None and not _names_a_registry(host):
        raise click.BadParameter(f"{host!r} is not a registry host:port like 192.168.1.70:30500 "
                                 "(no scheme, no path)", ctx, param)
    return host


def _names_a_registry(host: str) -> bool:
    """Pure: whether `host` is what Docker reads as the registry part of `host/drone-kit/deploy`."""
    try:
        return parse_reference(f"{host}/{REPOSITORY_PREFIX}/deploy").registry == host
    except ValueError:
        return False


def push_command(config: Path | None, registry: str | None, platforms: list[Platform], only: tuple[str, ...],
                 base: str | None, pip_options: str | None) -> str:
    """Pure: the `drone_kit images push` command that does the same from another machine."""
    words = ["drone_kit", "images", "push"]
    if config is not None and registry is None:
        words += ["--config", str(config)]
    else:
        words += ["--registry", registry or read_config(None).registry_host]
    if platforms:
        words += ["--platform", ",".join(map(str, platforms))]
    for name in only:
        words += ["--only", name]
    if base:
        words += ["--base", base]
    if pip_options:
        words += ["--pip-options", pip_options]
    return shlex.join(words)


def repositories(config: Path | None, registry: str | None) -> dict[str, ImageRef]:
    """Where each image goes: <registry>/drone-kit/<name> (the platform.yaml's names without --registry)."""
    if registry is not None:
        names = {name: f"{registry}/{REPOSITORY_PREFIX}/{name}:{__version__}" for name in IMAGES}
    else:
        platform = read_config(config)
        names = {name: platform.drone_kit_image(name, __version__) for name in IMAGES}
    return {name: parse_reference(reference) for name, reference in names.items()}


def checkout(source: Path | None) -> Path:
    """The drone_kit checkout to build from: --source, else the one this drone_kit runs from."""
    if source is None:
        running = Path(drone_kit.__file__).resolve().parent.parent
        if checkout_problem(running):
            raise DroneKitError(f"this drone_kit is installed in {running}, not run from a source checkout",
                                hint="run it from a drone_kit checkout (pip install -e CHECKOUT), or pass "
                                     "--source CHECKOUT")
        source = running
    problem = checkout_problem(source)
    if problem:
        raise DroneKitError(f"--source: {problem}", hint="give the folder of a drone_kit git checkout")
    version = checkout_version(source)
    if version != __version__:
        raise DroneKitError(
            f"--source: {source} holds drone_kit {version}, but this drone_kit is {__version__}, "
            "the version the images are tagged with and bootstrap runs",
            hint=f"run the drone_kit installed from that checkout (pip install -e {shlex.quote(str(source))})")
    return source


@click.group()
def images() -> None:
    """drone_kit's own images: the build-push, deploy and verify plugins and the webhook shim."""


@images.command("push")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path),
              help="platform.yaml: the registry is its server.address and registry.node_port "
                   "(or images.drone_kit). Default: the seed platform's, 192.168.1.70:30500.")
@click.option("--registry", callback=_registry_host, metavar="HOST:PORT",
              help="Push here instead of the platform.yaml's registry, e.g. a port-forward: 127.0.0.1:5000.")
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="The drone_kit checkout to build from. Default: the one this drone_kit runs from.")
@click.option("--platform", "platforms", type=PlatformList(), multiple=True, metavar="OS/ARCH,...",
              help="Build each platform and push one multi-arch image, e.g. linux/amd64,linux/arm64 (a foreign "
                   "one needs QEMU binfmt on the engine's host). Default: the engine's own platform only.")
@click.option("--base", metavar="IMAGE",
              help="The Debian bookworm image build-push and deploy start FROM (the BASE build argument); "
                   "verify and shim start FROM deploy. Default: the Dockerfiles', debian:bookworm-slim.")
@click.option("--pip-options", metavar="OPTIONS",
              help="Extra pip options (the PIP_OPTIONS build argument), offline e.g. "
                   "'--no-index --find-links /src/build/wheels'.")
@click.option("--only", multiple=True, callback=_known_images, metavar="NAME",
              help=f"Only this image (repeatable): {', '.join(IMAGES)}. Default: all. "
                   "verify and shim build deploy too, pushing it only if asked for.")
def push(config: Path | None, registry: str | None, source: Path | None, platforms: tuple[list[Platform], ...],
         base: str | None, pip_options: str | None, only: tuple[str, ...]) -> None:
    """Build drone_kit's images with the local Docker engine (DOCKER_HOST, else the default socket)
    and push them as <registry>/drone-kit/<name>:<version>, one line per image."""
    wanted = list(dict.fromkeys(platform for group in platforms for platform in group))
    targets = repositories(config, registry)
    builds = image_builds(checkout(source), only, base, pip_options)
    elsewhere = push_command(config, registry, wanted, only, base, pip_options)
    host = targets[IMAGES[0]].registry
    with local_engine(os.environ, elsewhere) as api:
        registry_client = open_registry(api, host, PORT_FORWARD)
        pushed = push_own_images(api, registry_client, builds, targets, __version__, wanted, click.echo)
    click.echo(f"pushed {len(pushed)} image{'s' if len(pushed) != 1 else ''} to {host}")
