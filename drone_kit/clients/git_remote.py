"""A git remote over HTTP, driven with the git command: clone, commit everything, push. The
credentials go to git through its environment (GIT_CONFIG_* carrying an Authorization header),
never in its arguments or a URL, so they are neither in `ps`, in .git/config, nor in git's
messages; what git says is still scrubbed of them before it is shown."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

from drone_kit.errors import DroneKitError

AUTHOR = ("drone_kit", "drone-kit@localhost")


class GitError(DroneKitError):
    pass


class GitRemote:
    def __init__(self, url: str, username: str, token: str, timeout: float = 120.0) -> None:
        self.url, self.timeout = url, timeout
        self._secrets = [token, base64.b64encode(f"{username}:{token}".encode()).decode()]
        header = f"Authorization: Basic {self._secrets[1]}"
        self._env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1",
                     "GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": "http.extraHeader", "GIT_CONFIG_VALUE_0": header,
                     "GIT_CONFIG_KEY_1": "credential.helper", "GIT_CONFIG_VALUE_1": "",
                     "GIT_AUTHOR_NAME": AUTHOR[0], "GIT_AUTHOR_EMAIL": AUTHOR[1],
                     "GIT_COMMITTER_NAME": AUTHOR[0], "GIT_COMMITTER_EMAIL": AUTHOR[1]}

    def git(self, cwd: Path, *args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=cwd, env=self._env, capture_output=True, text=True,
                                  timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]} with {self.url} took over {self.timeout:.0f}s",
                           hint="check that this machine reaches Gitea") from None
        if done.returncode != 0:
            said = self._scrubbed((done.stderr or done.stdout).strip().splitlines()[-1:] or [""])
            raise GitError(f"git {args[0]} with {self.url} failed: {said[0]}",
                           hint="check the Gitea URL and that drone_kit's token may push (`drone_kit wire`)")
        return done.stdout.strip()

    def clone(self, into: Path) -> Path:
        """A checkout of the remote's default branch (an empty repository gives an empty one)."""
        self.git(into.parent, "clone", "--quiet", self.url, str(into))
        return into

    def commit_all(self, checkout: Path, message: str) -> str:
        """Everything in the folder committed (an empty commit when nothing changed): its id."""
        self.git(checkout, "add", "--all")
        self.git(checkout, "commit", "--quiet", "--allow-empty", "-m", message)
        return self.git(checkout, "rev-parse", "HEAD")

    def push(self, checkout: Path, branch: str) -> None:
        self.git(checkout, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")

    def _scrubbed(self, lines: list[str]) -> list[str]:
        cleaned = []
        for line in lines:
            for secret in self._secrets:
                line = line.replace(secret, "***")
            cleaned.append(line)
        return cleaned
