"""Who calls the API, and what their token may do, as Gitea decides it.

Sources (go-gitea/gitea, read not copied): services/auth/oauth2.go and basic.go (`token <t>` is
case-sensitive, `bearer` is not; Basic takes a password, or a token as password or as user with
no password), routers/api/v1/api.go (apiAuth: credentials that match nothing → 401 "invalid
username, password or token"; reqToken → 401 "token is required"; reqBasicOrRevProxyAuth → 401
"auth required"; tokenRequiresScopes: read for GET, write for POST/PUT/PATCH/DELETE, checked per
route group), models/auth/access_token_scope.go (write implies read, `all` is every write scope,
scopes normalised through a bitmap, "invalid access token scope: x").
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.fakes.gitea import FakeGitea, User

CATEGORIES = ["activitypub", "admin", "misc", "notification", "organization", "package", "issue", "repository",
              "user"]
# The normalised order of access_token_scope.go: a parent scope before the child it implies.
ORDERED_SCOPES = ["public-only"] + [f"{level}:{c}" for c in CATEGORIES for level in ("write", "read")]
ALL_WRITES = ",".join(f"write:{c}" for c in CATEGORIES)


class ScopeError(ValueError):
    pass


def _implied(scope: str) -> set[str]:
    if scope == "all":
        return {f"{level}:{c}" for c in CATEGORIES for level in ("write", "read")}
    if scope not in ORDERED_SCOPES:
        raise ScopeError(f"invalid access token scope: {scope}")
    return {scope, scope.replace("write:", "read:")}


def normalize(scopes: list[str]) -> str:
    """AccessTokenScope.Normalize: duplicates and implied scopes dropped, every write as `all`."""
    held: set[str] = set()
    for scope in ",".join(scopes).split(","):
        if scope:
            held |= _implied(scope)
    kept: list[str] = []
    covered: set[str] = set()
    for scope in ORDERED_SCOPES:
        if scope in held and not _implied(scope) <= covered:
            kept.append(scope)
            covered |= _implied(scope)
    return ",".join(kept).replace(ALL_WRITES, "all")


def has_scope(token_scope: str, wanted: str) -> bool:
    held: set[str] = set()
    for scope in token_scope.split(","):
        if scope:
            held |= _implied(scope)
    return wanted in held


@dataclass
class Caller:
    user: User | None
    scope: str | None = None  # a token's scope; None for a password (no scope check, as in Gitea)
    basic_password: bool = False  # signed in with Basic and a real password


class BadCredentials(Exception):
    pass


def _token_owner(gitea: FakeGitea, secret: str) -> tuple[User, str] | None:
    """A personal access token or an OAuth access token (whose grant's scope is `all`)."""
    for token in gitea.tokens:
        if token.secret == secret:
            return gitea.users_by_id[token.user_id], token.scope
    access = gitea.oauth_access_tokens.get(secret)
    if access is not None and access.valid():
        return gitea.users_by_id[access.user_id], "all"
    return None


def caller(gitea: FakeGitea, authorization: str, query: dict[str, list[str]]) -> Caller:
    """The API's caller; BadCredentials when credentials were given and match nothing."""
    words = authorization.split()
    secret = (query.get("token") or query.get("access_token") or [""])[0]
    if len(words) == 2 and (words[0] == "token" or words[0].lower() == "bearer"):
        secret = words[1]
    if secret:
        found = _token_owner(gitea, secret)
        if found is None:
            raise BadCredentials
        return Caller(found[0], found[1])
    if len(words) == 2 and words[0].lower() == "basic":
        return basic_caller(gitea, words[1])
    return Caller(None)


def basic_caller(gitea: FakeGitea, encoded: str) -> Caller:
    try:
        login, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as e:
        raise BadCredentials from e
    as_token = login if password in ("", "x-oauth-basic") else password
    found = _token_owner(gitea, as_token)
    if found is not None:
        return Caller(found[0], found[1])
    user = gitea.sign_in(login, password)
    if user is None:
        raise BadCredentials
    return Caller(user, None, basic_password=True)


def missing_scope(who: Caller, method: str, *categories: str) -> str | None:
    """tokenRequiresScopes' refusal, or None when the token (or a password) may go on."""
    if who.scope is None:
        return None
    level = "read" if method in ("GET", "HEAD") else "write"
    required = [f"{level}:{c}" for c in categories]
    if all(has_scope(who.scope, r) for r in required):
        return None
    return (f"token does not have at least one of required scope(s), required=[{' '.join(required)}], "
            f"token scope={who.scope}")
