"""The build context of a local git checkout, as the DRONE_* variables Drone would set."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def drone_variables(repo: Path, event: str = "", build_number: int = 1) -> dict[str, str]:
    """DRONE_* for a local run: commit, branch, tag (when HEAD is tagged), repo from the origin URL."""
    sha = _git(repo, "rev-parse", "HEAD")
    branch = _git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    tag = _git(repo, "describe", "--tags", "--exact-match", "HEAD")
    origin = _git(repo, "remote", "get-url", "origin").removesuffix(".git")
    slug = "/".join(origin.replace(":", "/").split("/")[-2:]) if origin else f"local/{repo.resolve().name}"
    event = event or ("tag" if tag else "push")
    ref = f"refs/tags/{tag}" if event == "tag" else f"refs/heads/{branch}"
    owner, _, name = slug.partition("/")
    return {
        "CI": "true", "DRONE": "true", "DRONE_WORKSPACE": "/drone/src", "DRONE_BUILD_NUMBER": str(build_number),
        "DRONE_BUILD_EVENT": event, "DRONE_REPO": slug, "DRONE_REPO_OWNER": owner, "DRONE_REPO_NAME": name,
        "DRONE_COMMIT_SHA": sha, "DRONE_COMMIT": sha, "DRONE_COMMIT_REF": ref,
        "DRONE_BRANCH": branch if branch != "HEAD" else "", "DRONE_COMMIT_BRANCH": branch if branch != "HEAD" else "",
        "DRONE_TAG": tag if event == "tag" else "",
    }


def tracked_files(repo: Path) -> list[str] | None:
    """Files git tracks (and untracked ones it does not ignore); None outside a git checkout."""
    output = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True)
    if output.returncode != 0:
        return None
    return [name for name in output.stdout.decode().split("\0") if name]
