"""Which tags an image gets. Pure.

Precedence: the `tags` setting, else a `.tags` file in the workspace (as plugins/docker reads
it), else `latest` plus the short commit sha. `auto_tag` adds the semver expansion of a git tag
(`v1.2.3` → 1, 1.2, 1.2.3) on tag events; on other events it changes nothing and the build
still runs, so a pipeline never passes without pushing anything.
"""

from __future__ import annotations

import re

from drone_kit.images.reference import is_valid_tag
from drone_kit.step.context import BuildContext


def parse_tags_file(text: str) -> list[str]:
    """Pure: the tags of a `.tags` file: comma or newline separated, whitespace trimmed."""
    return [tag.strip() for tag in re.split(r"[,\n]", text) if tag.strip()]


def semver_tags(context: BuildContext) -> list[str]:
    """Pure: `1`, `1.2`, `1.2.3` for tag v1.2.3; only the full version for a pre-release; no bare `0`."""
    version = context.semver
    if version is None:
        return []
    full = version.short + (f"-{version.prerelease}" if version.prerelease else "")
    if version.prerelease:
        return [full]
    major = [str(version.major)] if version.major > 0 else []
    return [*major, f"{version.major}.{version.minor}", full]


def image_tags(
    explicit: list[str] | None, tags_file: str | None, auto_tag: bool, context: BuildContext
) -> list[str]:
    """Pure: the tags to push, in order, without duplicates. ValueError names an invalid tag."""
    if explicit:
        tags = list(explicit)
    elif tags_file is not None and parse_tags_file(tags_file):
        tags = parse_tags_file(tags_file)
    else:
        tags = ["latest", *([context.short_sha] if context.short_sha else [])]
    if auto_tag and context.event == "tag":
        if context.semver is None:
            raise ValueError(f"auto_tag: git tag {context.tag!r} is not a semantic version like v1.2.3")
        tags += semver_tags(context)
    for tag in tags:
        if not is_valid_tag(tag):
            raise ValueError(f"{tag!r} is not a valid image tag (letters, digits, _ . -; at most 128)")
    return list(dict.fromkeys(tags))
