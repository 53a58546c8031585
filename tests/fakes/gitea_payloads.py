"""The events a push makes and their payloads, from the real git objects, as Gitea builds them
(services/repository/push.go pushUpdates, modules/repository/push.go, services/webhook/notifier.go,
modules/structs/hook.go; read, not copied):

- a new branch: `create`, then `push` with up to the last 10 commits of the branch;
- an updated branch: `push` with the commits new to it (`git rev-list old..new`);
- a deleted branch: `delete`;
- a new tag: `push` (`refs/tags/T`, no commits), then `create`; a deleted tag: `push` with a zero
  `after`, then `delete`.

Commits are listed newest first, as `git log` lists them (gitea#21252 asks to reverse it; not
done), at most FEED_MAX_COMMIT_NUM (5) of them, `total_commits` counting all.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from tests.fakes.gitea_git import ZERO, RefChange
from tests.fakes.gitea_json import repo_json, user_json

if TYPE_CHECKING:
    from tests.fakes.gitea import FakeGitea, Repo, User

FEED_MAX_COMMIT_NUM = 5  # [ui] FEED_MAX_COMMIT_NUM
OWNER_RIGHTS = {"admin": True, "push": True, "pull": True}  # webhooks show the repository as its owner sees it


def events(gitea: FakeGitea, repo: Repo, pusher: User, change: RefChange) -> list[tuple[str, dict]]:
    """(event, payload) in the order Gitea sends them for one changed ref."""
    is_tag = change.ref.startswith("refs/tags/")
    short = change.ref.split("/", 2)[2]
    kind = "tag" if is_tag else "branch"
    common = {"repository": repo_json(gitea, repo, OWNER_RIGHTS), "sender": user_json(gitea, pusher)}
    if change.after == ZERO:
        delete = {"ref": short, "ref_type": kind, "pusher_type": "user", **common}
        return [("push", _push(gitea, repo, pusher, change, [])), ("delete", delete)] if is_tag \
            else [("delete", delete)]
    create = {"sha": change.after, "ref": short, "ref_type": kind, **common}
    if is_tag:
        return [("push", _push(gitea, repo, pusher, change, [])), ("create", create)]
    span = [change.after, "--max-count=10"] if change.before == ZERO else [f"{change.before}..{change.after}"]
    shas = gitea.git.run(repo, "rev-list", *span).decode().split()
    push = _push(gitea, repo, pusher, change, shas)
    return [("create", create), ("push", push)] if change.before == ZERO else [("push", push)]


def _push(gitea: FakeGitea, repo: Repo, pusher: User, change: RefChange, shas: list[str]) -> dict:
    commits = [commit_json(gitea, repo, sha) for sha in shas[:FEED_MAX_COMMIT_NUM]]
    head = commit_json(gitea, repo, change.after) if change.after != ZERO else None
    old = change.before
    if old == ZERO and shas:
        parents = gitea.git.run(repo, "rev-list", "--parents", "-n", "1", shas[-1]).decode().split()[1:]
        old = parents[0] if parents else ZERO
    return {"ref": change.ref, "before": change.before, "after": change.after,
            "compare_url": f"{gitea.root_url}{repo.full_name}/compare/{old}...{change.after}",
            "commits": commits, "total_commits": len(shas), "head_commit": head,
            "repository": repo_json(gitea, repo, OWNER_RIGHTS), "pusher": user_json(gitea, pusher),
            "sender": user_json(gitea, pusher)}


def commit_json(gitea: FakeGitea, repo: Repo, sha: str) -> dict:
    """PayloadCommit from `git cat-file commit`: the raw message, the author's local time, and the
    files from `git diff-tree` against the first parent (all added for a root commit)."""
    sha = gitea.git.run(repo, "rev-parse", f"{sha}^{{commit}}").decode().strip()
    header, _, message = gitea.git.run(repo, "cat-file", "commit", sha).decode().partition("\n\n")
    people = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in header.splitlines()
              if line.startswith(("author ", "committer "))}
    author, when = _person(gitea, people["author"])
    committer, _ = _person(gitea, people["committer"])
    status = gitea.git.run(repo, "diff-tree", "--root", "--no-commit-id", "--no-renames", "-r", "-m",
                           "--first-parent", "--name-status", "-z", sha).decode().split("\0")
    files: dict[str, list[str]] = {"A": [], "D": [], "M": []}
    for letter, path in zip(status[0::2], status[1::2], strict=False):
        files.get(letter[:1], files["M"]).append(path)
    return {"id": sha, "message": message, "url": f"{gitea.root_url}{repo.full_name}/commit/{sha}",
            "author": author, "committer": committer, "verification": None, "timestamp": when,
            "added": files["A"], "removed": files["D"], "modified": files["M"]}


def _person(gitea: FakeGitea, line: str) -> tuple[dict, str]:
    """`Name <email> 1700000000 +0300` → PayloadUser (a Gitea user's name when the e-mail is one's)
    and Go's RFC 3339 time in the commit's own offset (`Z` for +0000)."""
    name, _, rest = line.partition(" <")
    email, _, stamp = rest.partition("> ")
    seconds, offset = stamp.split()
    sign = -1 if offset.startswith("-") else 1
    zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    when = datetime.fromtimestamp(int(seconds), zone).isoformat().replace("+00:00", "Z")
    known = next((u.login for u in gitea.users_by_id.values() if u.email.lower() == email.lower()), "")
    return {"name": name, "email": email, "username": known}, when
