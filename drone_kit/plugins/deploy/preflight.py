"""Checks before a deploy touches anything: which image, which container, is the image pushed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from drone_kit.clients.registry import RegistryClient, RegistryError, probe_scheme
from drone_kit.errors import DroneKitError, SettingsError
from drone_kit.images.reference import parse_reference
from drone_kit.step.results import read_result


def image_to_deploy(image: str | None, workspace: Path) -> str:
    """The image setting, else what build-push recorded (repo@digest); checked as a reference."""
    if not image:
        built = read_result(workspace, "image")
        if not built or not built.get("image"):
            raise SettingsError(["settings.image: not set, and no .drone-kit/image.json from a build-push step"],
                                hint="set settings.image, or run build-push earlier in the pipeline")
        image = built["image"]
    try:
        parse_reference(image)
    except ValueError as e:
        raise SettingsError([f"settings.image: {e}"]) from None
    return image


def choose_container(template: dict, wanted: str | None, deployment: str) -> str:
    """Pure: the container to change: the one named, else the only one."""
    names = [c["name"] for c in template["spec"]["containers"]]
    if wanted:
        if wanted not in names:
            raise SettingsError([f"settings.container: {deployment} has no container {wanted!r} "
                                 f"(it has: {', '.join(names)})"])
        return wanted
    if len(names) > 1:
        raise SettingsError([f"settings.container: {deployment} has {len(names)} containers "
                             f"({', '.join(names)}); name the one to change"])
    return names[0]


def check_image_pushed(image: str, log: Callable[[str], None]) -> None:
    """Fail before deploying a tag that was never pushed, when the registry can be asked."""
    ref = parse_reference(image)
    try:
        registry = RegistryClient(ref.registry, scheme=probe_scheme(ref.registry, timeout=3), timeout=5)
        found = registry.manifest_digest(ref.repository, ref.digest or ref.tag or "latest")
    except RegistryError as e:
        log(f"image not checked: {e.message}")
        return
    if found is None:
        raise DroneKitError(f"image {image} is not in its registry: it was never pushed",
                            hint="check settings.image, or the build-push step's tags")
    log(f"image {image} is in its registry ({found})")
