"""The fake Gitea's API and OAuth2 login refuse what Gitea 1.25 refuses and answer what it answers
(see tests/fakes/gitea*.py for the Gitea sources each behaviour follows)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fakes.gitea import FakeGitea
from tests.fakes.gitea_auth import normalize

ADMIN, PASSWORD = "gitea-admin", "admin-password"
DRONE_LOGIN = "http://drone.example.test/login"


@pytest.fixture
def gitea() -> Iterator[FakeGitea]:
    with FakeGitea(ADMIN, PASSWORD) as fake:
        yield fake


def api(gitea: FakeGitea, method: str, path: str, token: str | None = None,
        auth: tuple[str, str] | None = (ADMIN, PASSWORD), **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.request(method, f"{gitea.url}/api/v1{path}", headers=headers,
                            auth=None if token else auth, timeout=5, **kwargs)


def new_token(gitea: FakeGitea, *scopes: str, name: str = "drone_kit") -> str:
    answer = api(gitea, "POST", f"/users/{ADMIN}/tokens", json={"name": name, "scopes": list(scopes)})
    assert answer.status_code == 201, answer.text
    return answer.json()["sha1"]


class Forms(HTMLParser):
    """The forms of a page, as a browser would submit them: action and input values."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"action": values.get("action"), "inputs": {}})
        elif tag in ("input", "button") and self.forms and values.get("name"):
            self.forms[-1]["inputs"].setdefault(values["name"], values.get("value") or "")


def test_version_and_the_signed_in_user(gitea):
    assert api(gitea, "GET", "/version", auth=None).json() == {"version": "1.25.2"}
    me = api(gitea, "GET", "/user").json()
    assert (me["login"], me["is_admin"], me["id"]) == (ADMIN, True, 1)


@pytest.mark.parametrize("auth, header", [
    (None, None), ((ADMIN, "wrong"), None), (None, "token not-a-token"), (None, "Bearer not-a-token")])
def test_missing_or_wrong_credentials_are_401_with_gitea_s_error(gitea, auth, header):
    headers = {"Authorization": header} if header else {}
    answer = requests.get(f"{gitea.url}/api/v1/user", auth=auth, headers=headers, timeout=5)
    expected = "token is required" if auth is None and header is None else "invalid username, password or token"
    assert (answer.status_code, answer.json()) == (401, {"message": expected, "url": f"{gitea.url}/api/swagger"})


def test_tokens_are_made_with_basic_auth_only_and_shown_once(gitea):
    made = api(gitea, "POST", f"/users/{ADMIN}/tokens", json={"name": "ci", "scopes": ["write:repository"]})
    body = made.json()
    assert made.status_code == 201 and body["token_last_eight"] == body["sha1"][-8:]
    assert body["scopes"] == ["write:repository"] and len(body["sha1"]) == 40
    listed = api(gitea, "GET", f"/users/{ADMIN}/tokens").json()
    assert [(t["name"], t["sha1"]) for t in listed] == [("ci", "")]
    by_token = api(gitea, "POST", f"/users/{ADMIN}/tokens", token=body["sha1"], json={"name": "x", "scopes": ["all"]})
    assert (by_token.status_code, by_token.json()["message"]) == (401, "auth required")
    assert api(gitea, "DELETE", f"/users/{ADMIN}/tokens/{body['id']}").status_code == 204
    assert api(gitea, "GET", "/user", token=body["sha1"]).status_code == 401


@pytest.mark.parametrize("form, message", [
    ({"name": "dup", "scopes": ["all"]}, "access token name has been used already"),
    ({"name": "bad", "scopes": ["write:everything"]},
     "invalid access token scope provided: invalid access token scope: write:everything"),
    ({"name": "none", "scopes": []}, "access token must have a scope"),
])
def test_token_refusals(gitea, form, message):
    new_token(gitea, "all", name="dup")
    answer = api(gitea, "POST", f"/users/{ADMIN}/tokens", json=form)
    assert (answer.status_code, answer.json()["message"]) == (400, message)


def test_scopes_are_normalised_as_gitea_does():
    assert normalize(["read:repository", "write:repository", "write:user"]) == "write:repository,write:user"
    assert normalize([f"write:{c}" for c in ("activitypub", "admin", "misc", "notification", "organization",
                                             "package", "issue", "repository", "user")]) == "all"


def test_a_token_without_the_scope_is_refused_with_gitea_s_message(gitea):
    reader = new_token(gitea, "read:user", "read:repository")
    answer = api(gitea, "POST", "/user/repos", token=reader, json={"name": "demo"})
    assert answer.status_code == 403
    assert answer.json()["message"] == ("token does not have at least one of required scope(s), "
                                        "required=[write:user], token scope=read:repository,read:user")
    assert api(gitea, "GET", "/user", token=reader).status_code == 200
    repo_only = new_token(gitea, "write:repository", name="repo-only")
    assert api(gitea, "POST", "/user/repos", token=repo_only, json={"name": "demo"}).status_code == 403
    both = new_token(gitea, "write:repository", "write:user", name="both")
    assert api(gitea, "POST", "/user/repos", token=both, json={"name": "demo"}).status_code == 201


def test_admin_creates_users_and_others_may_not(gitea):
    made = api(gitea, "POST", "/admin/users", json={"username": "alice", "email": "alice@example.com",
                                                      "password": "alice-pass", "must_change_password": False})
    assert made.status_code == 201 and made.json()["login"] == "alice"
    again = api(gitea, "POST", "/admin/users", json={"username": "alice", "email": "a2@example.com"})
    assert (again.status_code, again.json()["message"]) == (422, "user already exists [name: alice]")
    as_alice = api(gitea, "POST", "/admin/users", auth=("alice", "alice-pass"),
                   json={"username": "bob", "email": "bob@example.com", "password": "x"})
    assert (as_alice.status_code, as_alice.json()["message"]) == (403, "user should be the site admin")
    api(gitea, "POST", "/admin/users", json={"username": "carol", "email": "c@example.com", "password": "c"})
    must_change = api(gitea, "GET", "/user", auth=("carol", "c"))
    assert must_change.status_code == 403 and "You must change your password" in must_change.json()["message"]


def test_oauth2_applications_show_the_secret_only_when_made(gitea):
    made = api(gitea, "POST", "/user/applications/oauth2", json={"name": "drone", "redirect_uris": [DRONE_LOGIN]})
    app = made.json()
    assert made.status_code == 201 and app["client_secret"].startswith("gto_")
    assert app["confidential_client"] is False  # unless asked for
    listed = api(gitea, "GET", "/user/applications/oauth2").json()
    assert [(a["client_id"], a["client_secret"]) for a in listed] == [(app["client_id"], "")]
    patched = api(gitea, "PATCH", f"/user/applications/oauth2/{app['id']}",
                  json={"name": "drone", "redirect_uris": [DRONE_LOGIN], "confidential_client": True}).json()
    assert patched["confidential_client"] is True and patched["client_secret"] not in ("", app["client_secret"])
    assert api(gitea, "DELETE", f"/user/applications/oauth2/{app['id']}").status_code == 204
    assert api(gitea, "GET", f"/user/applications/oauth2/{app['id']}").status_code == 404


def test_repositories_are_created_listed_and_paged(gitea):
    for name in ("one", "two", "three"):
        made = api(gitea, "POST", "/user/repos", json={"name": name, "private": name == "two", "auto_init": True})
        assert made.status_code == 201
    repo = made.json()
    assert repo["clone_url"] == f"{gitea.url}/{ADMIN}/three.git" and repo["default_branch"] == "main"
    assert repo["empty"] is False and repo["owner"]["login"] == ADMIN
    taken = api(gitea, "POST", "/user/repos", json={"name": "one"})
    assert (taken.status_code, taken.json()["message"]) == (409, "The repository with the same name already exists.")
    page2 = api(gitea, "GET", "/user/repos", params={"page": 2, "limit": 2})
    assert [r["name"] for r in page2.json()] == ["three"] and page2.headers["X-Total-Count"] == "3"
    assert api(gitea, "GET", f"/repos/{ADMIN}/two", auth=None).status_code == 404  # private: not there for guests
    assert api(gitea, "GET", f"/repos/{ADMIN}/one", auth=None).json()["permissions"]["push"] is False


def test_org_repositories_need_a_member(gitea):
    gitea.add_org("our-task", members=(ADMIN,))
    gitea.add_user("mallory", "m", "m@example.com")
    made = api(gitea, "POST", "/orgs/our-task/repos", json={"name": "nginx-demo"})
    assert made.status_code == 201 and made.json()["full_name"] == "our-task/nginx-demo"
    refused = api(gitea, "POST", "/orgs/our-task/repos", auth=("mallory", "m"), json={"name": "x"})
    assert refused.status_code == 403


def test_raw_file_as_drone_reads_the_drone_yml(gitea):
    api(gitea, "POST", "/user/repos", json={"name": "app", "auto_init": True, "description": "d"})
    head = gitea.git.refs(gitea.repo(f"{ADMIN}/app"))["refs/heads/main"]
    for path in ("/raw/main/README.md", f"/raw/{head}/README.md", "/raw/README.md?ref=main"):
        answer = api(gitea, "GET", f"/repos/{ADMIN}/app{path}")
        assert (answer.status_code, answer.content) == (200, b"# app\n\nd"), path
    assert api(gitea, "GET", f"/repos/{ADMIN}/app/raw/main/.drone.yml").status_code == 404


# The browser's OAuth2 login, as Drone's /login starts it and a person (or drone_kit) finishes it.

def oauth_app(gitea: FakeGitea, confidential: bool = True) -> dict:
    return api(gitea, "POST", "/user/applications/oauth2",
               json={"name": "drone", "redirect_uris": [DRONE_LOGIN], "confidential_client": confidential}).json()


def authorize(browser: requests.Session, gitea: FakeGitea, app: dict, redirect_uri: str = DRONE_LOGIN,
              **extra: str) -> requests.Response:
    params = {"client_id": app["client_id"], "redirect_uri": redirect_uri, "response_type": "code",
              "state": "st4te", **extra}
    return browser.get(f"{gitea.url}/login/oauth/authorize", params=params, allow_redirects=False, timeout=5)


def sign_in(browser: requests.Session, gitea: FakeGitea, password: str = PASSWORD) -> requests.Response:
    page = browser.get(f"{gitea.url}/user/login", timeout=5)
    form = Forms(page.text).forms[0]
    assert form["action"] == "/user/login" and form["inputs"]["_csrf"] == browser.cookies["_csrf"]
    fields = {**form["inputs"], "user_name": ADMIN, "password": password}
    return browser.post(gitea.url + form["action"], data=fields, allow_redirects=False, timeout=5)


def consent(browser: requests.Session, gitea: FakeGitea, page: requests.Response,
            **changes: str) -> requests.Response:
    form = Forms(page.text).forms[0]
    assert form["action"] == "/login/oauth/grant"
    fields = {**form["inputs"], "granted": "true", **changes}
    return browser.post(gitea.url + form["action"], data=fields, allow_redirects=False, timeout=5)


def code_of(answer: requests.Response) -> dict[str, str]:
    assert answer.status_code == 303, answer.text
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == DRONE_LOGIN
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def exchange(gitea: FakeGitea, app: dict, code: str, **changes: str) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
            "client_secret": app["client_secret"], "redirect_uri": DRONE_LOGIN, "state": "st4te", **changes}
    return requests.post(f"{gitea.url}/login/oauth/access_token", data=form, timeout=5)


def test_the_whole_first_login_as_drone_makes_it(gitea):
    app, browser = oauth_app(gitea), requests.Session()
    first = authorize(browser, gitea, app)
    assert (first.status_code, first.headers["Location"]) == (303, "/user/login")
    assert "i_like_gitea" in browser.cookies and "redirect_to" in browser.cookies
    signed_in = sign_in(browser, gitea)
    assert signed_in.status_code == 303 and signed_in.headers["Location"].startswith("/login/oauth/authorize?")
    grant_page = browser.get(gitea.url + signed_in.headers["Location"], timeout=5)
    inputs = Forms(grant_page.text).forms[0]["inputs"]
    assert set(inputs) == {"_csrf", "client_id", "state", "scope", "nonce", "redirect_uri", "granted"}
    back = code_of(consent(browser, gitea, grant_page))
    assert back["state"] == "st4te"
    tokens = exchange(gitea, app, back["code"]).json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    me = requests.get(f"{gitea.url}/api/v1/user", headers={"Authorization": f"Bearer {tokens['access_token']}"},
                      timeout=5)
    assert me.json()["login"] == ADMIN
    again = code_of(authorize(browser, gitea, app))  # granted once: a confidential client skips the consent page
    assert exchange(gitea, app, again["code"]).status_code == 200
    refreshed = requests.post(f"{gitea.url}/login/oauth/access_token", timeout=5, json={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": app["client_id"],
        "client_secret": app["client_secret"]})
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] != tokens["access_token"]


def test_a_wrong_password_shows_the_form_again_with_gitea_s_error(gitea):
    browser = requests.Session()
    answer = sign_in(browser, gitea, password="nope")
    assert answer.status_code == 200 and "Username or password is incorrect." in answer.text
    assert Forms(answer.text).forms[0]["action"] == "/user/login"


def test_the_sign_in_post_is_not_csrf_checked_as_in_gitea(gitea):
    answer = requests.post(f"{gitea.url}/user/login", data={"user_name": ADMIN, "password": PASSWORD},
                           allow_redirects=False, timeout=5)
    assert (answer.status_code, answer.headers["Location"]) == (303, "/")


def test_the_consent_form_needs_the_csrf_token_of_the_signed_in_session(gitea):
    app, browser = oauth_app(gitea), requests.Session()
    authorize(browser, gitea, app)
    stale = browser.cookies["_csrf"]  # the signed-out session's token
    grant_page = browser.get(gitea.url + sign_in(browser, gitea).headers["Location"], timeout=5)
    refused = consent(browser, gitea, grant_page, _csrf=stale)
    assert (refused.status_code, refused.text) == (400, "Invalid CSRF token.\n")
    grant_page = authorize(browser, gitea, app)
    missing = consent(browser, gitea, grant_page, _csrf="")
    assert missing.status_code == 400


@pytest.mark.parametrize("redirect_uri", ["http://drone.example.test/login/", "http://evil.test/login"])
def test_an_unregistered_redirect_uri_is_refused_without_redirecting(gitea, redirect_uri):
    app, browser = oauth_app(gitea), requests.Session()
    sign_in(browser, gitea)
    answer = authorize(browser, gitea, app, redirect_uri=redirect_uri)
    assert answer.status_code == 400 and "Unregistered Redirect URI" in answer.text


def test_a_public_client_without_pkce_is_sent_back_with_an_error(gitea):
    app, browser = oauth_app(gitea, confidential=False), requests.Session()
    sign_in(browser, gitea)
    back = code_of(authorize(browser, gitea, app))
    assert back == {"error": "invalid_request", "error_description": "PKCE is required for public clients",
                    "state": "st4te"}


def signed_in_code(gitea: FakeGitea, app: dict) -> str:
    browser = requests.Session()
    authorize(browser, gitea, app)
    grant_page = browser.get(gitea.url + sign_in(browser, gitea).headers["Location"], timeout=5)
    return code_of(consent(browser, gitea, grant_page))["code"]


def test_a_code_is_good_once(gitea):
    app = oauth_app(gitea)
    code = signed_in_code(gitea, app)
    assert exchange(gitea, app, code).status_code == 200
    reused = exchange(gitea, app, code)
    assert (reused.status_code, reused.json()) == (400, {"error": "unauthorized_client",
                                                         "error_description": "client is not authorized"})


@pytest.mark.parametrize("changes, error", [
    ({"client_id": "stale-id"}, ("invalid_client", "cannot load client with client id: 'stale-id'")),
    ({"client_secret": "wrong"}, ("unauthorized_client", "invalid client secret")),
    ({"redirect_uri": "http://evil.test/login"}, ("unauthorized_client", "unexpected redirect URI")),
    ({"grant_type": "password"},
     ("unsupported_grant_type", "Only refresh_token or authorization_code grant type is supported")),
])
def test_token_exchange_refusals(gitea, changes, error):
    app = oauth_app(gitea)
    answer = exchange(gitea, app, signed_in_code(gitea, app), **changes)
    assert (answer.status_code, answer.json()) == (400, {"error": error[0], "error_description": error[1]})


def test_a_refresh_token_is_good_once(gitea):
    app = oauth_app(gitea)
    tokens = exchange(gitea, app, signed_in_code(gitea, app)).json()
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": app["client_id"],
            "client_secret": app["client_secret"]}
    assert requests.post(f"{gitea.url}/login/oauth/access_token", data=form, timeout=5).status_code == 200
    reused = requests.post(f"{gitea.url}/login/oauth/access_token", data=form, timeout=5)
    assert reused.json() == {"error": "unauthorized_client", "error_description": "token was already used"}


def test_the_fake_comes_back_on_the_same_port_with_its_state(gitea):
    token = new_token(gitea, "read:user")
    port = gitea.server.port
    gitea.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{gitea.url}/api/v1/version", timeout=2)
    gitea.start()
    assert gitea.server.port == port
    assert api(gitea, "GET", "/user", token=token).json()["login"] == ADMIN
    assert re.fullmatch(r"\d+\.\d+\.\d+", api(gitea, "GET", "/version").json()["version"])


def test_every_list_is_paged_with_a_total_and_links_and_drone_kits_client_reads_each_item_once(gitea):
    from drone_kit.clients.gitea import GiteaClient
    token = new_token(gitea, "write:repository", "write:user")
    for number in range(3):
        assert api(gitea, "POST", "/user/applications/oauth2", token,
                   json={"name": f"app{number}", "redirect_uris": [DRONE_LOGIN]}).status_code == 201
    assert api(gitea, "POST", "/user/repos", token, json={"name": "web"}).status_code == 201
    for number in range(3):
        hook = {"type": "gitea", "config": {"url": f"http://127.0.0.1:9/{number}", "content_type": "json"}}
        assert api(gitea, "POST", f"/repos/{ADMIN}/web/hooks", token, json=hook).status_code == 201
    first = api(gitea, "GET", f"/repos/{ADMIN}/web/hooks", token, params={"limit": 2})
    assert first.headers["X-Total-Count"] == "3" and len(first.json()) == 2
    assert f'{gitea.root_url}api/v1/repos/{ADMIN}/web/hooks?limit=2&page=2>; rel="next"' in first.headers["Link"]
    second = api(gitea, "GET", f"/repos/{ADMIN}/web/hooks", token, params={"limit": 2, "page": 2})
    assert len(second.json()) == 1 and 'rel="prev"' in second.headers["Link"] and 'rel="next"' not in second.headers[
        "Link"]
    client = GiteaClient(gitea.url, token=token)
    assert sorted(hook["config"]["url"][-1] for hook in client.hooks(f"{ADMIN}/web")) == ["0", "1", "2"]
    assert sorted(app.name for app in client.oauth_apps()) == ["app0", "app1", "app2"]
