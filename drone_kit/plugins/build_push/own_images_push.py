"""Building drone_kit's own images with a local engine and pushing them to the platform registry:
one build per platform asked for (else one for the engine's own platform), each pushed, then
an index over them under the version tag, as a build-push step does for an app.

The engine is asked first: with none, nothing else (not even the registry) is touched.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from drone_kit.clients import docker_engine
from drone_kit.clients.docker_engine import EngineAPI
from drone_kit.clients.registry import RegistryClient, RegistryError, probe_scheme
from drone_kit.errors import DroneKitError
from drone_kit.images.platforms import Platform, image_platform
from drone_kit.images.reference import ImageRef
from drone_kit.plugins.build_push.engine import no_engine_message
from drone_kit.plugins.build_push.own_images import ImageBuild, default_base
from drone_kit.plugins.build_push.plan import check_platform
from drone_kit.plugins.build_push.publish import fetch, publish_index

log = logging.getLogger(__name__)
Say = Callable[[str], None]


@dataclass(frozen=True)
class Pushed:
    name: str
    reference: str  # <registry>/drone-kit/<name>:<version>
    digest: str  # of the image, or of the index over its platforms
    platforms: list[Platform]


@contextlib.contextmanager
def local_engine(environ: Mapping[str, str], run_elsewhere: str) -> Iterator[EngineAPI]:
    """The engine at DOCKER_HOST (else the default socket); with none, an error saying where else to run."""
    try:
        api = docker_engine.connect(environ)
    except DroneKitError as e:
        raise DroneKitError(
            no_engine_message(environ),
            hint=f"start Docker or set DOCKER_HOST to an engine that runs, or on a machine with Docker, "
                 f"from a drone_kit checkout, run: {run_elsewhere}",
        ) from e
    try:
        yield api
    finally:
        api.close()


def open_registry(api: EngineAPI, host: str, port_forward: str) -> RegistryClient:
    """The registry at `host`, over the scheme it speaks, checked that the engine can push there;
    `port_forward` says how to reach it through loopback instead."""
    try:
        registry = RegistryClient(host, scheme=probe_scheme(host))
    except RegistryError as e:
        raise RegistryError(e.message, hint=f"check the registry's address, or push through a port-forward: "
                                            f"{port_forward}") from e
    if registry.scheme == "http" and not docker_engine.engine_trusts_plain_http(api, host):
        raise DroneKitError(
            f"registry {host} speaks plain HTTP, but the Docker engine would push over HTTPS",
            hint=f"add {host} to the engine's insecure registries (daemon.json \"insecure-registries\", "
                 f"then restart it), or push through a port-forward: {port_forward}",
        )
    return registry


def push_own_images(api: EngineAPI, registry: RegistryClient, builds: list[ImageBuild],
                    repositories: Mapping[str, ImageRef], version: str, platforms: list[Platform],
                    say: Say) -> list[Pushed]:
    """Build every image in order, push those marked for it, and put each under `version`."""
    pushed = []
    targets: list[Platform | None] = [*platforms] or [None]  # None: the engine's own platform
    for build in builds:
        ref = repositories[build.name]
        started = time.monotonic()
        what = ", ".join(map(str, platforms)) or "the engine's own platform"
        say(f"{build.name}: building {ref.name}:{version} for {what}" + ("" if build.push else " (a base, not pushed)"))
        built = [(platform, _build(api, build, ref, repositories, version, platform)) for platform in targets]
        if not build.push:
            continue
        result = _push(api, registry, build.name, ref, version, built)
        say(f"{build.name}: pushed {result.reference} {result.digest} ({', '.join(map(str, result.platforms))}) "
            f"in {time.monotonic() - started:.0f}s")
        pushed.append(result)
    return pushed


def local_tag(version: str, platform: Platform | None) -> str:
    """Pure: the tag an image is built under: the version, suffixed per platform for an index."""
    return f"{version}-{platform.tag_suffix}" if platform else version


def _build(api: EngineAPI, build: ImageBuild, ref: ImageRef, repositories: Mapping[str, ImageRef], version: str,
           platform: Platform | None) -> Platform:
    """Build one image for one platform (None: the engine's own); the platform it was built for."""
    args = dict(build.build_args)
    if build.built_on:
        args["BASE"] = f"{repositories[build.built_on].name}:{local_tag(version, platform)}"
    base = args.get("BASE") or default_base(build.dockerfile)
    image_id = docker_engine.build(
        api, build.context, build.dockerfile, f"{ref.name}:{local_tag(version, platform)}", log.debug,
        buildargs=args, labels={"org.opencontainers.image.title": f"drone-kit/{build.name}",
                                "org.opencontainers.image.version": version},
        # The classic builder takes a local base of any platform: pull unless the local one fits.
        pull=platform is not None and not _has_local(api, base, platform),
        platform=str(platform) if platform else None,
    )
    made = image_platform(api.inspect_image(image_id))
    if platform:
        check_platform(made, platform)
    return made


def _has_local(api: EngineAPI, image: str | None, platform: Platform) -> bool:
    if not image or not api.images(name=image):
        return False
    made = image_platform(api.inspect_image(image))
    return (made.os, made.architecture) == (platform.os, platform.architecture)


def _push(api: EngineAPI, registry: RegistryClient, name: str, ref: ImageRef, version: str,
          built: list[tuple[Platform | None, Platform]]) -> Pushed:
    """Push each platform's build; one of them is the image, several get an index under `version`."""
    children = []
    for wanted, made in built:
        progress = docker_engine.push(api, ref.name, local_tag(version, wanted), ref.registry, log.debug)
        assert progress.digest is not None  # docker_engine.push raises when the push gave no digest
        children.append((made, fetch(registry, ref, progress.digest)))
    digest = children[0][1].digest
    if built[0][0] is not None:
        index = publish_index(registry, ref, children)
        registry.put_manifest(ref.repository, version, index)
        digest = index.digest
    stored = registry.manifest_digest(ref.repository, version)
    if stored != digest:
        raise DroneKitError(
            f"registry {ref.registry} shows {stored} under {ref.name}:{version}, not the pushed {digest}")
    return Pushed(name, f"{ref.name}:{version}", digest, [made for made, _ in children])
