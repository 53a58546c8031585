"""The admin's first login to Drone, done as a browser does it, since only that login gives Drone a
Gitea token for the admin (drone/go-login login/gitea; harness/drone handler/web/login.go):

    GET {drone}/login  → 303 Gitea /login/oauth/authorize (Drone's `_oauth_state_` cookie)
    → 30x /user/login: the sign-in form (`_csrf`, `user_name`, `password`), POSTed
    → /login/oauth/authorize again: on first use the grant form, POSTed to /login/oauth/grant
    → 30x {drone}/login?code&state → 303 `/` with Drone's `_session_` cookie.

Redirects are followed one at a time so each turn is checked, and a wrong one named with the one
manual step instead. The password goes only to the Gitea Drone sent us to, and into no message."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from drone_kit.clients.html_forms import Page, read_page
from drone_kit.clients.login_browser import Browser, FirstLoginFailed, manual_step, origin

__all__ = ["FirstLogin", "FirstLoginFailed", "first_login"]
log = logging.getLogger(__name__)
AUTHORIZE_PATH = "/login/oauth/authorize"
GRANT_PATH = "/login/oauth/grant"
SIGN_IN_PATH = "/user/login"
# What Drone's /login/error?message=… means, where the words alone do not say (protocols §12).
CAUSES = {
    "invalid_request": "Gitea wants PKCE: the OAuth2 application is not confidential",
    "PKCE": "the OAuth2 application is not confidential",
    "cannot load client": "Drone's DRONE_GITEA_CLIENT_ID is not an application Gitea knows",
    "not registered": "Drone's DRONE_GITEA_CLIENT_ID is not an application Gitea knows",
    "client secret": "Drone's DRONE_GITEA_CLIENT_SECRET is not the application's secret",
    "Unregistered Redirect URI": "the application's redirect URI is not Drone's http://<host>/login",
    "Machine account": "the Drone account is a machine account (DRONE_USER_CREATE has machine:true)",
    "state": "Drone's state cookie did not come back with the code",
}


@dataclass(frozen=True)
class FirstLogin:
    granted: bool  # Gitea showed its grant page (the application's first use) and it was accepted
    landed_on: str  # where Drone sent the browser after the login: "/" or "/register"


def _because(words: str) -> str:
    cause = next((why for key, why in CAUSES.items() if key in words), "")
    return f" ({cause})" if cause else ""


def first_login(drone_url: str, username: str, password: str, timeout: float = 10.0,
                session: requests.Session | None = None) -> FirstLogin:
    """Log `username` in to Drone through Gitea with `password`, granting Drone's OAuth2
    application when Gitea asks; FirstLoginFailed saying where and why it could not."""
    drone = drone_url.rstrip("/")
    browser = Browser(session or requests.Session(), timeout, manual_step(drone, username), (password,))
    authorize = _authorize_url(browser, drone)
    answer = browser.get(authorize)
    if _points_to(answer, SIGN_IN_PATH):
        answer = _sign_in(browser, answer, authorize, username, password)
        if _points_to(answer, SIGN_IN_PATH):
            raise browser.fail(f"Gitea still asks for a sign-in after signing in as {username} "
                               "(its session cookie was not kept, or it refused the form's CSRF token)")
    granted = answer.status_code == 200 and read_page(answer.text).form_to(GRANT_PATH) is not None
    if granted:
        answer = _grant(browser, answer, authorize)
    callback = _callback(browser, answer, authorize, drone)
    return FirstLogin(granted, _drone_session(browser, browser.get(callback)))


def _points_to(answer: requests.Response, path: str) -> bool:
    location = answer.headers.get("Location", "")
    return answer.is_redirect and urlsplit(urljoin(answer.url, location)).path.endswith(path)


def _authorize_url(browser: Browser, drone: str) -> str:
    answer = browser.get(f"{drone}/login")
    if not _points_to(answer, AUTHORIZE_PATH):
        raise browser.fail(f"Drone's /login answered {answer.status_code} without sending the browser to Gitea's "
                           f"{AUTHORIZE_PATH} (is DRONE_GITEA_SERVER set?)")
    authorize = urljoin(answer.url, answer.headers["Location"])
    query = parse_qs(urlsplit(authorize).query)
    if not query.get("client_id") or not query.get("redirect_uri"):
        raise browser.fail("Drone sent the browser to Gitea without a client_id or redirect_uri "
                           "(DRONE_GITEA_CLIENT_ID unset?)")
    return authorize


def _sign_in(browser: Browser, redirect: requests.Response, authorize: str, username: str,
             password: str) -> requests.Response:
    """Fill in Gitea's sign-in form; the answer to /login/oauth/authorize once signed in."""
    page_answer = browser.get(urljoin(redirect.url, redirect.headers["Location"]))
    page = read_page(page_answer.text)
    form = page.form_with("user_name", "password")
    if page_answer.status_code != 200 or form is None:
        raise browser.fail(f"Gitea's sign-in page ({urlsplit(page_answer.url).path}, HTTP "
                           f"{page_answer.status_code}) has no form with user_name and password "
                           "(a Gitea whose forms differ, or password sign-in disabled)")
    target = urljoin(page_answer.url, form.action or page_answer.url)
    if origin(target) != origin(authorize):
        raise browser.fail(f"Gitea's sign-in form posts to {origin(target)}, not to Gitea at {origin(authorize)}: "
                           "drone_kit sends the password nowhere else")
    if "_csrf" not in form.names():
        log.debug("Gitea's sign-in form has no _csrf field (Gitea 1.26+ checks the request's origin instead)")
    answer = browser.post(target, form.submission({"user_name": username, "password": password}))
    if answer.status_code == 200:
        said = read_page(answer.text).says() or "the sign-in page came back"
        raise browser.fail(f"Gitea did not accept the sign-in as {username}: {said}")
    if not answer.is_redirect:
        raise browser.fail(f"Gitea answered {answer.status_code} to the sign-in as {username}")
    went_to = urlsplit(urljoin(answer.url, answer.headers["Location"])).path
    if "two_factor" in went_to or "webauthn" in went_to:
        raise browser.fail(f"Gitea asks {username} for a second factor, which drone_kit cannot give")
    if "change_password" in went_to:
        raise browser.fail(f"Gitea asks {username} to change the password first (must_change_password is set)")
    # Gitea returns to where sign-in interrupted (its redirect_to cookie); older ones went home.
    return browser.get(authorize)


def _grant(browser: Browser, answer: requests.Response, authorize: str) -> requests.Response:
    """Accept the grant page, as clicking "Authorize Application" does."""
    page = read_page(answer.text)
    form = page.form_to(GRANT_PATH)
    target = urljoin(answer.url, form.action) if form else ""
    expected = {"client_id", "redirect_uri", "state"}
    if form is None or origin(target) != origin(authorize) or not expected <= form.names():
        raise browser.fail("Gitea's grant form is not the one drone_kit knows (client_id, redirect_uri and "
                           f"state, posted to Gitea's {GRANT_PATH})")
    # Gitea 1.22+ reads `granted=true` off the clicked button; older ones grant on any submit.
    button = next((item for item in form.buttons if item.id == "authorize-app"), None) or next(
        (item for item in form.buttons if item.name == "granted" and item.value == "true"), None)
    if button is None and any(item.name == "granted" for item in form.buttons):
        raise browser.fail("Gitea's grant form has no button that grants")
    return browser.post(target, form.submission({}, button))


def _callback(browser: Browser, answer: requests.Response, authorize: str, drone: str) -> str:
    """Where Gitea sends the code: Drone's /login, on the address drone_kit reaches Drone at."""
    if not answer.is_redirect:
        said = _said(answer)
        raise browser.fail(f"Gitea refused the authorization (HTTP {answer.status_code}): {said}{_because(said)}")
    target = urlsplit(urljoin(answer.url, answer.headers["Location"]))
    query = parse_qs(target.query)
    if "error" in query:
        said = f"{query['error'][0]}: {query.get('error_description', [''])[0]}".rstrip(": ")
        raise browser.fail(f"Gitea refused the authorization: {said}{_because(said)}")
    expected = urlsplit(parse_qs(urlsplit(authorize).query)["redirect_uri"][0])
    if (target.netloc, target.path) != (expected.netloc, expected.path) or "code" not in query:
        raise browser.fail(f"Gitea sent the browser to {target.path or '/'} instead of Drone's {expected.path} "
                           "with a code")
    # Drone names itself by DRONE_SERVER_HOST, which may be another address for the same server
    # than drone_kit's; its state cookie is on drone_kit's, so the code goes there.
    return f"{drone}{target.path}?{target.query}"


def _said(answer: requests.Response) -> str:
    page: Page = read_page(answer.text)
    return page.says() or " ".join(answer.text.split())[:120] or "no explanation"


def _drone_session(browser: Browser, answer: requests.Response) -> str:
    location = answer.headers.get("Location", "")
    target = urlsplit(urljoin(answer.url, location))
    if answer.is_redirect and target.path == "/login/error":
        said = parse_qs(target.query).get("message", ["no message"])[0]
        raise browser.fail(f"Drone refused the login: {said}{_because(said)}")
    if not answer.is_redirect or "_session_" not in browser.session.cookies:
        raise browser.fail(f"Drone answered {answer.status_code} to the login callback without a session cookie")
    return target.path or "/"
