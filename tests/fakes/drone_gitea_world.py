"""What the tests of the Gitea-backed Drone fake share: Drone wired to the Gitea fake as
`drone_kit wire` does it (drone_kit's own Gitea client), and real git pushes."""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from drone_kit.clients.gitea import GiteaClient
from tests.fakes.drone_gitea import DroneConfig, DroneOnGitea
from tests.fakes.gitea import FakeGitea

ADMIN, PASSWORD = "gitea-admin", "admin-password"
PIPELINE = "kind: pipeline\ntype: kubernetes\nname: default\nsteps:\n- name: test\n  image: alpine\n"


@dataclass
class World:
    gitea: FakeGitea
    drone: DroneOnGitea
    gitea_token: str  # drone_kit's access token
    drone_token: str  # the admin's Drone API token, from DRONE_USER_CREATE
    config: DroneConfig

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.drone_token}"}
        return requests.request(method, f"{self.drone.url}/api{path}", headers=headers, timeout=10, **kwargs)

    def gitea_client(self) -> GiteaClient:
        return GiteaClient(self.gitea.url, token=self.gitea_token)

    def gitea_hooks(self, repo: str) -> list[dict]:
        """One GET, as Drone lists them: GiteaClient.hooks() pages, which the Gitea fake ignores."""
        answer = requests.get(f"{self.gitea.url}/api/v1/repos/{repo}/hooks", timeout=10,
                              headers={"Authorization": f"token {self.gitea_token}"})
        answer.raise_for_status()
        return answer.json()

    def drone_hooks(self, repo: str) -> list[dict]:
        return [h for h in self.gitea_hooks(repo) if urlsplit(h["config"]["url"]).netloc == self.drone.host]


def wire(gitea: FakeGitea, drone: DroneOnGitea, confidential: bool = True, **changes: Any) -> World:
    """What `drone_kit wire` does before the login: a token, the OAuth2 app, Drone configured."""
    token = GiteaClient(gitea.url, username=ADMIN, password=PASSWORD).create_token("drone_kit", ["all"]).sha1
    app = GiteaClient(gitea.url, token=token).create_oauth_app("drone", [f"http://{drone.host}/login"], confidential)
    drone_token = secrets.token_hex(16)
    seeded = f"username:{ADMIN},admin:true,token:{drone_token}"
    config = DroneConfig(gitea.url, app.client_id, app.client_secret, server_host=drone.host,
                         rpc_secret=secrets.token_hex(16), user_create=seeded)
    config = replace(config, **changes)
    drone.start(config)
    return World(gitea, drone, token, drone_token, config)


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "Alice", "GIT_COMMITTER_EMAIL": "a@example.com"}
    return subprocess.run(["git", "-c", "credential.helper=", "-c", "init.defaultBranch=main", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, check=True).stdout.strip()


def push_commit(world: World, repo: str, tmp_path: Path, files: dict[str, str], message: str) -> str:
    """Clone, commit `files`, push to main with the admin's password; the new commit's id."""
    work = tmp_path / f"clone-{secrets.token_hex(4)}"
    remote = f"http://{ADMIN}:{PASSWORD}@127.0.0.1:{world.gitea.server.port}/{repo}.git"
    git(tmp_path, "clone", "--quiet", remote, str(work))
    for name, text in files.items():
        (work / name).write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", message)
    git(work, "push", "--quiet", "origin", "HEAD:main")
    return git(work, "rev-parse", "HEAD")


def location(answer: requests.Response) -> tuple[str, dict[str, str]]:
    target = urlsplit(answer.headers["Location"])
    return target.path, {k: v[0] for k, v in parse_qs(target.query).items()}
