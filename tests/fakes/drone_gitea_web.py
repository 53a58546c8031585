"""How Drone's web handlers answer where a browser looks closely: redirects as Go's
http.Redirect writes them, cookies as net/http writes them, and the session cookie.

Sources (read, not copied): Go's net/http Redirect (a relative target is made absolute against
the request's directory and path-cleaned; non-ASCII hex-escaped, nothing else, so a login error's
spaces go out as they are; a short HTML body for GET), http.Cookie.String; harness/harness branch
`drone` session/session.go (`_session_`: Path=/, Max-Age=2147483647, HttpOnly, SameSite=lax; a
dchest/authcookie value naming the login, signed with DRONE_COOKIE_SECRET).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import posixpath
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from tests.fakes.drone_gitea_config import GO_SCHEME

SESSION_COOKIE = "_session_"
SESSION_SECONDS = 720 * 3600  # DRONE_COOKIE_TIMEOUT's default
GO_HTML_ESCAPES = {"&": "&amp;", "'": "&#39;", "<": "&lt;", ">": "&gt;", '"': "&#34;"}


@dataclass(frozen=True)
class WebAnswer:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)  # a list: Set-Cookie comes twice


def _html_escape(text: str) -> str:
    return "".join(GO_HTML_ESCAPES.get(c, c) for c in text)


def _hex_escape_non_ascii(text: str) -> str:
    return "".join(c if ord(c) < 0x80 else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def redirect(target: str, request_path: str, method: str, cookies: list[str] | None = None,
             status: int = 303) -> WebAnswer:
    """http.Redirect(w, r, target, status), with the Set-Cookie headers written before it."""
    if not GO_SCHEME.match(target) and not target.startswith("//"):
        if not target.startswith("/"):
            target = posixpath.dirname(request_path or "/").rstrip("/") + "/" + target
        path, mark, query = target.partition("?")
        cleaned = "/" + posixpath.normpath(path).lstrip("/")
        if path.endswith("/") and not cleaned.endswith("/"):
            cleaned += "/"
        target = cleaned + mark + query
    location = _hex_escape_non_ascii(target)
    headers = [("Set-Cookie", c) for c in cookies or []] + [("Location", location)]
    if method != "GET":
        return WebAnswer(status, b"", "text/html; charset=utf-8" if method == "HEAD" else None, headers)
    body = f'<a href="{_html_escape(location)}">See Other</a>.\n\n'.encode()
    return WebAnswer(status, body, "text/html; charset=utf-8", headers)


def cookies_of(header: str) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(header or "")
    except Exception:  # a cookie header Python cannot read is one Drone would mostly ignore too
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def session_cookie(login: str, secret: str) -> str:
    expires = int(time.time()) + SESSION_SECONDS
    signed = f"{login}|{expires}"
    mac = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
    value = base64.urlsafe_b64encode(f"{signed}|{mac}".encode()).decode().rstrip("=")
    return f"{SESSION_COOKIE}={value}; Path=/; Max-Age=2147483647; HttpOnly; SameSite=lax"


def session_login(value: str, secret: str) -> str:
    """authcookie.Login: the login a session cookie names, "" when forged, expired or unreadable."""
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        login, expires, mac = text.rsplit("|", 2)
    except ValueError:
        return ""
    good = hmac.new(secret.encode(), f"{login}|{expires}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(good, mac) or int(expires) < time.time():
        return ""
    return login


def index_page() -> WebAnswer:
    """HandleIndex, the router's NotFound: the single-page UI for any path it does not route."""
    page = b"<!DOCTYPE html><html><head><title>Drone</title></head><body><div id=\"root\"></div></body></html>"
    return WebAnswer(200, page, "text/html; charset=utf-8")
