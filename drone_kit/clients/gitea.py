"""Gitea's REST API as wiring Drone needs it: the signed-in user, drone_kit's access token, the
OAuth2 application Drone logs in through, repositories, their hooks, and a file's content (to find
`.drone.yml`). Paths, bodies and answers follow go-gitea/gitea routers/api/v1/api.go,
routers/api/v1/user/app.go and modules/structs (user_app.go, hook.go, repo_file.go)."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from drone_kit.clients.gitea_api import GiteaApi, GiteaError
from drone_kit.clients.slugs import api_path

# The events Drone registers its hooks for (go-scm scm/driver/gitea/repo.go).
DRONE_EVENTS = ("pull_request", "create", "delete", "push")


class TokenNameTaken(GiteaError):
    """Gitea has an access token of that name already; its value is shown only once, at creation."""


class RepositoryExists(GiteaError):
    """Gitea has a repository of that name already."""


@dataclass(frozen=True)
class AccessToken:
    id: int
    name: str
    last_eight: str
    scopes: tuple[str, ...] = ()
    sha1: str = field(default="", repr=False)  # the token itself: only in the answer to its creation


@dataclass(frozen=True)
class OAuthApp:
    id: int
    name: str
    client_id: str
    redirect_uris: tuple[str, ...]
    confidential: bool
    client_secret: str = field(default="", repr=False)  # only in the answers to creation and update


def _token(item: dict) -> AccessToken:
    return AccessToken(int(item.get("id") or 0), str(item.get("name") or ""), str(item.get("token_last_eight") or ""),
                       tuple(item.get("scopes") or ()), str(item.get("sha1") or ""))


def _app(item: dict) -> OAuthApp:
    return OAuthApp(int(item.get("id") or 0), str(item.get("name") or ""), str(item.get("client_id") or ""),
                    tuple(item.get("redirect_uris") or ()), bool(item.get("confidential_client")),
                    str(item.get("client_secret") or ""))


def _repo_path(repo: str) -> str:
    path = api_path(repo)
    if path is None:
        raise GiteaError(f"{repo!r} is not a repository name", hint="name it OWNER/NAME")
    return f"/repos/{path}"


class GiteaClient:
    """Friendly calls on one Gitea. `token` signs every call; `username`/`password` (the admin)
    only the access-token calls, which Gitea accepts with Basic auth alone."""

    def __init__(self, url: str, token: str = "", username: str = "", password: str = "", timeout: float = 30.0,
                 attempts: int = 3, sleep: Callable[[float], None] = time.sleep,
                 session: requests.Session | None = None) -> None:
        self.api = GiteaApi(url, token, username, password, timeout, attempts, sleep, session)

    def current_user(self) -> dict:
        """The signed-in user: `{id, login, email, is_admin, …}`."""
        return self.api.call("GET", "/user", "read the signed-in user")

    def _tokens_path(self) -> str:
        return f"/users/{quote(self.api.username, safe='')}/tokens"

    def create_token(self, name: str, scopes: Iterable[str]) -> AccessToken:
        """A new access token for the admin; its `sha1` is the token, which Gitea never shows again."""
        what = f"create the access token {name!r}"
        response = self.api.send("POST", self._tokens_path(), what, basic=True,
                                 json={"name": name, "scopes": list(scopes)})
        if response.status_code == 201:
            return _token(response.json())
        message = self.api.message(response)
        if response.status_code == 400 and "used already" in message:
            raise TokenNameTaken(f"Gitea has an access token named {name!r} already", status=400,
                                 hint="delete it (its value cannot be read again) and create it anew")
        raise self.api.refused(response, what, hint="scopes are `all` or read:/write: with repository, user, "
                               "admin, organization… (Gitea 1.20+)" if "scope" in message else "")

    def tokens(self) -> list[AccessToken]:
        """The admin's access tokens (names and last eight characters; never the tokens)."""
        return [_token(item) for item in self.api.pages(self._tokens_path(), "list the access tokens", basic=True)]

    def delete_token(self, token: int | str) -> bool:
        """Delete an access token by id or name; False when there is none."""
        return self.api.delete(f"{self._tokens_path()}/{quote(str(token), safe='')}",
                               f"delete the access token {token!r}", basic=True)

    def create_oauth_app(self, name: str, redirect_uris: Iterable[str], confidential: bool = True) -> OAuthApp:
        """A new OAuth2 application; its `client_secret` is in this answer only. Confidential, as
        Drone needs: Gitea asks public clients for PKCE, which Drone does not send."""
        body = {"name": name, "redirect_uris": list(redirect_uris), "confidential_client": confidential}
        return _app(self.api.call("POST", "/user/applications/oauth2", f"create the OAuth2 application {name!r}",
                                  expect=(201,), json=body))

    def oauth_apps(self) -> list[OAuthApp]:
        """The user's OAuth2 applications (Gitea blanks their secrets in lists)."""
        return [_app(item) for item in self.api.pages("/user/applications/oauth2", "list the OAuth2 applications")]

    def find_oauth_app(self, name: str) -> OAuthApp | None:
        return next((app for app in self.oauth_apps() if app.name == name), None)

    def delete_oauth_app(self, app_id: int) -> bool:
        """Delete an OAuth2 application (and every grant of it); False when there is none."""
        return self.api.delete(f"/user/applications/oauth2/{int(app_id)}", f"delete the OAuth2 application {app_id}")

    def update_oauth_app(self, app: OAuthApp, redirect_uris: Iterable[str]) -> OAuthApp:
        """Set an application's redirect URIs. Gitea generates a new client secret on every update
        (the answer carries it), so whoever held the old one must be given the new."""
        body = {"name": app.name, "redirect_uris": list(redirect_uris), "confidential_client": app.confidential}
        return _app(self.api.call("PATCH", f"/user/applications/oauth2/{int(app.id)}",
                                  f"update the OAuth2 application {app.name!r}", json=body))

    def create_repository(self, name: str, private: bool = False, auto_init: bool = False,
                          default_branch: str = "main", description: str = "") -> dict:
        """A new repository of the signed-in user."""
        what = f"create the repository {name!r}"
        response = self.api.send("POST", "/user/repos", what, json={
            "name": name, "private": private, "auto_init": auto_init, "default_branch": default_branch,
            "description": description})
        if response.status_code == 409:
            raise RepositoryExists(f"Gitea has a repository named {name!r} already", status=409)
        if response.status_code != 201:
            raise self.api.refused(response, what)
        return response.json()

    def repository(self, repo: str) -> dict | None:
        """A repository ("OWNER/NAME"), or None when Gitea has none (or hides it from the user)."""
        return self.api.call("GET", _repo_path(repo), f"read the repository {repo}", missing_ok=True)

    def repositories(self) -> list[dict]:
        """Every repository the signed-in user can see, all pages."""
        return self.api.pages("/user/repos", "list the user's repositories")

    def hooks(self, repo: str) -> list[dict]:
        """A repository's webhooks: `{id, type, config{url, content_type}, events, active}`."""
        return self.api.pages(f"{_repo_path(repo)}/hooks", f"list the hooks of {repo}")

    def create_hook(self, repo: str, url: str, secret: str, events: Iterable[str] = DRONE_EVENTS,
                    content_type: str = "json") -> dict:
        """An active Gitea webhook (`active` defaults to false in Gitea, so it is always sent)."""
        body: dict[str, Any] = {"type": "gitea", "active": True, "events": list(events),
                                "config": {"url": url, "content_type": content_type, "secret": secret}}
        return self.api.call("POST", f"{_repo_path(repo)}/hooks", f"create a hook on {repo}", expect=(201,),
                             json=body, hide=(secret, url))

    def delete_hook(self, repo: str, hook_id: int) -> bool:
        """Delete a webhook; False when there is none."""
        return self.api.delete(f"{_repo_path(repo)}/hooks/{int(hook_id)}", f"delete hook {hook_id} of {repo}")

    def branch(self, repo: str, name: str) -> dict | None:
        """A branch and its head commit: `{name, commit{id, message, timestamp (the author's date,
        RFC 3339)}, …}` (routers/api/v1/repo/branch.go GetBranch); None when there is no such
        branch (an empty repository has none)."""
        return self.api.call("GET", f"{_repo_path(repo)}/branches/{quote(name, safe='/')}",
                             f"read the branch {name} of {repo}", missing_ok=True)

    def file_content(self, repo: str, path: str, ref: str = "") -> bytes | None:
        """A file's bytes at `ref` (the default branch when empty); None when there is no such file."""
        what = f"read {path} of {repo}"
        params = {"ref": ref} if ref else {}
        item = self.api.call("GET", f"{_repo_path(repo)}/contents/{quote(path.lstrip('/'))}", what,
                             missing_ok=True, params=params)
        if item is None:
            return None
        if not isinstance(item, dict) or item.get("type") != "file":
            raise GiteaError(f"{path} of {repo} is not a file", hint="name a file, not a directory")
        try:
            return base64.b64decode(item.get("content") or "")
        except (binascii.Error, ValueError):
            raise GiteaError(f"Gitea sent {path} of {repo} in an encoding drone_kit does not read: "
                             f"{item.get('encoding')}") from None
