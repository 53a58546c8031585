"""GitRemote against the Gitea fake's real smart-HTTP git: clone, commit, push with a token that
never lands in the checkout, and git's refusals shown without it."""

from __future__ import annotations

import pytest

from drone_kit.clients.git_remote import GitError, GitRemote
from drone_kit.clients.gitea import GiteaClient
from tests.fakes.gitea import FakeGitea

ADMIN, PASSWORD = "gitea-admin", "admin-password"


@pytest.fixture
def gitea():
    with FakeGitea(ADMIN, PASSWORD) as running:
        yield running


def test_a_push_with_a_token_lands_in_gitea_and_leaves_no_credential_behind(gitea, tmp_path):
    token = GiteaClient(gitea.url, username=ADMIN, password=PASSWORD).create_token("t", ["write:repository",
                                                                                         "write:user"]).sha1
    api = GiteaClient(gitea.url, token=token)
    api.create_repository("app")
    remote = GitRemote(f"{gitea.url}/{ADMIN}/app.git", ADMIN, token)
    checkout = remote.clone(tmp_path / "app")
    (checkout / "hello.txt").write_text("hello\n")
    first = remote.commit_all(checkout, "first")
    remote.push(checkout, "main")
    assert api.file_content(f"{ADMIN}/app", "hello.txt") == b"hello\n"
    again = remote.commit_all(checkout, "nothing changed")  # a new commit all the same: a new build
    remote.push(checkout, "main")
    assert again != first and remote.git(checkout, "log", "--format=%an", "-1") == "drone_kit"
    stored = "".join(path.read_text(errors="replace") for path in (checkout / ".git").rglob("*")
                     if path.is_file() and path.stat().st_size < 1_000_000)
    assert token not in stored


def test_a_refused_push_says_so_without_the_token(gitea, tmp_path):
    token = GiteaClient(gitea.url, username=ADMIN, password=PASSWORD).create_token("t", ["write:repository",
                                                                                         "write:user"]).sha1
    GiteaClient(gitea.url, token=token).create_repository("app")
    wrong = "0" * 39 + "1"
    with pytest.raises(GitError) as refused:
        GitRemote(f"{gitea.url}/{ADMIN}/app.git", ADMIN, wrong).clone(tmp_path / "app")
    assert f"git clone with {gitea.url}/{ADMIN}/app.git failed" in refused.value.message
    assert wrong not in refused.value.message and "drone_kit wire" in refused.value.hint
