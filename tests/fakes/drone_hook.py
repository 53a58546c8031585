"""How Drone 2 reads a Gitea hook, for the fake Drone: which events it parses at all, which
repository a hook names, whether the hook is signed with that repository's signer, and what the
hook becomes (a build, a deleted branch, a closed pull request, or nothing).

Sources (read, not copied): go-scm v1.42.2 (the version Drone 2.28 pins in its go.mod)
scm/driver/gitea/webhook.go, user.go, pr.go and scm/driver/internal/hmac/hmac.go; Drone's
service/hook/parser/parse.go and trigger/skip.go (harness/harness, branch `drone`).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field

ZERO_SHA = "0" * 40  # parse.go: a push to this commit deletes a branch or tag and is ignored
PARSED_EVENTS = ("push", "create", "delete", "issues", "issue_comment", "pull_request")
# The ref types a create/delete hook may name; go-scm drops any other as an unknown event.
REF_TYPES = ("branch", "tag")
# trigger/skip.go: a commit message or pull request title with one of these builds nothing.
SKIP_DIRECTIVES = ("[ci skip]", "[skip ci]", "***no_ci***")
# go-scm's Gitea driver understands both spellings; Drone builds only opened and synchronized.
PULL_ACTIONS = {"open": "opened", "opened": "opened", "synchronize": "synchronized",
                "synchronized": "synchronized", "close": "closed", "closed": "closed"}


class NotAHook(ValueError):
    """The body is not what go-scm can decode for the event: Drone answers 400 with the error."""


@dataclass(frozen=True)
class Reading:
    """A parsed hook: the repository it names (`slug`) and what Drone makes of it once the
    signature is good: "build", "branch-deleted", "pull-closed" or "ignored"."""

    slug: str
    kind: str
    build: dict = field(default_factory=dict)  # a build's fields, for kind "build"
    skip: bool = False  # the commit asks for no CI: Drone answers `null`


def signed_by(signer: str, body: bytes, header: str, query_secret: str) -> bool:
    """go-scm's Gitea check: with `X-Gitea-Signature` set, it must be the hex HMAC-SHA256 of the
    raw body keyed with the signer (either case, nothing around it); without it, `?secret=` must
    be the signer itself."""
    if header:
        try:
            claimed = binascii.unhexlify(header)  # like Go's hex.DecodeString: no spaces, no prefix
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(claimed, hmac.new(signer.encode(), body, hashlib.sha256).digest())
    return bool(query_secret) and query_secret == signer


def read(event: str, body: bytes) -> Reading | None:
    """What Drone's parser makes of a hook; None when it drops the hook before looking up its
    repository (an event or ref type it does not parse)."""
    if event not in PARSED_EVENTS:
        return None
    if event in ("create", "delete"):
        return _read_ref_hook(event, body)
    payload = _decode(body)
    slug = _slug(payload)
    if event == "push":
        return _read_push(slug, payload)
    if event == "pull_request":
        return _read_pull_request(slug, payload)
    return Reading(slug, "ignored")  # issues and comments parse, then become no hook


def _decode(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except ValueError as e:
        raise NotAHook(f"invalid JSON: {e}") from e  # Go's json words it differently
    if payload is None:
        return {}  # Go decodes `null` into an empty struct
    if not isinstance(payload, dict):
        raise NotAHook(f"json: cannot unmarshal {type(payload).__name__} into a Gitea hook")
    return payload


def _text(value: object, *path: str) -> str:
    """A string field by its path, "" when absent; a field of another type fails decoding as in Go."""
    for key in path:
        if value is None:
            return ""
        if not isinstance(value, dict):
            raise NotAHook(f"json: cannot unmarshal into {'.'.join(path)}")
        value = value.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise NotAHook(f"json: cannot unmarshal {type(value).__name__} into Go struct field {'.'.join(path)}")
    return value


def _slug(payload: dict) -> str:
    """user.go: the owner is its `username`, else its `login`; full_name is never read."""
    owner = _text(payload, "repository", "owner", "username") or _text(payload, "repository", "owner", "login")
    return f"{owner}/{_text(payload, 'repository', 'name')}"


def _read_ref_hook(event: str, body: bytes) -> Reading | None:
    try:
        payload = _decode(body)
        ref_type = _text(payload, "ref_type")
    except NotAHook:
        return None  # go-scm looks at ref_type before the decoding error: none is an unknown event
    if ref_type not in REF_TYPES:
        return None
    deleted_branch = event == "delete" and ref_type == "branch"
    # Tags come from the push hook Gitea also sends, and Drone makes no build of a new branch.
    return Reading(_slug(payload), "branch-deleted" if deleted_branch else "ignored")


def _read_push(slug: str, payload: dict) -> Reading:
    after, ref = _text(payload, "after"), _text(payload, "ref")
    if after == ZERO_SHA:
        return Reading(slug, "ignored")
    commits = payload.get("commits") or []
    first = commits[0] if isinstance(commits, list) and commits and isinstance(commits[0], dict) else None
    # go-scm keeps `before` and the commit's words only when the push lists commits.
    before = _text(payload, "before") if first else ""
    author = first.get("author") if first else payload.get("pusher")
    message = _text(first, "message") if first else ""
    tag = ref.startswith("refs/tags/")
    branch = "" if tag else ref.removeprefix("refs/heads/")
    action = "create" if tag or before == ZERO_SHA else ""
    build = {"event": "tag" if tag else "push", "action": action, "ref": ref, "before": before, "after": after,
             "message": message, "source": branch, "target": branch, "link": _text(payload, "compare_url"),
             "author_login": _text(author, "username") or _text(author, "login"),
             "author_name": _text(author, "name") or _text(author, "full_name"),
             "author_email": _text(author, "email"), "sender": _text(payload, "sender", "login")}
    return Reading(slug, "build", build, skip=not tag and _asks_to_skip(message))


def _read_pull_request(slug: str, payload: dict) -> Reading:
    action = PULL_ACTIONS.get(_text(payload, "action"))
    if action is None:
        return Reading(slug, "ignored")  # reopened, edited, labelled…: Drone builds nothing
    pull = payload.get("pull_request") or {}
    number = pull.get("number") if isinstance(pull, dict) else None
    ref = f"refs/pull/{number if isinstance(number, int) else 0}/head"
    if action == "closed":
        return Reading(slug, "pull-closed", {"ref": ref})
    title, text = _text(pull, "title"), _text(pull, "body")
    build = {"event": "pull_request", "action": action, "ref": ref, "title": title, "message": text or title,
             "before": _text(pull, "base", "sha"), "after": _text(pull, "head", "sha"),
             "source": _text(pull, "head", "ref"), "target": _text(pull, "base", "ref"),
             "link": _text(pull, "html_url"), "author_login": _text(pull, "user", "login"),
             "author_name": _text(pull, "user", "full_name"), "author_email": _text(pull, "user", "email"),
             "sender": _text(payload, "sender", "login")}
    return Reading(slug, "build", build, skip=_asks_to_skip(text) or _asks_to_skip(title))


def _asks_to_skip(text: str) -> bool:
    return any(directive in text.lower() for directive in SKIP_DIRECTIVES)
