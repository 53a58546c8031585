"""Gitea as an OAuth2 provider: applications (routers/api/v1/user/app.go: the secret is shown only
when made, and again only by PATCH, which makes a new one; `confidential_client` is false unless
given), grants, single-use authorization codes (10 minutes), and `/login/oauth/access_token`
(routers/web/auth/oauth2_provider.go AccessTokenOAuth: form or JSON, client credentials in the body
or as Basic; errors `{"error", "error_description"}` with 400; refresh tokens used once, as with
[oauth2] INVALIDATE_REFRESH_TOKENS). The browser half is tests/fakes/gitea_login.py.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets as random_tokens
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import ParseResult, parse_qs

from tests.fakes.gitea_json import Answer, json_answer, not_found, paged_answer, plain

if TYPE_CHECKING:
    from requests.structures import CaseInsensitiveDict

    from tests.fakes.gitea import FakeGitea, User

ACCESS_TOKEN_SECONDS = 3600  # [oauth2] ACCESS_TOKEN_EXPIRATION_TIME
CODE_SECONDS = 600


@dataclass
class OAuthApp:
    id: int
    user_id: int
    name: str
    client_id: str
    secret: str
    redirect_uris: list[str]
    confidential: bool
    created: str


@dataclass
class Grant:
    id: int
    app_id: int
    user_id: int
    scope: str
    counter: int = 1  # the refresh token generation that is still valid


@dataclass
class Code:
    grant: Grant
    redirect_uri: str
    challenge: str
    method: str
    expires: float = field(default_factory=lambda: time.time() + CODE_SECONDS)


@dataclass
class AccessGrant:
    user_id: int
    expires: float

    def valid(self) -> bool:
        return time.time() < self.expires


@dataclass
class OAuthState:
    apps: list[OAuthApp] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    codes: dict[str, Code] = field(default_factory=dict)
    access_tokens: dict[str, AccessGrant] = field(default_factory=dict)
    refresh_tokens: dict[str, tuple[Grant, int]] = field(default_factory=dict)
    sessions: dict[str, dict] = field(default_factory=dict)  # the web sessions, by `i_like_gitea` cookie

    def app(self, client_id: str) -> OAuthApp | None:
        return next((a for a in self.apps if a.client_id == client_id), None)


def app_json(app: OAuthApp, secret: str = "") -> dict:
    return {"id": app.id, "name": app.name, "client_id": app.client_id, "client_secret": secret,
            "confidential_client": app.confidential, "skip_secondary_authorization": False,
            "redirect_uris": app.redirect_uris, "created": app.created}


def _new_secret() -> str:
    return "gto_" + base64.b32encode(random_tokens.token_bytes(32)).decode().lower().rstrip("=")


def app_routes(gitea: FakeGitea, user: User, method: str, app_id: int | None, query: dict, form: dict) -> Answer:
    from tests.fakes.gitea import now_text
    state = gitea.oauth
    if app_id is None and method == "GET":
        return paged_answer(gitea, "/user/applications/oauth2", query,
                            [app_json(a) for a in state.apps if a.user_id == user.id])
    if app_id is None and method == "POST":
        if not form.get("name"):
            from tests.fakes.gitea_json import api_error
            return api_error(gitea, 422, "[Name]: Required")
        app = OAuthApp(gitea.next_id("oauth_app"), user.id, form["name"], str(uuid.uuid4()), _new_secret(),
                       list(form.get("redirect_uris") or []), bool(form.get("confidential_client")), now_text())
        state.apps.append(app)
        return json_answer(201, app_json(app, app.secret))
    found = next((a for a in state.apps if a.id == app_id and a.user_id == user.id), None)
    if found is None:
        return not_found(gitea)
    app = found
    if method == "GET":
        return json_answer(200, app_json(app))
    if method == "DELETE":
        state.apps.remove(app)
        state.grants = [g for g in state.grants if g.app_id != app.id]
        return Answer(204)
    if method == "PATCH":
        app.name = form.get("name") or ""
        app.redirect_uris = list(form.get("redirect_uris") or [])
        app.confidential = bool(form.get("confidential_client"))
        app.secret = _new_secret()
        return json_answer(200, app_json(app, app.secret))
    return not_found(gitea)


def _error(code: str, description: str) -> Answer:
    return json_answer(400, {"error": code, "error_description": description})


def access_token(gitea: FakeGitea, headers: CaseInsensitiveDict, body: bytes) -> Answer:
    if "json" in (headers.get("Content-Type") or ""):
        form = {k: str(v) for k, v in (json.loads(body or b"{}")).items()}
    else:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    auth = (headers.get("Authorization") or "").split()
    if not (form.get("client_id") and form.get("client_secret")) and auth:
        try:
            assert auth[0].lower() == "basic" and len(auth) == 2
            client_id, _, client_secret = base64.b64decode(auth[1]).decode().partition(":")
        except (AssertionError, binascii.Error, UnicodeDecodeError):
            return _error("invalid_request", "cannot parse basic auth header")
        if form.get("client_id", client_id) != client_id:
            return _error("invalid_request", "client_id in request body inconsistent with Authorization header")
        if form.get("client_secret", client_secret) != client_secret:
            return _error("invalid_request", "client_secret in request body inconsistent with Authorization header")
        form |= {"client_id": client_id, "client_secret": client_secret}
    app = gitea.oauth.app(form.get("client_id", ""))
    grant_type = form.get("grant_type", "")
    if grant_type not in ("authorization_code", "refresh_token"):
        return _error("unsupported_grant_type", "Only refresh_token or authorization_code grant type is supported")
    if app is None:
        quoted = f"'{form.get('client_id', '')}'" if grant_type == "authorization_code" \
            else json.dumps(form.get("client_id", ""))
        return _error("invalid_client", f"cannot load client with client id: {quoted}")
    if app.confidential and not random_tokens.compare_digest(form.get("client_secret", ""), app.secret):
        refused = "unauthorized_client" if grant_type == "authorization_code" else "invalid_client"
        return _error(refused, "invalid empty client secret" if not form.get("client_secret")
                      else "invalid client secret")
    if grant_type == "refresh_token":
        return _refresh(gitea, app, form.get("refresh_token", ""))
    from tests.fakes.gitea_login import redirect_allowed
    if form.get("redirect_uri") and not redirect_allowed(app, form["redirect_uri"]):
        return _error("unauthorized_client", "unexpected redirect URI")
    code = gitea.oauth.codes.get(form.get("code", ""))
    if code is None:
        return _error("unauthorized_client", "client is not authorized")
    if time.time() > code.expires:
        del gitea.oauth.codes[form["code"]]
        return _error("invalid_grant", "authorization code expired")
    if code.challenge and not _verifier_matches(code, form.get("code_verifier", "")):
        return _error("unauthorized_client", "failed PKCE code challenge")
    if code.redirect_uri and form.get("redirect_uri") != code.redirect_uri:
        return _error("invalid_grant", "redirect_uri differs from the original authorization request")
    if code.grant.app_id != app.id:
        return _error("invalid_grant", "invalid grant")
    del gitea.oauth.codes[form["code"]]  # a code is good once
    return _tokens(gitea, code.grant)


def _verifier_matches(code: Code, verifier: str) -> bool:
    import hashlib
    if code.method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=") == code.challenge
    return verifier == code.challenge


def _refresh(gitea: FakeGitea, app: OAuthApp, token: str) -> Answer:
    known = gitea.oauth.refresh_tokens.get(token)
    if known is None:
        return _error("unauthorized_client", "unable to parse refresh token")
    grant, counter = known
    if grant not in gitea.oauth.grants:
        return _error("invalid_grant", "grant does not exist")
    if grant.app_id != app.id:
        return _error("invalid_grant", "refresh token belongs to a different client")
    if counter != grant.counter:
        return _error("unauthorized_client", "token was already used")
    grant.counter += 1
    return _tokens(gitea, grant)


def _tokens(gitea: FakeGitea, grant: Grant) -> Answer:
    access, refresh = random_tokens.token_urlsafe(32), random_tokens.token_urlsafe(32)
    gitea.oauth.access_tokens[access] = AccessGrant(grant.user_id, time.time() + ACCESS_TOKEN_SECONDS)
    gitea.oauth.refresh_tokens[refresh] = (grant, grant.counter)
    return json_answer(200, {"access_token": access, "token_type": "bearer", "expires_in": ACCESS_TOKEN_SECONDS,
                             "refresh_token": refresh})


def answer(gitea: FakeGitea, method: str, url: ParseResult, headers: CaseInsensitiveDict, body: bytes) -> Answer:
    from tests.fakes import gitea_login
    with gitea.lock:
        if url.path == "/login/oauth/access_token":
            return access_token(gitea, headers, body) if method == "POST" else plain(405, "Method Not Allowed")
        return gitea_login.answer(gitea, method, url, headers, body)
