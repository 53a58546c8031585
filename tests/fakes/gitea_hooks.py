"""Repository hooks, their deliveries, and the hook tasks Gitea keeps of them.

CRUD as routers/api/v1/utils/hook.go does it: 422 "Invalid hook type: x", "Missing config option:
url|content_type", "Invalid content type"; no events means `push`; `active` false unless given;
`pull_request` covers its sub-events. Delivery as services/webhook/deliver.go does it: one POST,
5 s timeout, no retry; the headers below; HMAC-SHA256 (and SHA-1) of the exact body with the
hook's secret, headers present but empty without one; `Authorization` only when the hook has an
authorization header; a failure kept as "Delivery: <Go's error>". `POST …/hooks/{id}/tests` sends
the head commit of the default branch as a push, to the hook even if it is inactive
(PrepareWebhook does not look at `active`; only the push fan-out does) → 204.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tests.fakes import gitea_payloads
from tests.fakes.gitea_delivery import post
from tests.fakes.gitea_git import RefChange
from tests.fakes.gitea_json import Answer, api_error, go_indented, json_answer, no_content, not_found, paged_answer

if TYPE_CHECKING:
    from tests.fakes.gitea import FakeGitea, Repo, User

HOOK_TYPES = {"gitea", "gogs", "slack", "discord", "dingtalk", "telegram", "msteams", "feishu", "matrix",
              "wechatwork", "packagist"}
# webhook_module.AllEvents() order, which EventsArray() follows (inf.: from memory of modules/webhook/type.go)
PULL_EVENTS = ["pull_request", "pull_request_assign", "pull_request_label", "pull_request_milestone",
               "pull_request_comment", "pull_request_review_approved", "pull_request_review_rejected",
               "pull_request_review_comment", "pull_request_sync", "pull_request_review_request"]
ALL_EVENTS = ["create", "delete", "fork", "push", "issues", "issue_assign", "issue_label", "issue_milestone",
              "issue_comment", *PULL_EVENTS, "wiki", "repository", "release"]


@dataclass
class Hook:
    id: int
    type: str
    url: str
    content_type: str
    secret: str
    events: list[str]
    active: bool
    authorization_header: str = ""
    branch_filter: str = ""
    created: str = ""


@dataclass
class HookTask:
    """A delivery as Gitea's hook_task row keeps it."""
    id: int
    hook_id: int
    repo_full_name: str
    uuid: str
    event_type: str
    payload_content: bytes
    is_delivered: bool = False
    is_succeed: bool = False
    request_info: dict = field(default_factory=dict)
    response_info: dict = field(default_factory=dict)
    delivered: float = 0.0


def signatures(secret: str, body: bytes) -> tuple[str, str]:
    """(hex HMAC-SHA256, hex HMAC-SHA1) of the body, or empty strings without a secret."""
    if not secret:
        return "", ""
    return (hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            hmac.new(secret.encode(), body, hashlib.sha1).hexdigest())


def _events(chosen: list[str]) -> list[str]:
    wanted = set(chosen or ["push"])
    if "pull_request" in wanted:
        wanted |= set(PULL_EVENTS)
    return [e for e in ALL_EVENTS if e in wanted]


def hook_json(gitea: FakeGitea, repo: Repo, hook: Hook) -> dict:
    return {"id": hook.id, "type": hook.type, "branch_filter": hook.branch_filter,
            "config": {"content_type": hook.content_type, "url": hook.url}, "events": hook.events,
            "authorization_header": hook.authorization_header, "active": hook.active,
            "updated_at": hook.created, "created_at": hook.created}


def routes(gitea: FakeGitea, repo: Repo, method: str, rest: str, query: dict, form: dict) -> Answer:
    from tests.fakes.gitea import now_text
    if rest == "" and method == "GET":
        return paged_answer(gitea, f"/repos/{repo.full_name}/hooks", query,
                            [hook_json(gitea, repo, h) for h in repo.hooks])
    if rest == "" and method == "POST":
        config = form.get("config") or {}
        if form.get("type") not in HOOK_TYPES:
            return api_error(gitea, 422, f"Invalid hook type: {form.get('type') or ''}")
        for name in ("url", "content_type"):
            if name not in config:
                return api_error(gitea, 422, f"Missing config option: {name}")
        if config["content_type"] not in ("json", "form"):
            return api_error(gitea, 422, "Invalid content type")
        hook = Hook(gitea.next_id("hook"), form["type"], config["url"], config["content_type"],
                    config.get("secret") or "", _events(form.get("events") or []), bool(form.get("active")),
                    form.get("authorization_header") or "", form.get("branch_filter") or "", now_text())
        repo.hooks.append(hook)
        return json_answer(201, hook_json(gitea, repo, hook))
    found = next((h for h in repo.hooks if rest.split("/")[1:2] == [str(h.id)]), None)
    if found is None:
        return not_found(gitea)
    hook = found
    if rest == f"/{hook.id}" and method == "GET":
        return json_answer(200, hook_json(gitea, repo, hook))
    if rest == f"/{hook.id}" and method == "DELETE":
        repo.hooks.remove(hook)
        return no_content()
    if rest == f"/{hook.id}" and method == "PATCH":
        config = form.get("config") or {}
        if "content_type" in config and config["content_type"] not in ("json", "form"):
            return api_error(gitea, 422, "Invalid content type")
        hook.url = config.get("url", hook.url)
        hook.content_type = config.get("content_type", hook.content_type)
        hook.secret = config.get("secret", hook.secret)
        hook.events = _events(form.get("events") or [])  # editHook: events are replaced, none means push
        hook.authorization_header = form.get("authorization_header") or ""
        hook.branch_filter = form.get("branch_filter") or ""
        hook.active = form["active"] if form.get("active") is not None else hook.active
        return json_answer(200, hook_json(gitea, repo, hook))
    if rest == f"/{hook.id}/tests" and method == "POST":
        head = gitea.git.refs(repo).get(f"refs/heads/{repo.default_branch}")
        if head is not None and "push" in hook.events:
            change = RefChange(f"refs/heads/{repo.default_branch}", head, head)
            payload = gitea_payloads.events(gitea, repo, gitea.users_by_login[repo.owner.lower()], change)[0][1]
            payload["commits"] = [payload["head_commit"]]
            payload["total_commits"] = 1
            _queue(gitea, repo, hook, "push", payload)
        return no_content()
    return not_found(gitea)


def pushed(gitea: FakeGitea, repo: Repo, pusher: User, changes: list[RefChange]) -> None:
    """post-receive: the events of every changed ref, to every active hook that wants them."""
    with gitea.lock:
        for change in changes:
            for event, payload in gitea_payloads.events(gitea, repo, pusher, change):
                for hook in repo.hooks:
                    if hook.active and event in hook.events and _branch_allowed(hook, change, event):
                        _queue(gitea, repo, hook, event, payload)


def _branch_allowed(hook: Hook, change: RefChange, event: str) -> bool:
    """The branch filter applies to payloads about a branch; a tag has no branch to filter."""
    if hook.branch_filter in ("", "*") or not change.ref.startswith("refs/heads/") or event == "delete":
        return True
    return fnmatch.fnmatchcase(change.ref[len("refs/heads/"):], hook.branch_filter)


def _queue(gitea: FakeGitea, repo: Repo, hook: Hook, event: str, payload: dict) -> None:
    task = HookTask(gitea.next_id("hook_task"), hook.id, repo.full_name, str(uuid.uuid4()), event,
                    go_indented(payload))
    gitea.hook_tasks.append(task)
    gitea.deliverer.send(task, hook)


class Deliverer:
    """Gitea's hook queue: one worker, tasks in the order they were made."""

    def __init__(self, gitea: FakeGitea) -> None:
        self.gitea = gitea
        self.tasks: queue.Queue[tuple[HookTask, Hook] | None] = queue.Queue()
        self.worker = threading.Thread(target=self._run, name="fake-gitea-hooks", daemon=True)
        self.worker.start()

    def send(self, task: HookTask, hook: Hook) -> None:
        self.tasks.put((task, hook))

    def close(self) -> None:
        self.tasks.put(None)
        self.worker.join(timeout=10)

    def _run(self) -> None:
        while (item := self.tasks.get()) is not None:
            task, hook = item
            sha256, sha1 = signatures(hook.secret, task.payload_content)
            event = "pull_request" if task.event_type.startswith("pull_request") else task.event_type
            headers = {"Content-Type": "application/json"}
            for prefix in ("X-Gitea", "X-Gogs", "X-GitHub"):
                headers |= {f"{prefix}-Delivery": task.uuid, f"{prefix}-Event": event,
                            f"{prefix}-Event-Type": task.event_type}
            headers |= {"X-Gitea-Signature": sha256, "X-Gogs-Signature": sha256, "X-Hub-Signature": f"sha1={sha1}",
                        "X-Hub-Signature-256": f"sha256={sha256}"}
            if hook.authorization_header:
                headers["Authorization"] = hook.authorization_header
            task.request_info = {"url": hook.url, "http_method": "POST",
                                 "headers": {**headers, **({"Authorization": "******"}
                                                           if hook.authorization_header else {})}}
            status, response_headers, body = post(hook.url, headers, task.payload_content,
                                                  self.gitea.allowed_host_list, self.gitea.deliver_timeout,
                                                  self.gitea.routes)
            with self.gitea.lock:
                task.response_info = {"status": status, "headers": response_headers, "body": body}
                task.is_succeed = status // 100 == 2
                task.is_delivered = True
                task.delivered = time.time()
