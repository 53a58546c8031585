"""Drone's `/hook` for repositories it activated on Gitea, and the trigger that turns a push into
a build. Reading and signature follow tests/fakes/drone_hook.py (go-scm's gitea webhook.go).

Sources (read, not copied; harness/harness branch `drone`): handler/web/hook.go (parse with the
stored signer: none → 400 `Cannot find repository`; nothing parsed → 200 empty; inactive → 200
empty; deleted branch, closed pull request → 204; a trigger error → 500 `{"message"}`; else 200
with the build or `null`), trigger/trigger.go (skip directives; the activating user's token; the
configuration read before anything is stored, its error returned as is; one that does not parse
→ createBuildError: a build in status "error"; a build numbered by the repository's counter, one
pending stage per pipeline), plugin/config/repo.go and service/content/content.go (the file at
the commit, `config_path`, three attempts 15 s apart), go-scm scm/driver/gitea/content.go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import yaml

from tests.fakes import drone_hook
from tests.fakes.drone_answers import Answer, error_answer, json_answer, nothing
from tests.fakes.drone_gitea_scm import ScmError

if TYPE_CHECKING:
    from tests.fakes.drone_gitea import DroneOnGitea
    from tests.fakes.drone_gitea_store import DroneRepo

YAML_ATTEMPTS = 3  # content.go attempts (15 s apart in Drone; `DroneOnGitea.yaml_retry_wait` here)


def hook_answer(drone: DroneOnGitea, event: str, body: bytes, query: str, headers: Mapping[str, str]) -> Answer:
    try:
        reading = drone_hook.read(event, body)
    except drone_hook.NotAHook as e:
        return error_answer(400, str(e))
    if reading is None:
        return nothing()
    namespace, _, name = reading.slug.partition("/")
    with drone.store.lock:
        repo = drone.store.repo_by_name(namespace, name)
        signer = repo.signer if repo is not None else ""
    if repo is None or not signer:
        return error_answer(400, "Cannot find repository")
    query_secret = (parse_qs(query).get("secret") or [""])[0]
    if not drone_hook.signed_by(signer, body, headers.get("X-Gitea-Signature") or "", query_secret):
        return error_answer(400, "Invalid webhook signature")
    if reading.kind == "ignored" or not repo.active:
        return nothing()
    if reading.kind in ("branch-deleted", "pull-closed"):
        return nothing(204)
    if reading.skip:
        return json_answer(200, None)
    return _trigger(drone, repo, reading.build)


def _trigger(drone: DroneOnGitea, repo: DroneRepo, fields: dict) -> Answer:
    owner = drone.store.users.get(repo.user_id)
    if owner is None:
        return error_answer(500, "sql: no rows in result set")
    if not owner.active:
        return json_answer(200, None)
    try:
        drone.scm.renew(owner)
        config = _read_config(drone, owner.token, repo, fields["after"])
    except ScmError as e:
        return error_answer(500, str(e))
    with drone.store.lock:
        build = _new_build(drone, repo, fields, config)
        repo.builds.append(build)
        repo.pipelines[build["number"]] = config
        shown = dict(build)
        repo_shown = repo.json()
    if build["status"] == "pending" and drone.on_build is not None:
        # Drone answers the hook once the build is queued; a runner takes it up afterwards.
        threading.Thread(target=drone.on_build, args=(dict(build), repo_shown), daemon=True,
                         name=f"build {repo.slug}#{build['number']}").start()
    return json_answer(200, shown)


def _read_config(drone: DroneOnGitea, token: str, repo: DroneRepo, commit: str) -> str:
    failure = ScmError("Not Found")
    for attempt in range(YAML_ATTEMPTS):
        try:
            return drone.scm.raw_file(token, repo.slug, commit, repo.config_path).decode()
        except ScmError as e:
            failure = e
            if attempt + 1 < YAML_ATTEMPTS:
                time.sleep(drone.yaml_retry_wait)
    raise failure


def _pipelines(config: str) -> list[dict]:
    """The manifest's pipelines; yaml.YAMLError when it does not parse."""
    return [doc for doc in yaml.safe_load_all(config)
            if isinstance(doc, dict) and doc.get("kind", "pipeline") == "pipeline"]


def _new_build(drone: DroneOnGitea, repo: DroneRepo, fields: dict, config: str) -> dict:
    now = int(time.time())
    repo.counter += 1
    build = {"id": drone.store.next_id("build"), "repo_id": repo.id, "trigger": "@hook", "number": repo.counter,
             "status": "pending", "event": "", "action": "", "link": "", "timestamp": 0, "message": "",
             "before": "", "after": "", "ref": "", "source_repo": "", "source": "", "target": "",
             "author_login": "", "author_name": "", "author_email": "", "author_avatar": "", "sender": "",
             **fields, "started": 0, "finished": 0, "created": now, "updated": now, "version": 1}
    try:
        pipelines = _pipelines(config)
    except yaml.YAMLError as e:
        return build | {"status": "error", "error": str(e).splitlines()[0], "started": now, "finished": now}
    build["stages"] = [{"id": drone.store.next_id("stage"), "repo_id": repo.id, "build_id": build["id"],
                        "number": index, "name": str(doc.get("name") or "default"), "kind": "pipeline",
                        "type": str(doc.get("type") or "docker"), "status": "pending", "errignore": False,
                        "exit_code": 0, "os": "linux", "arch": "amd64", "started": 0, "stopped": 0,
                        "created": now, "updated": now, "version": 1, "on_success": True,
                        "on_failure": False}
                       for index, doc in enumerate(pipelines, start=1)]
    return build
