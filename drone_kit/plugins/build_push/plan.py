"""What one build-push run will do, decided from the settings before anything is touched: the
repository, the tags, the Dockerfile, the platforms, and the labels the pushed image gets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from drone_kit.errors import DroneKitError, SettingsError
from drone_kit.images.platforms import Platform, parse_platform
from drone_kit.images.reference import DEFAULT_REGISTRY, ImageRef, parse_reference
from drone_kit.plugins.build_push.tags import image_tags
from drone_kit.step.context import BuildContext
from drone_kit.step.plugin import PluginRun


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
        raise SettingsError(
            [f"settings.registry: {registry!r} differs from the registry in settings.repo ({ref.registry!r})"])
    return ref


def oci_labels(context: BuildContext, tags: list[str], now: datetime) -> dict[str, str]:
    """Pure: the OCI annotations every image gets (only those known in this build)."""
    labels = {
        "org.opencontainers.image.created": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "org.opencontainers.image.revision": context.commit_sha,
        "org.opencontainers.image.source": context.repo_link,
        "org.opencontainers.image.version": context.tag or context.short_sha or tags[0],
    }
    return {key: value for key, value in labels.items() if value}


def plan_tags(run: PluginRun) -> list[str]:
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


def make_plan(run: PluginRun) -> Plan:
    s = run.settings
    ref = target_repository(s["repo"], s["registry"])
    tags = plan_tags(run)
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


def check_platform(built: Platform, wanted: Platform) -> None:
    if (built.os, built.architecture) != (wanted.os, wanted.architecture):
        raise DroneKitError(
            f"the build for {wanted} made a {built} image",
            hint=f"its base image (FROM) has no {wanted} variant: use a multi-arch base image",
        )


def docker_auth(plan: Plan) -> dict | None:
    if not plan.auth:
        return None
    return {"username": plan.auth[0], "password": plan.auth[1], "serveraddress": plan.ref.registry}
