"""Git over smart HTTP, for real: a bare repository per Gitea repository, served by `git
http-backend` as a CGI, with Gitea's checks in front (routers/web/repo/githttp.go httpBase: a
pull from a public repository is anonymous; a push, or any access to a private repository, needs
Basic auth, a password or a token, else 401 with `WWW-Authenticate: Basic realm="Gitea"`; a user
who may not write gets 403 "User permission denied"). The refs are read before and after each
receive-pack, and what changed goes to the hooks (tests/fakes/gitea_hooks.py), as Gitea's
post-receive does.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import ParseResult

from tests.fakes import gitea_auth
from tests.fakes.gitea_json import Answer, plain

if TYPE_CHECKING:
    from requests.structures import CaseInsensitiveDict

    from tests.fakes.gitea import FakeGitea, Repo, User

GIT_PATH = re.compile(r"/([^/]+)/([^/]+?)(?:\.git)?(/(?:info/refs|git-upload-pack|git-receive-pack|HEAD|objects/.+))")
ZERO = "0" * 40


@dataclass(frozen=True)
class RefChange:
    ref: str
    before: str
    after: str


class GitRepos:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, repo: Repo) -> Path:
        return self.root / repo.owner.lower() / f"{repo.name.lower()}.git"

    def run(self, repo: Repo, *args: str, data: bytes | None = None, env: dict | None = None) -> bytes:
        return subprocess.run(["git", "-C", str(self.path(repo)), *args], input=data, check=True,
                              capture_output=True, env={**os.environ, **(env or {})}).stdout

    def create(self, repo: Repo, auto_init: bool, author: User) -> None:
        self.path(repo).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "--quiet", "--bare", f"--initial-branch={repo.default_branch}",
                        str(self.path(repo))], check=True)
        if auto_init:  # Gitea's initial commit: a README.md with the name and the description
            blob = self.run(repo, "hash-object", "-w", "--stdin",
                            data=f"# {repo.name}\n\n{repo.description}".encode()).decode().strip()
            tree = self.run(repo, "mktree", data=f"100644 blob {blob}\tREADME.md\n".encode()).decode().strip()
            who = {"GIT_AUTHOR_NAME": author.login, "GIT_AUTHOR_EMAIL": author.email,
                   "GIT_COMMITTER_NAME": author.login, "GIT_COMMITTER_EMAIL": author.email}
            commit = self.run(repo, "commit-tree", tree, "-m", "Initial commit", env=who).decode().strip()
            self.run(repo, "update-ref", f"refs/heads/{repo.default_branch}", commit)

    def refs(self, repo: Repo) -> dict[str, str]:
        lines = self.run(repo, "for-each-ref", "--format=%(objectname) %(refname)").decode().splitlines()
        return {ref: sha for sha, ref in (line.split(" ", 1) for line in lines)}

    def ref_names(self, repo: Repo) -> list[str]:
        return [re.sub(r"^refs/(heads|tags)/", "", ref) for ref in self.refs(repo)]

    def is_empty(self, repo: Repo) -> bool:
        return not any(ref.startswith("refs/heads/") for ref in self.refs(repo))

    def has_commit(self, repo: Repo, sha: str) -> bool:
        try:
            self.run(repo, "cat-file", "-e", f"{sha}^{{commit}}")
        except subprocess.CalledProcessError:
            return False
        return True

    def read_file(self, repo: Repo, ref: str, path: str) -> bytes | None:
        try:
            return self.run(repo, "cat-file", "blob", f"{ref}:{path}")
        except subprocess.CalledProcessError:
            return None

    def is_git_path(self, path: str) -> bool:
        return GIT_PATH.fullmatch(path) is not None


def git_answer(gitea: FakeGitea, method: str, url: ParseResult, headers: CaseInsensitiveDict, body: bytes,
               client: str) -> Answer:
    match = GIT_PATH.fullmatch(url.path)
    assert match is not None
    with gitea.lock:
        repo = gitea.repo(f"{match[1]}/{match[2]}")
        if repo is None:
            return plain(404, "Repository not found")
        pushing = "git-receive-pack" in url.path or "service=git-receive-pack" in url.query
        user = None
        words = (headers.get("Authorization") or "").split()
        if len(words) == 2 and words[0].lower() == "basic":
            try:
                user = gitea_auth.basic_caller(gitea, words[1]).user
            except gitea_auth.BadCredentials:
                return _ask_for_login()
        if (pushing or repo.private) and user is None:
            return _ask_for_login()
        if (pushing and not gitea.can_write(user, repo)) or not gitea.can_read(user, repo):
            return plain(403, "User permission denied")
        before = gitea.git.refs(repo) if pushing and method == "POST" else None
    answer = _http_backend(gitea.git, repo, method, url, headers, body, user, client)
    if before is not None and user is not None:
        with gitea.lock:
            after = gitea.git.refs(repo)
            changes = [RefChange(ref, before.get(ref, ZERO), after.get(ref, ZERO))
                       for ref in sorted({*before, *after}) if before.get(ref) != after.get(ref)]
            _keep_default_branch(gitea, repo, changes)
        from tests.fakes.gitea_hooks import pushed
        pushed(gitea, repo, user, changes)
    return answer


def _ask_for_login() -> Answer:
    answer = plain(401, "Unauthorized")
    answer.headers.append(("WWW-Authenticate", 'Basic realm="Gitea"'))
    return answer


def _keep_default_branch(gitea: FakeGitea, repo: Repo, changes: list[RefChange]) -> None:
    """A first push of another branch to an empty repository makes that branch the default."""
    branches = [c.ref[len("refs/heads/"):] for c in changes if c.ref.startswith("refs/heads/") and c.after != ZERO]
    if branches and f"refs/heads/{repo.default_branch}" not in gitea.git.refs(repo):
        repo.default_branch = branches[0]
        gitea.git.run(repo, "symbolic-ref", "HEAD", f"refs/heads/{repo.default_branch}")


def _http_backend(git: GitRepos, repo: Repo, method: str, url: ParseResult, headers: CaseInsensitiveDict,
                  body: bytes, user: User | None, client: str) -> Answer:
    match = GIT_PATH.fullmatch(url.path)
    assert match is not None
    env = {"GIT_PROJECT_ROOT": str(git.root), "GIT_HTTP_EXPORT_ALL": "1", "REQUEST_METHOD": method,
           "PATH_INFO": f"/{repo.owner.lower()}/{repo.name.lower()}.git{match[3]}", "QUERY_STRING": url.query,
           "CONTENT_TYPE": headers.get("Content-Type") or "", "CONTENT_LENGTH": str(len(body)),
           "REMOTE_ADDR": client, "REMOTE_USER": user.login if user else "",
           "HTTP_CONTENT_ENCODING": headers.get("Content-Encoding") or "",
           "GIT_PROTOCOL": headers.get("Git-Protocol") or ""}
    done = subprocess.run(["git", "http-backend"], input=body, capture_output=True, env={**os.environ, **env})
    separator = b"\r\n\r\n" if b"\r\n\r\n" in done.stdout else b"\n\n"
    head, _, payload = done.stdout.partition(separator)
    status, content_type, extra = 200, None, []
    for line in head.decode().splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name.lower() == "content-type":
            content_type = value.strip()
        elif name:
            extra.append((name, value.strip()))
    return Answer(status, payload, content_type, extra)
