"""One build-push run: build each platform, push it, label it through the registry, put every
tag on it, confirm, and record the image for the next steps."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from drone_kit.clients import docker_engine
from drone_kit.clients.docker_engine import EngineAPI
from drone_kit.clients.docker_streams import PushProgress
from drone_kit.clients.registry import RegistryClient, probe_scheme
from drone_kit.errors import DroneKitError
from drone_kit.images.manifests import Manifest
from drone_kit.images.plain_http import scheme_rule
from drone_kit.images.platforms import Platform, image_platform
from drone_kit.plugins.build_push.engine import build_engine, choose_engine
from drone_kit.plugins.build_push.plan import Plan, check_platform, docker_auth, make_plan, oci_labels
from drone_kit.plugins.build_push.publish import fetch, image_size, publish_index, relabel, tag_everywhere
from drone_kit.step.cards import write_card
from drone_kit.step.plugin import PluginRun
from drone_kit.step.results import write_result


def run_build_push(run: PluginRun, clock: Callable[[], float] = time.monotonic) -> None:
    # The engine first: by hand with none, fail before the registry or anything else is touched.
    found = choose_engine(run)
    try:
        _run(run, found, clock)
    finally:
        if found is not None:
            found.close()


def _run(run: PluginRun, found: EngineAPI | None, clock: Callable[[], float]) -> None:
    s = run.settings
    started = clock()
    plan = make_plan(run)
    if s["dry_run"]:
        run.say(f"dry run: building {plan.ref.name} without touching the registry")
        with build_engine(run, found, plan.ref.registry, "https") as api:
            for platform in _builds(plan):
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
    with build_engine(run, found, plan.ref.registry, registry.scheme) as api:
        if registry.scheme == "http" and not docker_engine.engine_trusts_plain_http(api, plan.ref.registry):
            raise DroneKitError(
                f"registry {plan.ref.registry} speaks plain HTTP, but the Docker engine would push over HTTPS",
                hint=f"start the engine with --insecure-registry {plan.ref.registry} "
                     "(daemon.json \"insecure-registries\"), or let build-push start its own (daemon: start)",
            )
        cache = s["cache_from"] if s["cache_from"] is not None else _registry_cache(api, registry, plan)
        build_seconds = push_seconds = 0.0
        for platform in _builds(plan):
            tag = f"{plan.tags[0]}-{platform.tag_suffix}" if platform else plan.tags[0]
            mark = clock()
            image_id = _build(run, api, plan, [] if s["no_cache"] or platform else cache, tag, platform)
            if platform:
                check_platform(image_platform(api.inspect_image(image_id)), platform)
            build_seconds, mark = build_seconds + clock() - mark, clock()
            progress = docker_engine.push(api, plan.ref.name, tag, plan.ref.registry, run.say, docker_auth(plan))
            push_seconds += clock() - mark
            run.say(f"pushed {plan.ref.name}:{tag} as {progress.digest}: {len(progress.uploaded)} layers "
                    f"uploaded, {len(progress.reused)} already there")
            pushed.append(progress)
    labels = oci_labels(run.context, plan.tags, datetime.now(UTC))
    labelled: list[tuple[Manifest, Platform]] = []
    for progress in pushed:
        assert progress.digest is not None  # docker_engine.push raises when the push gave no digest
        labelled.append(relabel(registry, plan.ref, progress.digest, labels))
    platforms = [platform for _, platform in labelled]
    image = labelled[0][0]
    if plan.platforms:
        image = publish_index(registry, plan.ref, [(platform, manifest) for manifest, platform in labelled])
        run.say(f"multi-arch index {image.digest}: {', '.join(str(p) for p in platforms)}")
    timings = {"build_seconds": round(build_seconds, 3), "push_seconds": round(push_seconds, 3),
               "total_seconds": round(clock() - started, 3)}
    layers = {"uploaded": sum(len(p.uploaded) for p in pushed), "reused": sum(len(p.reused) for p in pushed)}
    _finish(run, plan, registry, image, platforms, timings, layers=layers)


def _builds(plan: Plan) -> list[Platform | None]:
    """One build per platform asked for; else one (None) for the engine's own platform."""
    return [*plan.platforms] or [None]


def _build(run: PluginRun, api: EngineAPI, plan: Plan, cache: list[str], tag: str,
           platform: Platform | None) -> str:
    s = run.settings
    for image in cache:
        name, _, tag = image.rpartition(":")
        problem = docker_engine.pull(api, name, tag, docker_auth(plan))
        run.say(f"cache: {image} " + (f"not pulled ({problem})" if problem else "pulled"))
    build_args = dict(s["build_args"] or {})
    build_args.update({n: run.environ[n] for n in s["build_args_from_env"] or [] if n in run.environ})
    return docker_engine.build(
        api, s["context"], plan.dockerfile, f"{plan.ref.name}:{tag}", run.say, buildargs=build_args,
        labels=s["labels"], target=s["target"], cache_from=cache or None, nocache=s["no_cache"],
        # The classic builder takes a local base image of any platform: pull the right one.
        pull=s["pull"] or platform is not None,
        platform=str(platform) if platform else None,
    )


def _registry_cache(api: EngineAPI, registry: RegistryClient, plan: Plan) -> list[str]:
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
        "repo": plan.ref.name, "tags": plan.tags, "digest": image.digest,
        "image": str(plan.ref.with_digest(image.digest)),
        "platforms": [str(p) for p in platforms], "size": image_size(registry, plan.ref, image),
        "commit": run.context.commit_sha, "skipped_build": skipped, "timings": timings,
        "layers": layers or {"uploaded": 0, "reused": 0},
    }
    write_result(run.context.workspace, "image", result)
    write_card(run.context.card_path, "image", result, run.stdout, run.context.cards_url)
    run.say(f"{plan.ref.name}@{image.digest} tagged {', '.join(plan.tags)}")


