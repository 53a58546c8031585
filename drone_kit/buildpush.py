"""The build-push plugin: build the app's image once, push it once, tag it through the registry.

Flow: settings → tags → registry scheme (plain HTTP detected) → skip if this commit's image is
already there → cache from the image's existing tags → build → push the first tag → add the
other tags by manifest PUT (no layer moves twice) → confirm every tag → `.drone-kit/image.json`.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import docker

from drone_kit import engine
from drone_kit.card import write_card
from drone_kit.context import BuildContext
from drone_kit.daemon import DaemonOptions, start_daemon
from drone_kit.errors import DroneKitError, SettingsError
from drone_kit.platforms import Platform, image_platform, parse_platform
from drone_kit.plugin import Plugin, PluginRun
from drone_kit.publish import fetch, image_size, publish_index, relabel, tag_everywhere
from drone_kit.reference import DEFAULT_REGISTRY, ImageRef, parse_reference
from drone_kit.registry import Manifest, RegistryClient, listed_insecure, probe_scheme, scheme_rule
from drone_kit.results import write_result
from drone_kit.streams import PushProgress
from drone_kit.settings import BOOL, DURATION, INT, LIST, MAP, PATH, Setting, SettingType
from drone_kit.tags import image_tags

def _daemon_mode(raw: str) -> str:
    if raw.strip() not in ("auto", "external", "start"):
        raise ValueError
    return raw.strip()


DAEMON_MODE = SettingType("auto|external|start", "one of auto, external, start", _daemon_mode)
DAEMON_LOG = Path("/tmp/drone-kit-dockerd.log")

SETTINGS = (
    Setting("repo", required=True, help="Image repository with its registry, e.g. 192.168.1.70:30500/team/app."),
    Setting("registry", default_help="the host of repo", help="Registry host[:port] to log in to; prefixed to repo when repo has none."),
    Setting("tags", LIST, aliases=("PLUGIN_TAG",), default_help="latest and the short commit sha",
            help="Tags to push. Without it, the .tags file is read when present."),
    Setting("tags_file", PATH, default=".tags", help="File of tags, comma or newline separated."),
    Setting("auto_tag", BOOL, default="false", help="On tag events add 1, 1.2, 1.2.3 for git tag v1.2.3 (other events build as usual)."),
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
    Setting("insecure", LIST, default="auto", help="Plain-HTTP registries: auto (probe https, then http), true, false, or hosts and CIDRs."),
    Setting("username", help="Registry user."),
    Setting("password", secret=True, help="Registry password (use from_secret)."),
    Setting("dry_run", BOOL, default="false", help="Build, but push nothing."),
    Setting("daemon", DAEMON_MODE, default="auto",
            help="auto: use DOCKER_HOST or a mounted socket when one answers, else start dockerd (needs privileged); "
                 "external: only use one; start: always start one."),
    Setting("daemon_timeout", DURATION, default="30s", help="How long a started dockerd may take to answer."),
    Setting("mtu", INT, help="MTU of a started dockerd's networks (lower it on overlay networks)."),
    Setting("dns", LIST, help="DNS servers for a started dockerd's build containers."),
    Setting("storage_driver", help="Storage driver of a started dockerd (e.g. overlay2, vfs)."),
    Setting("skip_existing", BOOL, default="false",
            help="If repo:<short sha> is already in the registry, only add the tags (no build)."),
)


def target_repository(repo: str, registry: str | None) -> ImageRef:
    """Pure: the repository to push to, from settings.repo and settings.registry."""
    try:
        ref = parse_reference(repo)
    except ValueError as e:
        raise SettingsError([f"settings.repo: {e}"]) from None
    if ref.tag or ref.digest:
        raise SettingsError([f"settings.repo: {repo!r} has a tag or digest; give the repository and use settings.tags"])
    if registry and ref.registry == DEFAULT_REGISTRY and not repo.startswith(DEFAULT_REGISTRY):
        return target_repository(f"{registry}/{repo}", None)
    if registry and registry != ref.registry:
        raise SettingsError([f"settings.registry: {registry!r} differs from the registry in settings.repo ({ref.registry!r})"])
    return ref


def oci_labels(context: BuildContext, tags: list[str], now: datetime) -> dict[str, str]:
    """Pure: the OCI annotations every image gets (only those known in this build)."""
    labels = {
        "org.opencontainers.image.created": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "org.opencontainers.image.revision": context.commit_sha,
        "org.opencontainers.image.source": context.repo_link,
        "org.opencontainers.image.version": context.tag or context.short_sha or tags[0],
    }
    return {key: value for key, value in labels.items() if value}


def _tags(run: PluginRun) -> list[str]:
    tags_file: Path = run.settings["tags_file"]
    text = tags_file.read_text() if not run.settings["tags"] and tags_file.is_file() else None
    try:
        return image_tags(run.settings["tags"], text, run.settings["auto_tag"], run.context)
    except ValueError as e:
        raise SettingsError([f"settings.tags: {e}"]) from None


@dataclass(frozen=True)
class Plan:
    """What one run will do, decided from the settings before anything is touched."""

    ref: ImageRef
    tags: list[str]
    dockerfile: Path
    auth: tuple[str, str] | None
    platforms: list[Platform]


def _plan(run: PluginRun) -> Plan:
    s = run.settings
    ref = target_repository(s["repo"], s["registry"])
    tags = _tags(run)
    dockerfile = s["dockerfile"] or s["context"] / "Dockerfile"
    if not s["context"].is_dir():
        raise SettingsError([f"settings.context: {s['context']} is not a directory"])
    if not dockerfile.is_file():
        raise SettingsError([f"settings.dockerfile: {dockerfile} does not exist"],
                            hint="set settings.dockerfile to the app's Dockerfile")
    if s["skip_existing"] and not run.context.short_sha:
        raise SettingsError(["settings.skip_existing: needs the commit sha (DRONE_COMMIT_SHA)"])
    try:
        platforms = [parse_platform(p) for p in s["platforms"] or []]
    except ValueError as e:
        raise SettingsError([f"settings.platforms: {e}"]) from None
    return Plan(ref, tags, dockerfile, (s["username"], s["password"] or "") if s["username"] else None, platforms)


def run_build_push(run: PluginRun, clock: Callable[[], float] = time.monotonic) -> None:
    s = run.settings
    started = clock()
    plan = _plan(run)
    if s["dry_run"]:
        run.say(f"dry run: building {plan.ref.name} without touching the registry")
        with _engine(run, plan.ref.registry, "https") as api:
            for platform in plan.platforms or [None]:
                image_id = _build(run, api, plan, [], plan.tags[0], platform)
                run.say(f"dry run: built {image_id}" + (f" for {platform}" if platform else "") + ", pushed nothing")
        return
    rule = scheme_rule(plan.ref.registry, s["insecure"])
    registry = RegistryClient(plan.ref.registry, scheme=probe_scheme(plan.ref.registry) if rule == "probe" else rule,
                              auth=plan.auth)
    run.say(f"image {plan.ref.name}, tags {', '.join(plan.tags)} (registry over {registry.scheme})")
    if s["skip_existing"]:
        existing = registry.manifest_digest(plan.ref.repository, run.context.short_sha)
        if existing:
            run.say(f"{plan.ref.name}:{run.context.short_sha} is already in the registry; adding tags, no build")
            _finish(run, plan, registry, fetch(registry, plan.ref, existing), [],
                    {"total_seconds": round(clock() - started, 3)}, skipped=True)
            return
    pushed: list[PushProgress] = []
    with _engine(run, plan.ref.registry, registry.scheme) as api:
        if registry.scheme == "http" and not engine.engine_trusts_plain_http(api, plan.ref.registry):
            raise DroneKitError(
                f"registry {plan.ref.registry} speaks plain HTTP, but the Docker engine would push over HTTPS",
                hint=f"start the engine with --insecure-registry {plan.ref.registry} "
                     "(daemon.json \"insecure-registries\"), or let build-push start its own (daemon: start)",
            )
        cache = s["cache_from"] if s["cache_from"] is not None else _registry_cache(api, registry, plan)
        build_seconds = push_seconds = 0.0
        for platform in plan.platforms or [None]:
            tag = f"{plan.tags[0]}-{platform.tag_suffix}" if platform else plan.tags[0]
            mark = clock()
            image_id = _build(run, api, plan, [] if s["no_cache"] or platform else cache, tag, platform)
            if platform:
                _check_platform(image_platform(api.inspect_image(image_id)), platform)
            build_seconds, mark = build_seconds + clock() - mark, clock()
            progress = engine.push(api, plan.ref.name, tag, plan.ref.registry, run.say, _docker_auth(plan))
            push_seconds += clock() - mark
            run.say(f"pushed {plan.ref.name}:{tag} as {progress.digest}: {len(progress.uploaded)} layers "
                    f"uploaded, {len(progress.reused)} already there")
            pushed.append(progress)
    labels = oci_labels(run.context, plan.tags, datetime.now(timezone.utc))
    labelled = [relabel(registry, plan.ref, progress.digest, labels) for progress in pushed]
    platforms = [platform for _, platform in labelled]
    image = labelled[0][0]
    if plan.platforms:
        image = publish_index(registry, plan.ref, [(platform, manifest) for manifest, platform in labelled])
        run.say(f"multi-arch index {image.digest}: {', '.join(str(p) for p in platforms)}")
    timings = {"build_seconds": round(build_seconds, 3), "push_seconds": round(push_seconds, 3),
               "total_seconds": round(clock() - started, 3)}
    layers = {"uploaded": sum(len(p.uploaded) for p in pushed), "reused": sum(len(p.reused) for p in pushed)}
    _finish(run, plan, registry, image, platforms, timings, layers=layers)


def _check_platform(built: Platform, wanted: Platform) -> None:
    if (built.os, built.architecture) != (wanted.os, wanted.architecture):
        raise DroneKitError(
            f"the build for {wanted} made a {built} image",
            hint=f"its base image (FROM) has no {wanted} variant: use a multi-arch base image",
        )


def _docker_auth(plan: Plan) -> dict | None:
    return {"username": plan.auth[0], "password": plan.auth[1], "serveraddress": plan.ref.registry} if plan.auth else None


def _build(run: PluginRun, api: docker.APIClient, plan: Plan, cache: list[str], tag: str,
           platform: Platform | None) -> str:
    s = run.settings
    for image in cache:
        name, _, tag = image.rpartition(":")
        problem = engine.pull(api, name, tag, _docker_auth(plan))
        run.say(f"cache: {image} " + (f"not pulled ({problem})" if problem else "pulled"))
    build_args = dict(s["build_args"] or {})
    build_args.update({n: run.environ[n] for n in s["build_args_from_env"] or [] if n in run.environ})
    return engine.build(
        api, s["context"], plan.dockerfile, f"{plan.ref.name}:{tag}", run.say, buildargs=build_args,
        labels=s["labels"], target=s["target"], cache_from=cache or None, nocache=s["no_cache"],
        # The classic builder takes a local base image of any platform: pull the right one.
        pull=s["pull"] or platform is not None,
        platform=str(platform) if platform else None,
    )


def insecure_registries(host: str, scheme: str, insecure: list[str]) -> list[str]:
    """Pure: the --insecure-registry values for a dockerd this step starts."""
    return list(dict.fromkeys(listed_insecure(insecure) + ([host] if scheme == "http" else [])))


@contextlib.contextmanager
def _engine(run: PluginRun, host: str, scheme: str) -> Iterator[docker.APIClient]:
    """The engine to build with: the one given when it answers (daemon: auto), else a started one."""
    s = run.settings
    if s["daemon"] != "start":
        try:
            api = engine.connect(run.environ)
        except DroneKitError:
            if s["daemon"] == "external":
                raise
        else:
            yield api
            return
    options = DaemonOptions(
        insecure_registries=tuple(insecure_registries(host, scheme, s["insecure"])), mtu=s["mtu"],
        dns=tuple(s["dns"] or ()), storage_driver=s["storage_driver"],
    )
    run.say("starting dockerd" + "".join(f" --insecure-registry {r}" for r in options.insecure_registries))
    daemon = start_daemon(options, s["daemon_timeout"].total_seconds(), DAEMON_LOG)
    try:
        yield engine.connect({"DOCKER_HOST": daemon.host})
    finally:
        daemon.stop()


def _registry_cache(api: docker.APIClient, registry: RegistryClient, plan: Plan) -> list[str]:
    """The image to pull as build cache: the first tag already in the registry.

    None when the engine already holds an image of this repository: with --cache-from the
    classic builder ignores its local cache, which would lose earlier stages of a multi-stage build.
    """
    if api.images(name=plan.ref.name):
        return []
    for tag in plan.tags:
        if registry.manifest_digest(plan.ref.repository, tag):
            return [f"{plan.ref.name}:{tag}"]
    return []


def _finish(run: PluginRun, plan: Plan, registry: RegistryClient, image: Manifest, platforms: list[Platform],
            timings: dict, skipped: bool = False, layers: dict | None = None) -> None:
    """Put every tag on the image, confirm them, and record the image for the next steps."""
    tag_everywhere(registry, plan.ref, plan.tags, image)
    result = {
        "repo": plan.ref.name, "tags": plan.tags, "digest": image.digest, "image": str(plan.ref.with_digest(image.digest)),
        "platforms": [str(p) for p in platforms], "size": image_size(registry, plan.ref, image),
        "commit": run.context.commit_sha, "skipped_build": skipped, "timings": timings,
        "layers": layers or {"uploaded": 0, "reused": 0},
    }
    write_result(run.context.workspace, "image", result)
    write_card(run.context.card_path, "image", result, run.stdout, run.context.cards_url)
    run.say(f"{plan.ref.name}@{image.digest} tagged {', '.join(plan.tags)}")


BUILD_PUSH = Plugin(
    name="build-push",
    summary="Build the app's image once and push it with all its tags to a (plain-HTTP) registry.",
    settings=SETTINGS,
    run=run_build_push,
)
