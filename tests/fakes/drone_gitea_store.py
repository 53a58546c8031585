"""Drone's database for the Gitea-backed fake: users, repositories, cached permissions, builds.
It outlives restarts, as Drone's SQLite file on a volume does.

Sources (harness/harness branch `drone`, read not copied): core/user.go, core/repo.go,
core/build.go, core/stage.go (the JSON fields; the Gitea token, refresh token, expiry, API token,
signer and secret are never written out), cmd/drone-server/bootstrap/bootstrap.go (the seeded
account: created once, then only its token, machine and admin flags follow the configuration),
store/batch2/batch.go (a sync inserts repositories and gives the user a permission row).
"""

from __future__ import annotations

import secrets as random_tokens
import string
import threading
import time
from dataclasses import dataclass, field

from tests.fakes.drone_gitea_config import UserCreate

ALPHANUMERIC = string.ascii_letters + string.digits  # uniuri's alphabet


def uniuri(length: int = 32) -> str:
    """dchest/uniuri.NewLen: Drone's signers, repository secrets and generated API tokens."""
    return "".join(random_tokens.choice(ALPHANUMERIC) for _ in range(length))


@dataclass
class DroneUser:
    id: int
    login: str
    email: str = ""
    machine: bool = False
    admin: bool = False
    active: bool = True
    avatar: str = ""
    syncing: bool = False
    synced: int = 0
    created: int = field(default_factory=lambda: int(time.time()))
    updated: int = field(default_factory=lambda: int(time.time()))
    last_login: int = 0
    token: str = ""  # the Gitea OAuth access token: only a login through Gitea gives one
    refresh: str = ""
    expiry: int = 0
    hash: str = ""  # the Drone API token

    def json(self) -> dict:
        return {"id": self.id, "login": self.login, "email": self.email, "machine": self.machine,
                "admin": self.admin, "active": self.active, "avatar": self.avatar, "syncing": self.syncing,
                "synced": self.synced, "created": self.created, "updated": self.updated,
                "last_login": self.last_login}


@dataclass
class DroneRepo:
    id: int
    uid: str  # Gitea's repository id
    namespace: str
    name: str
    http_url: str = ""
    ssh_url: str = ""
    link: str = ""
    branch: str = ""
    private: bool = False
    user_id: int = 0  # whoever activated it: hooks and triggers use this user's Gitea token
    active: bool = False
    config_path: str = ""
    trusted: bool = False
    protected: bool = False
    timeout: int = 0
    counter: int = 0
    archived: bool = False
    signer: str = ""
    secret: str = ""
    synced: int = 0
    created: int = field(default_factory=lambda: int(time.time()))
    updated: int = field(default_factory=lambda: int(time.time()))
    version: int = 1
    builds: list[dict] = field(default_factory=list)  # oldest first
    pipelines: dict[int, str] = field(default_factory=dict)  # build number → the .drone.yml it read

    @property
    def slug(self) -> str:
        return f"{self.namespace}/{self.name}"

    def json(self, perms: dict | None = None) -> dict:
        out = {"id": self.id, "uid": self.uid, "user_id": self.user_id, "namespace": self.namespace,
               "name": self.name, "slug": self.slug, "scm": "", "git_http_url": self.http_url,
               "git_ssh_url": self.ssh_url, "link": self.link, "default_branch": self.branch,
               "private": self.private, "visibility": "private" if self.private else "public",
               "active": self.active, "config_path": self.config_path, "trusted": self.trusted,
               "protected": self.protected, "ignore_forks": False, "ignore_pull_requests": False,
               "auto_cancel_pull_requests": False, "auto_cancel_pushes": False, "auto_cancel_running": False,
               "timeout": self.timeout, "counter": self.counter, "synced": self.synced, "created": self.created,
               "updated": self.updated, "version": self.version, "archived": self.archived}
        return out | ({"permissions": perms} if perms is not None else {})


@dataclass
class Perm:
    read: bool = True
    write: bool = False
    admin: bool = False
    synced: int = 0  # 0: to be read from Gitea before it is trusted (acl/repo.go)


class DroneStore:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users: dict[int, DroneUser] = {}
        self.repos: dict[int, DroneRepo] = {}
        self.perms: dict[tuple[str, int], Perm] = {}  # (repo uid, user id)
        self._ids: dict[str, int] = {}

    def next_id(self, kind: str) -> int:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def user_by_login(self, login: str) -> DroneUser | None:
        return next((u for u in self.users.values() if u.login == login), None)

    def user_by_token(self, token: str) -> DroneUser | None:
        return next((u for u in self.users.values()
                     if u.hash and random_tokens.compare_digest(u.hash.encode(), token.encode())), None)

    def repo_by_name(self, namespace: str, name: str) -> DroneRepo | None:
        return next((r for r in self.repos.values() if (r.namespace, r.name) == (namespace, name)), None)

    def repos_of(self, user: DroneUser) -> list[DroneRepo]:
        """repos.List: the repositories the user has a permission row for, by slug."""
        mine = [r for r in self.repos.values() if (r.uid, user.id) in self.perms]
        return sorted(mine, key=lambda r: r.slug)

    def bootstrap(self, seeded: UserCreate) -> None:
        """bootstrap.go: create the account once; later starts only carry token, machine, admin."""
        if not seeded.username:
            return
        user = self.user_by_login(seeded.username)
        if user is None:
            self.add_user(seeded.username, admin=seeded.admin, machine=seeded.machine,
                          hash=seeded.token or uniuri())
            return
        changed = False
        if seeded.token and seeded.token != user.hash:
            user.hash, changed = seeded.token, True
        if (user.machine, user.admin) != (seeded.machine, seeded.admin):
            user.machine, user.admin, changed = seeded.machine, seeded.admin, True
        if changed:
            user.updated = int(time.time())

    def add_user(self, login: str, **fields: object) -> DroneUser:
        user = DroneUser(self.next_id("user"), login, **fields)  # type: ignore[arg-type]
        self.users[user.id] = user
        return user
