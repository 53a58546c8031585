"""What went wrong with a hook, from the shim's record of it, in an operator's words and with the
fix. The record's `error` is what the shim wrote: Drone's answer as `HTTP <status>: <body>` (Drone's
errors are `{"message": …}`; its words are handler/web/hook.go's, see tests/fakes/drone.py),
`Drone unreachable: <exception>` when Drone did not answer, or a note of the shim's own. Pure."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

from drone_kit.platform.components import shim
from drone_kit.platform.config import DRONE_KIT_NAMESPACE, DRONE_NAMESPACE
from drone_kit.platform.findings import Finding, failed, warning

CHECK = "hooks"
REPLAY = f"kubectl -n {DRONE_KIT_NAMESPACE} exec deploy/{shim.NAME} -- drone_kit shim replay"
DRONE_LOG = f"kubectl -n {DRONE_NAMESPACE} logs deploy/drone --tail 50"
_ANSWER = re.compile(r"^HTTP (\d{3}): ?(.*)$", re.DOTALL)


def when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def hooks_count(count: int) -> str:
    return f"{count} hook{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Explanation:
    cause: str  # what happened, one clause
    fix: tuple[str, ...]  # what to do, one line each


def drone_answer(error: str) -> tuple[int | None, str]:
    """Pure: (Drone's status, its message) from the shim's `HTTP 400: {"message":"…"}`; (None, the
    note) for anything else."""
    found = _ANSWER.match(error.strip())
    if found is None:
        return None, " ".join(error.split())
    status, body = int(found.group(1)), found.group(2).strip()
    try:
        said = json.loads(body)
    except ValueError:
        said = None
    message = said.get("message") if isinstance(said, dict) else None
    return status, " ".join(str(message or body).split())[:200]


def resign_fix(repo: str, hook_page: str) -> tuple[str, ...]:
    """Pure: how a repository's hook and Drone's record of it get the shim's signer again."""
    return ("drone_kit wire  (Drone's DRONE_FEATURE_SERVER_PROXY_SECRET becomes the shim's signer)",
            f"delete {repo}'s hook to the shim in Gitea ({hook_page}), then drone_kit wire repo {repo}: "
            "activated again, Drone makes the hook anew, signed with that signer")


def explain(error: str, repo: str, hook_page: str) -> Explanation:
    """Pure: why Drone did not take a hook of `repo`, and what to do."""
    status, message = drone_answer(error)
    words = message.lower()
    said = f"HTTP {status} {message}" if status else message
    if "cannot find repository" in words:
        return Explanation(f"Drone answered {said}: it does not know {repo}, or has never activated it",
                           (f"drone_kit wire repo {repo}",))
    if "invalid webhook signature" in words:
        return Explanation(f"Drone answered {said}: it checks {repo}'s hooks with another signer than the "
                           "shim's (activated before `drone_kit wire` gave Drone the shim's signer)",
                           resign_fix(repo, hook_page))
    if status is None and words.startswith("drone unreachable"):
        return Explanation(f"Drone did not answer ({message})",
                           ("drone_kit status  (is Drone up?)", DRONE_LOG))
    if status is not None and status >= 500:
        return Explanation(f"Drone answered {said}: it could not start the build",
                           (f"{DRONE_LOG}  (a {repo} without .drone.yml on that commit, or the admin's Gitea "
                            "login expired: log in to Drone once more)",))
    if status is not None:
        return Explanation(f"Drone refused it: {said}", (DRONE_LOG,))
    return Explanation(message or "no reason recorded", (DRONE_LOG,))


def ignored(repo: str) -> Explanation:
    """Pure: Drone took the hook and built nothing: the repository is disabled in Drone."""
    return Explanation(f"Drone has {repo} disabled: it takes its hooks and builds nothing",
                       (f"drone_kit wire repo {repo}  (activates it again)",))


def _hook(record: dict) -> str:
    return f"hook {record.get('id')} ({record.get('event')}, {when(float(record.get('received') or 0))})"


def drone_answers(repo: str, records: list[dict], page: str) -> list[Finding]:
    """Pure: what the shim's record of a repository's hooks (newest first) says of Drone's answers:
    the latest hook, then older failures never sent again."""
    if not records:
        return []
    latest, status = records[0], records[0].get("status")
    why = explain(str(latest.get("error") or ""), repo, page)
    if status == "failed":
        return [failed(CHECK, f"{repo}: Drone did not take its latest {_hook(latest)}: {why.cause}",
                       [*why.fix, f"then send it to Drone again: {REPLAY} {latest.get('id')}"])]
    if status in ("pending", "sending") and latest.get("attempts") and latest.get("error"):
        return [warning(CHECK, f"{repo}: {_hook(latest)} is still waiting for Drone after {latest.get('attempts')} "
                        f"attempts: {why.cause}", [*why.fix, "the shim keeps trying for an hour (--retry-age), "
                                                   "then marks it failed"])]
    if status == "ignored":
        return [warning(CHECK, f"{repo}: {_hook(latest)}: {ignored(repo).cause}", ignored(repo).fix)]
    older = [r for r in records[1:] if r.get("status") == "failed"]
    if status == "delivered" and older:
        last = explain(str(older[0].get("error") or ""), repo, page)
        return [warning(CHECK, f"{repo}: earlier hooks failed for good and were never sent again ({len(older)}; "
                        f"the last, {_hook(older[0])}: {last.cause})",
                        [f"{REPLAY} --failed  (only if those pushes should still build: each one builds again)"])]
    return []
