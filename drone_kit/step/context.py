"""The build a plugin runs in, as Drone describes it with DRONE_* variables. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Semantic versioning 2.0.0, with the leading "v" that git tags usually carry.
_SEMVER = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<prerelease>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)


@dataclass(frozen=True)
class Semver:
    major: int
    minor: int
    patch: int
    prerelease: str = ""
    build: str = ""

    @property
    def short(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def parse_semver(tag: str) -> Semver | None:
    """Pure: the semantic version a tag names (`v1.2.3`, `1.2.3-rc.1+build.5`), or None."""
    match = _SEMVER.match(tag.strip())
    if not match:
        return None
    return Semver(
        int(match["major"]), int(match["minor"]), int(match["patch"]), match["prerelease"] or "", match["build"] or ""
    )


@dataclass(frozen=True)
class BuildContext:
    repo: str = ""  # owner/name
    repo_link: str = ""
    commit_sha: str = ""
    commit_link: str = ""
    branch: str = ""
    tag: str = ""
    event: str = ""  # push, tag, pull_request, promote, rollback, cron, custom
    build_number: int = 0
    build_link: str = ""
    workspace: Path = Path(".")
    card_path: str = ""
    cards_url: str = ""  # where the card templates are served (DRONE_KIT_CARDS_URL)
    semver: Semver | None = None

    @property
    def repo_owner(self) -> str:
        return self.repo.partition("/")[0]

    @property
    def repo_name(self) -> str:
        return self.repo.partition("/")[2]

    @property
    def short_sha(self) -> str:
        return self.commit_sha[:8]

    @property
    def in_drone(self) -> bool:
        return self.build_number > 0


def read_context(environ: Mapping[str, str], cwd: Path) -> BuildContext:
    """Pure: the build context from Drone's variables; outside Drone, an empty one in `cwd`."""

    def env(*names: str) -> str:
        return next((environ[n].strip() for n in names if environ.get(n, "").strip()), "")

    owner, name = env("DRONE_REPO_OWNER", "DRONE_REPO_NAMESPACE"), env("DRONE_REPO_NAME")
    tag = env("DRONE_TAG")
    number = env("DRONE_BUILD_NUMBER")
    return BuildContext(
        repo=env("DRONE_REPO") or (f"{owner}/{name}" if owner and name else ""),
        repo_link=env("DRONE_REPO_LINK"),
        commit_sha=env("DRONE_COMMIT_SHA", "DRONE_COMMIT"),
        commit_link=env("DRONE_COMMIT_LINK"),
        branch=env("DRONE_BRANCH", "DRONE_COMMIT_BRANCH"),
        tag=tag,
        event=env("DRONE_BUILD_EVENT"),
        build_number=int(number) if number.isdigit() else 0,
        build_link=env("DRONE_BUILD_LINK"),
        workspace=Path(env("DRONE_WORKSPACE") or cwd),
        card_path=env("DRONE_CARD_PATH"),
        cards_url=env("DRONE_KIT_CARDS_URL"),
        semver=parse_semver(env("DRONE_SEMVER") or tag) if tag else None,
    )
