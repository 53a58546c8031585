"""drone_kit's own images (build-push, deploy, verify, shim) and how each is built from a source
checkout: the plan `drone_kit images push` follows. Pure, but for reading the checkout's files.

build-push and deploy build from the checkout's root FROM a Debian base (their `BASE` build
argument); verify and shim build from their own folder FROM the deploy image, so deploy is built
first whenever either is asked for, and pushed only when it is asked for too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

IMAGES = ("build-push", "deploy", "verify", "shim")  # in build order: every base before its users
BUILT_ON = {"verify": "deploy", "shim": "deploy"}
_VERSION = re.compile(r'^__version__\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)
_BASE_DEFAULT = re.compile(r"^ARG\s+BASE=(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class ImageBuild:
    """One image to build: where from, with which build arguments, and whether it is pushed."""

    name: str
    context: Path
    dockerfile: Path
    build_args: dict[str, str] = field(default_factory=dict)
    built_on: str | None = None  # another of our images, given as BASE per platform
    push: bool = True


def build_order(only: tuple[str, ...] | list[str]) -> list[tuple[str, bool]]:
    """Pure: the images to build (all when `only` is empty), bases first, each with whether to push it."""
    wanted = set(only or IMAGES)
    needed = wanted | {BUILT_ON[name] for name in wanted if name in BUILT_ON}
    return [(name, name in wanted) for name in IMAGES if name in needed]


def image_builds(source: Path, only: tuple[str, ...] | list[str], base: str | None,
                 pip_options: str | None) -> list[ImageBuild]:
    """Pure: how each image of `build_order(only)` is built from the checkout at `source`."""
    builds = []
    for name, push in build_order(only):
        dockerfile = source / "plugins" / name / "Dockerfile"
        if name in BUILT_ON:
            builds.append(ImageBuild(name, dockerfile.parent, dockerfile, built_on=BUILT_ON[name], push=push))
            continue
        args = {"BASE": base} if base else {}
        if pip_options:
            args["PIP_OPTIONS"] = pip_options
        builds.append(ImageBuild(name, source, dockerfile, args, push=push))
    return builds


def checkout_problem(source: Path) -> str | None:
    """Why `source` is not a drone_kit checkout to build the images from, or None."""
    for needed in ("pyproject.toml", "drone_kit/__init__.py", *(f"plugins/{name}/Dockerfile" for name in IMAGES)):
        if not (source / needed).is_file():
            return f"{source} is not a drone_kit source checkout: it has no {needed}"
    return None


def checkout_version(source: Path) -> str | None:
    """The drone_kit version of the checkout at `source` (its `__version__`), if it says one."""
    match = _VERSION.search((source / "drone_kit" / "__init__.py").read_text())
    return match.group(1) if match else None


def default_base(dockerfile: Path) -> str | None:
    """The image a Dockerfile starts FROM when no BASE build argument is given."""
    match = _BASE_DEFAULT.search(dockerfile.read_text())
    return match.group(1) if match else None
