"""What the shim decides about a hook, as pure functions: what of it is stored, whether Drone should
build from it, what Drone's answer means, when to stop retrying, and whether a build of Drone's
came from it.

Drone's `/hook` answers (drone handler/web/hook.go, go-scm's Gitea parser): a build → 200 with its
JSON (`null` when the commit asks to skip CI; a build in status "error" when its `.drone.yml` does
not parse); an event it ignores → 200 with nothing; a repository activated once and since disabled
→ 200 with nothing, no build; a deleted branch → 204; a repository Drone does not know, or knows
but never activated (no signer yet) → 400 "Cannot find repository"; a trigger error (no
`.drone.yml`, an expired Gitea token) → 500 with the error; Drone down or restarting → no answer,
502 or 503.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from drone_kit.clients.retry import transient_status

ZERO_SHA = "0" * 40
TRIGGER_HOOK = "@hook"  # a build's `trigger` when a hook made it (drone core/trigger.go)

# What Drone's hook parser reads, minus anything secret: the signature is made again from the
# configured hook secret when the hook is sent, and Gitea's optional Authorization header is
# not Drone's business.
STORED_HEADERS = ("content-type", "x-gitea-delivery", "x-gitea-event", "x-gitea-event-type")
SECRET_QUERY_PARAMETERS = ("secret", "access_token", "token")

# A pull request Drone builds (go-scm's Gitea driver: opened → open, synchronized → sync; it drops
# the other actions).
BUILT_PULL_REQUEST_ACTIONS = ("opened", "synchronized")


@dataclass(frozen=True)
class RetryLimits:
    """A hook Drone keeps refusing is given up after `attempts` attempts or once `age` seconds
    have passed since its first attempt, whichever comes first."""

    attempts: int = 100
    age: float = 3600.0


def stored_headers(headers: dict[str, str]) -> dict[str, str]:
    """Pure: the headers of a Gitea delivery worth keeping, by lowercase name."""
    return {name.lower(): value for name, value in headers.items() if name.lower() in STORED_HEADERS}


def query_without_secrets(query: str) -> str:
    """Pure: the hook URL's query string without `?secret=` (Drone's signer) or any token."""
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() not in SECRET_QUERY_PARAMETERS]
    return urlencode(kept)


def expects_build(event: str, body: bytes) -> bool:
    """Pure: whether Drone builds from this hook when the repository is active: a push of a commit
    (not a deletion) or a pull request opened or updated."""
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    if not isinstance(payload, dict):
        return False
    if event == "push":
        return str(payload.get("after") or ZERO_SHA) != ZERO_SHA
    if event == "pull_request":
        return payload.get("action") in BUILT_PULL_REQUEST_ACTIONS
    return False


def delivery_outcome(status: int | None, body: str, auto_activate: bool, build_expected: bool = False) -> str:
    """Pure: "delivered"; "retry" (no answer, 5xx, 429); "sync" (ask Drone to sync its repositories,
    activate, then retry); "not-found" (Drone has no active repository of that name: whether it
    knows one, not activated, only its API can tell); "inactive" (the repository is disabled in
    Drone: it builds nothing); "activate" (activate it again, then retry); or "failed"."""
    if status is None or transient_status(status):
        return "retry"
    if 200 <= status < 300:
        if build_expected and status == 200 and not body.strip():
            return "activate" if auto_activate else "inactive"
        return "delivered"
    if "cannot find repository" in body.lower():
        return "sync" if auto_activate else "not-found"
    return "failed"


def gives_up(attempts: int, first_attempt: float | None, now: float, limits: RetryLimits) -> bool:
    """Pure: after a failed attempt (the `attempts`-th), whether to stop retrying this hook."""
    age = now - first_attempt if first_attempt is not None else 0.0
    return attempts >= limits.attempts or age >= limits.age


def build_of(event: str, payload: dict, build: dict, not_before: float) -> bool:
    """Pure: whether Drone's `build` was made from this hook (its parsed body): triggered by a hook
    (not a restart, promotion, rollback, cron or manual build of the same commit, whose trigger is
    a user or "@cron"), of the event, commit and ref Drone makes of this hook, and created no
    earlier than `not_before` (an earlier push of the same commit to the same ref made its own)."""
    if build.get("trigger") != TRIGGER_HOOK or (build.get("created") or 0) < not_before:
        return False
    if event == "push":
        ref = str(payload.get("ref") or "")
        built_as = "tag" if ref.startswith("refs/tags/") else "push"
        return build.get("event") == built_as and build.get("after") == payload.get("after") and build.get("ref") == ref
    if event == "pull_request":
        pull = payload.get("pull_request") or {}
        head = (pull.get("head") or {}).get("sha")
        return (build.get("event") == "pull_request" and build.get("after") == head
                and build.get("ref") == f"refs/pull/{pull.get('number')}/head")
    return False
