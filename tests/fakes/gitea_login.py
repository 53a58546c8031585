"""The browser's side of Gitea's OAuth2 login: session and CSRF cookies, the sign-in form, the
consent form, and the redirect back with a code.

Sources (go-gitea/gitea, read not copied): routers/web/web.go (verifyAuthWithOptions: a page that
needs a signed-in user keeps its address in a `redirect_to` cookie and answers 303 to
/user/login; a POST to such a page has its CSRF token checked first; /user/login is a signed-out
page, and Gitea does *not* check the CSRF token of the sign-in POST, gitea#2385),
services/context/csrf.go (the `_csrf` cookie; a token bound to the session's user id, so the one
from the sign-in page is no good once signed in; failure → 400 "Invalid CSRF token."),
routers/web/auth/auth.go (SignInPost: "Username or password is incorrect." on the form, 200; on
success a new session, the CSRF cookie cleared, 303 to the `redirect_to` cookie),
routers/web/auth/oauth2_provider.go (AuthorizeOAuth, GrantApplicationOAuth), models/auth/oauth2.go
(ContainsRedirectURI: exact but case-insensitive; a public client's loopback URI on any port),
templates/user/auth/signin_inner.tmpl and grant.tmpl. Gitea 1.26 drops the CSRF token for
CrossOriginProtection (gitea#36183); this fake is 1.25.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import ipaddress
import secrets as random_tokens
import time
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import ParseResult, parse_qs, quote, unquote, urlencode, urlsplit, urlunsplit

from tests.fakes.gitea_json import Answer, plain
from tests.fakes.gitea_oauth import Code, Grant, OAuthApp

if TYPE_CHECKING:
    from requests.structures import CaseInsensitiveDict

    from tests.fakes.gitea import FakeGitea

SESSION_COOKIE = "i_like_gitea"
CSRF_LIFETIME = 24 * 3600  # CsrfTokenTimeout
WRONG_PASSWORD = "Username or password is incorrect."


def redirect_allowed(app: OAuthApp, uri: str) -> bool:
    allowed = {u.lower() for u in app.redirect_uris}
    parts = urlsplit(uri)
    if not app.confidential and parts.scheme == "http" and parts.port is not None:
        try:
            loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
        except ValueError:
            loopback = False
        if loopback and urlunsplit(parts._replace(netloc=parts.hostname or "")).lower() in allowed:
            return True
    return uri.lower() in allowed


class Page:
    """One web request's session, signed-in user and cookies, as Gitea's Contexter prepares them."""

    def __init__(self, gitea: FakeGitea, headers: CaseInsensitiveDict) -> None:
        self.gitea = gitea
        cookies = SimpleCookie(headers.get("Cookie") or "")
        self.cookies = {name: morsel.value for name, morsel in cookies.items()}
        self.set_cookies: list[tuple[str, str]] = []
        sessions = gitea.oauth.sessions
        self.session_id = self.cookies.get(SESSION_COOKIE, "")
        if self.session_id not in sessions:
            self.session_id = random_tokens.token_hex(8)
            sessions[self.session_id] = {}
            self.cookie(SESSION_COOKIE, self.session_id)
        self.session = sessions[self.session_id]
        self.user = gitea.users_by_id.get(self.session.get("uid", 0))
        self.csrf = self._prepare_csrf()

    def cookie(self, name: str, value: str, max_age: int | None = None) -> None:
        age = f"; Max-Age={max_age}" if max_age is not None else ""
        self.set_cookies.append(("Set-Cookie", f"{name}={value}; Path=/{age}; HttpOnly; SameSite=Lax"))

    def _uid(self) -> str:
        return str(self.user.id if self.user else 0)

    def _token(self, uid: str, issued: int) -> str:
        mac = hmac.new(self.gitea.csrf_secret, f"{uid}:POST:{issued}".encode(), hashlib.sha1).digest()
        return base64.urlsafe_b64encode(mac + f":{issued}".encode()).decode().rstrip("=")

    def csrf_valid(self, token: str) -> bool:
        try:
            issued = int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).rsplit(b":", 1)[1])
        except (binascii.Error, ValueError, IndexError):
            return False
        fresh = abs(time.time() - issued) < CSRF_LIFETIME
        return fresh and hmac.compare_digest(token, self._token(self._uid(), issued))

    def _prepare_csrf(self) -> str:
        old = self.cookies.get("_csrf", "")
        if self.session.get("_old_uid") == self._uid() and old and self.csrf_valid(old):
            return old
        self.session["_old_uid"] = self._uid()
        token = self._token(self._uid(), int(time.time()))
        self.cookie("_csrf", token, CSRF_LIFETIME)
        return token

    def redirect(self, location: str) -> Answer:
        return Answer(303, f'<a href="{html.escape(location)}">See Other</a>.\n\n'.encode(),
                      "text/html; charset=utf-8", [("Location", location), *self.set_cookies])

    def html(self, status: int, body: str) -> Answer:
        return Answer(status, f"<!DOCTYPE html>\n<html lang=\"en-US\"><body>\n{body}\n</body></html>\n".encode(),
                      "text/html; charset=utf-8", self.set_cookies)

    def csrf_input(self) -> str:
        return f'<input type="hidden" name="_csrf" value="{html.escape(self.csrf)}">'


def answer(gitea: FakeGitea, method: str, url: ParseResult, headers: CaseInsensitiveDict, body: bytes) -> Answer:
    page = Page(gitea, headers)
    form = {k: v[0] for k, v in parse_qs(url.query).items()}
    if method == "POST":
        form |= {k: v[0] for k, v in parse_qs(body.decode()).items()}
    if url.path == "/user/login":
        return _sign_in_post(page, form) if method == "POST" else _sign_in_page(page, form)
    if url.path not in ("/login/oauth/authorize", "/login/oauth/grant"):
        return plain(404, "404 page not found")
    if method == "POST" and not page.csrf_valid(headers.get("X-Csrf-Token") or form.get("_csrf", "")):
        page.cookie("_csrf", "", -1)
        return Answer(400, b"Invalid CSRF token.\n", "text/plain; charset=utf-8", page.set_cookies)
    if page.user is None:
        page.cookie("redirect_to", quote(url.path + (f"?{url.query}" if url.query else ""), safe=""))
        return page.redirect("/user/login")
    if url.path == "/login/oauth/grant" and method == "POST":
        from tests.fakes.gitea_consent import grant
        return grant(page, form)
    from tests.fakes.gitea_consent import authorize
    return authorize(page, form)


def _sign_in_form(page: Page, error: str = "", user_name: str = "") -> Answer:
    alert = f'<div class="ui negative message flash-error"><p>{html.escape(error)}</p></div>' if error else ""
    return page.html(200, f"""<div class="user signin"><form class="ui form" action="/user/login" method="post">
{page.csrf_input()}
<h3 class="ui top attached header">Sign In</h3>
<div class="ui attached segment">{alert}
<div class="required field{' error' if error else ''}"><label for="user_name">Username or Email Address</label>
<input id="user_name" type="text" name="user_name" value="{html.escape(user_name)}" autofocus required></div>
<div class="required field{' error' if error else ''}"><label for="password">Password</label>
<input id="password" name="password" type="password" value="" autocomplete="current-password" required></div>
<div class="inline field"><div class="ui checkbox"><label>Remember This Device</label>
<input name="remember" type="checkbox"></div></div>
<div class="field"><button class="ui primary button">Sign In</button></div>
</div></form></div>""")


def _after_sign_in(page: Page, form: dict) -> str:
    target = form.get("redirect_to") or unquote(page.cookies.get("redirect_to", ""))
    if target.startswith("/") and not target.startswith("//"):  # never an outside address
        page.cookie("redirect_to", "", -1)
        return target
    return "/"


def _sign_in_page(page: Page, form: dict) -> Answer:
    if form.get("redirect_to"):
        page.cookie("redirect_to", quote(form["redirect_to"], safe=""))
    if page.user is not None:
        return page.redirect(_after_sign_in(page, form))
    return _sign_in_form(page)


def _sign_in_post(page: Page, form: dict) -> Answer:
    if page.user is not None:
        return page.redirect(form.get("redirect_to") or "/")
    user = page.gitea.sign_in(form.get("user_name", ""), form.get("password", ""))
    if user is None:
        return _sign_in_form(page, WRONG_PASSWORD, form.get("user_name", ""))
    sessions = page.gitea.oauth.sessions
    new_id = random_tokens.token_hex(8)  # RegenerateSession: a new id for the signed-in session
    sessions[new_id] = {**sessions.pop(page.session_id), "uid": user.id, "uname": user.login}
    page.cookie(SESSION_COOKIE, new_id)
    page.cookie("_csrf", "", -1)
    return page.redirect(_after_sign_in(page, form))


def new_grant(page: Page, app: OAuthApp, scope: str) -> Grant:
    assert page.user is not None
    grant = Grant(page.gitea.next_id("grant"), app.id, page.user.id, scope)
    page.gitea.oauth.grants.append(grant)
    return grant


def code_redirect(page: Page, grant: Grant, redirect_uri: str, state: str, challenge: str, method: str) -> Answer:
    code = random_tokens.token_urlsafe(24)
    page.gitea.oauth.codes[code] = Code(grant, redirect_uri, challenge, method)
    return page.redirect(with_query(redirect_uri, {"code": code, **({"state": state} if state else {})}))


def with_query(uri: str, values: dict[str, str]) -> str:
    """url.Query().Set(...) then Encode(): the keys sorted, as Go writes them."""
    parts = urlsplit(uri)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | values
    return urlunsplit(parts._replace(query=urlencode(sorted(query.items()))))
