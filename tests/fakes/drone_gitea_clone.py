"""The clone step of a build, for real: the build's commit fetched from the Gitea fake over smart
HTTP into a fresh directory, by the commands drone/git runs, their output in the step's log.

Sources (read, not copied): drone/drone-git posix/clone-commit and clone-tag (`git init` and
`git remote add origin`, untraced; then, traced by `set -x`, for a branch `git fetch origin
+refs/heads/BRANCH:` and `git checkout SHA -b BRANCH`; for a tag, the tag's ref and a forced
checkout of FETCH_HEAD).
The credentials travel in a header for each command, never in `.git/config`: the steps see the
checkout, and Drone's netrc is not in it either.
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

Write = Callable[[str], object]


def _commands(clone_url: str, build: dict) -> list[list[str]]:
    sha, ref, branch = build["after"], build.get("ref") or "", build.get("target") or ""
    if ref.startswith("refs/heads/") and branch:
        fetch, checkout = [f"+refs/heads/{branch}:"], ["checkout", sha, "-b", branch]
    else:
        fetch, checkout = [f"+{ref}:"], ["checkout", "-qf", "FETCH_HEAD"]
    return [["init"], ["remote", "add", "origin", clone_url], ["fetch", "origin", *fetch], checkout]


def clone_commit(clone_url: str, credentials: tuple[str, str], build: dict, workdir: Path, write: Write) -> int:
    """Fetch and check out the build's commit in `workdir`; the step's exit code (git's)."""
    workdir.mkdir(parents=True, exist_ok=True)
    token = base64.b64encode(":".join(credentials).encode()).decode()
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": "drone", "GIT_AUTHOR_EMAIL": "drone@localhost",
           "GIT_COMMITTER_NAME": "drone", "GIT_COMMITTER_EMAIL": "drone@localhost"}
    for args in _commands(clone_url, build):
        if args[0] in ("fetch", "checkout"):  # the scripts `set -x` only after init and remote add
            write("+ git " + " ".join(args))
        done = subprocess.run(["git", "-c", f"http.extraHeader=Authorization: Basic {token}",
                               "-c", "credential.helper=", "-c", "init.defaultBranch=master", *args],
                              cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
        for line in (done.stdout + done.stderr).splitlines():
            write(line)
        if done.returncode != 0:
            return done.returncode
    return 0
