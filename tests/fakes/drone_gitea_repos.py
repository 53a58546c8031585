"""Drone's repositories on Gitea: the account sync, and activation with its Gitea hook.

Sources (read, not copied; harness/harness branch `drone`): service/syncer/syncer.go and util.go
(remote repositories inserted, changed ones merged, missing ones lose the user's permission;
archived ones skipped), service/repo/util.go (convertRepository), store/batch2/batch.go (every
permission of the user marked unsynced; a new one reads but neither writes nor administers until
Gitea says otherwise), handler/api/repos/enable.go (a signer and a secret drawn only when the
repository has none, DRONE_FEATURE_SERVER_PROXY_SECRET overriding the signer; config path and
timeout defaulted; the hook made before the repository is saved, its failure a 500 with the
error), service/hook/hook.go and util.go (replaceHook: list 100 hooks, delete the *first* whose
URL host is the proxy host, create the new one; target `{proxy addr}/hook`), update.go, disable.go
(the hook stays in Gitea), repair.go (the activating user's token, not the caller's).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tests.fakes.drone_gitea_store import DroneRepo, DroneUser, Perm, uniuri

if TYPE_CHECKING:
    from tests.fakes.drone_gitea import DroneOnGitea

# The fields a sync compares and copies (util.go diff and merge).
SYNCED_FIELDS = ("namespace", "name", "http_url", "ssh_url", "private", "branch")


def _remote(gitea_repo: dict) -> dict:
    owner = gitea_repo.get("owner") or {}
    return {"uid": str(gitea_repo.get("id") or 0),
            "namespace": owner.get("username") or owner.get("login") or "", "name": gitea_repo.get("name") or "",
            "http_url": gitea_repo.get("clone_url") or "", "ssh_url": gitea_repo.get("ssh_url") or "",
            "link": gitea_repo.get("html_url") or "", "private": bool(gitea_repo.get("private")),
            "branch": gitea_repo.get("default_branch") or "", "archived": bool(gitea_repo.get("archived"))}


def sync(drone: DroneOnGitea, user: DroneUser) -> list[DroneRepo]:
    """Syncer.Sync: Drone's copy of the user's Gitea repositories, read with the user's token."""
    store = drone.store
    with store.lock:
        user.syncing = True
    try:
        drone.scm.renew(user)
        remote = {r["uid"]: r for r in map(_remote, drone.scm.list_repos(user.token))
                  if not r["archived"] and r["namespace"] and r["name"]}
        with store.lock:
            now = int(time.time())
            local = {r.uid: r for r in store.repos_of(user)}
            for perm_key, perm in store.perms.items():
                if perm_key[1] == user.id:
                    perm.synced = 0
            for uid, fields in remote.items():
                repo = local.get(uid) or next((r for r in store.repos.values() if r.uid == uid), None)
                if repo is None:
                    repo = DroneRepo(store.next_id("repo"), **fields)
                    store.repos[repo.id] = repo
                    repo.synced = now
                elif any(getattr(repo, f) != fields[f] for f in SYNCED_FIELDS) or (fields["link"] and
                                                                                  repo.link != fields["link"]):
                    for name in SYNCED_FIELDS:
                        setattr(repo, name, fields[name])
                    repo.link = fields["link"] or repo.link
                    repo.synced = repo.updated = now
                store.perms.setdefault((uid, user.id), Perm())
            for uid in set(local) - set(remote):
                store.perms.pop((uid, user.id), None)
            drone.syncs.append(user.login)
            return store.repos_of(user)
    finally:
        with store.lock:
            user.syncing, user.synced = False, int(time.time())


def replace_hook(drone: DroneOnGitea, user: DroneUser, repo: DroneRepo) -> None:
    """The hook service's Create: the proxy host's old hook out, a new one signed with the signer in."""
    drone.scm.renew(user)
    target = f"{drone.config.hook_addr}/hook"
    host = urlsplit(target).netloc
    for hook in drone.scm.hooks(user.token, repo.slug):
        if urlsplit((hook.get("config") or {}).get("url") or "").netloc == host:
            drone.scm.delete_hook(user.token, repo.slug, int(hook["id"]))
            break  # findHook returns the first match only
    drone.scm.create_hook(user.token, repo.slug, target, repo.signer)


def enable(drone: DroneOnGitea, user: DroneUser, repo: DroneRepo) -> None:
    """enable.go on the stored repository; a hook that cannot be made leaves it as it was."""
    before = (repo.user_id, repo.config_path, repo.signer, repo.secret, repo.timeout)
    repo.user_id = user.id
    repo.config_path = repo.config_path or ".drone.yml"
    repo.signer = drone.config.proxy_secret or repo.signer or uniuri()
    repo.secret = repo.secret or uniuri()
    repo.timeout = repo.timeout or 60
    try:
        replace_hook(drone, user, repo)
    except Exception:
        repo.user_id, repo.config_path, repo.signer, repo.secret, repo.timeout = before
        raise
    repo.active = True
    repo.updated = int(time.time())


def update(repo: DroneRepo, user: DroneUser, changes: dict) -> None:
    """update.go: anyone with admin access sets these; only a Drone admin trust, timeout, counter."""
    if "config_path" in changes:
        repo.config_path = str(changes["config_path"] or "")
    if "protected" in changes:
        repo.protected = bool(changes["protected"])
    if user.admin:
        if "trusted" in changes:
            repo.trusted = bool(changes["trusted"])
        if "timeout" in changes:
            repo.timeout = int(changes["timeout"] or 0)
        if "counter" in changes:
            repo.counter = int(changes["counter"] or 0)
    repo.updated = int(time.time())


def repair(drone: DroneOnGitea, repo: DroneRepo) -> None:
    """repair.go: the repository re-read and its hook replaced, as the user who activated it."""
    owner = drone.store.users.get(repo.user_id)
    if owner is None:
        raise LookupError("sql: no rows in result set")
    drone.scm.renew(owner)
    fields = _remote(drone.scm.find_repo(owner.token, repo.slug))
    repo.branch, repo.http_url, repo.private = fields["branch"], fields["http_url"], fields["private"]
    repo.ssh_url, repo.link = fields["ssh_url"], fields["link"] or repo.link
    replace_hook(drone, owner, repo)
