"""The scripted first login against a small Drone and a small Gitea on loopback that behave as
the real ones do on each step (drone/go-login login/internal/oauth2; harness/drone
handler/web/login.go; go-gitea/gitea routers/web/auth/oauth2_provider.go), serving the pages
of rendered_gitea_pages, across Gitea versions and the ways the login goes wrong."""

from __future__ import annotations

import logging
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest
import requests

from drone_kit.clients.drone_account import verify_first_login
from drone_kit.clients.oauth_login import FirstLogin, FirstLoginFailed, first_login
from tests.clients import rendered_gitea_pages as pages
from tests.fakes.http_server import FakeHandler, LoopbackServer

ADMIN, PASSWORD, DRONE_TOKEN, CLIENT_ID = "gitadmin", "Pw-not-in-any-message-4471", "d" * 32, "c0ffee-client"


class World:
    """Both services' state, the knobs that make them misbehave, and what Gitea was sent."""

    def __init__(self, version: str = "1.22") -> None:
        self.version = version
        self.confidential, self.known_client, self.two_factor = True, True, False
        self.sign_in_page: str | None = None  # another sign-in page than the version's own
        self.form_action = "/user/login"
        self.drone_refuses = ""  # Drone's /login/error message after a good code
        self.keeps_redirect_to = True  # Gitea 1.17+ returns to the authorize page after signing in
        self.granted_users: set[str] = set()
        self.codes: set[str] = set()
        self.sessions: dict[str, dict] = {}
        self.posts: list[tuple[str, dict]] = []
        self.last_login = 0
        self.drone_url = self.gitea_url = ""


def _cookies(handler: FakeHandler) -> dict[str, str]:
    jar = SimpleCookie(handler.headers.get("Cookie", ""))
    return {name: morsel.value for name, morsel in jar.items()}


def _reply(handler: FakeHandler, status: int, body: str = "", location: str = "", cookies: tuple[str, ...] = ()):
    data = body.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    if location:
        handler.send_header("Location", location)
    for cookie in cookies:
        handler.send_header("Set-Cookie", cookie)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def gitea_handler(world: World) -> type[FakeHandler]:
    class Gitea(FakeHandler):
        def _session(self) -> tuple[str, dict, list[str]]:
            sid = _cookies(self).get("i_like_gitea", "")
            if sid in world.sessions:
                return sid, world.sessions[sid], []
            sid = f"sid{len(world.sessions) + 1}"
            world.sessions[sid] = {"csrf": f"csrf-{sid}" if world.version != "1.26" else "", "user": ""}
            return sid, world.sessions[sid], [f"i_like_gitea={sid}; Path=/; HttpOnly; SameSite=Lax"]

        def do_GET(self):
            url = urlsplit(self.path)
            sid, session, cookies = self._session()
            if url.path == "/user/login":
                page = world.sign_in_page or self._sign_in_page(session["csrf"])
                return _reply(self, 200, page, cookies=tuple(cookies))
            if url.path == "/login/oauth/authorize":
                return self._authorize(url.query, session, cookies)
            _reply(self, 404, "Not found")

        def _sign_in_page(self, csrf: str, user_name: str = "", error: str = "") -> str:
            if world.version == "1.17":
                return pages.signin_1_17(csrf, user_name, error)
            return pages.signin_1_22(csrf, user_name, error) if csrf else pages.signin_1_26(user_name, error)

        def _authorize(self, query_text: str, session: dict, cookies: list[str]) -> None:
            query = {k: v[0] for k, v in parse_qs(query_text).items()}
            if not session["user"]:  # reqSignIn
                back = quote(f"/login/oauth/authorize?{query_text}", safe="")
                return _reply(self, 303, location="/user/login",
                              cookies=(*cookies, f"redirect_to={back}; Path=/; HttpOnly"))
            if not world.known_client or query.get("client_id") != CLIENT_ID:
                return _reply(self, 400, pages.grant_error("Client ID not registered"))
            redirect_uri, state = query["redirect_uri"], query.get("state", "")
            if redirect_uri != f"{world.drone_url}/login":
                return _reply(self, 400, pages.grant_error("Unregistered Redirect URI"))
            if not world.confidential:
                return self._back(redirect_uri, error="invalid_request",
                                  error_description="PKCE is required for public clients", state=state)
            if session["user"] in world.granted_users:
                return self._code(redirect_uri, state)
            session.update(client_id=CLIENT_ID, state=state, redirect_uri=redirect_uri)
            if world.version == "1.17":
                return _reply(self, 200, pages.grant_1_17(session["csrf"], CLIENT_ID, state, redirect_uri))
            if world.version == "1.22":
                return _reply(self, 200, pages.grant_1_22(session["csrf"], CLIENT_ID, state, redirect_uri))
            _reply(self, 200, pages.grant_1_26(CLIENT_ID, state, redirect_uri))

        def _back(self, redirect_uri: str, **params: str) -> None:
            _reply(self, 303, location=f"{redirect_uri}?{urlencode(params)}")

        def _code(self, redirect_uri: str, state: str) -> None:
            code = f"code{len(world.codes) + 1}"
            world.codes.add(code)
            self._back(redirect_uri, code=code, state=state)

        def do_POST(self):
            url = urlsplit(self.path)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode(),
                                                   keep_blank_values=True).items()}
            world.posts.append((url.path, form))
            sid, session, _ = self._session()
            if session["csrf"] and form.get("_csrf") != session["csrf"]:  # Gitea 1.17+: flash, then home
                return _reply(self, 303, location="/")
            if url.path == "/user/login":
                return self._sign_in(form, session)
            if url.path == "/login/oauth/grant":
                return self._grant(form, session)
            _reply(self, 404, "Not found")

        def _sign_in(self, form: dict, session: dict) -> None:
            if (form.get("user_name"), form.get("password")) != (ADMIN, PASSWORD):
                error = "Username or password is incorrect."
                return _reply(self, 200, self._sign_in_page(session["csrf"], form.get("user_name", ""), error))
            if world.two_factor:
                return _reply(self, 303, location="/user/two_factor")
            session["user"] = ADMIN
            back = unquote(_cookies(self).get("redirect_to", "")) if world.keeps_redirect_to else ""
            _reply(self, 303, location=back or "/", cookies=("redirect_to=; Path=/; Max-Age=0",))

        def _grant(self, form: dict, session: dict) -> None:
            if any(session.get(k) != form.get(k) for k in ("client_id", "state", "redirect_uri")):
                return _reply(self, 400, "Bad Request")
            if world.version != "1.17" and form.get("granted") != "true":
                return self._back(form["redirect_uri"], error="access_denied",
                                  error_description="the request is denied", state=form["state"])
            world.granted_users.add(session["user"])
            self._code(form["redirect_uri"], form["state"])

    return Gitea


def drone_handler(world: World) -> type[FakeHandler]:
    class Drone(FakeHandler):
        def do_GET(self):
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/api/user":
                if self.headers.get("Authorization") != f"Bearer {DRONE_TOKEN}":
                    return self.answer(401, {"message": "Unauthorized"})
                return self.answer(200, {"id": 1, "login": ADMIN, "machine": False, "admin": True, "active": True,
                                         "last_login": world.last_login})
            if url.path != "/login":
                return _reply(self, 404, "404 page not found")
            if "error" in query:
                return _reply(self, 303, location=f"/login/error?message={query['error']}")
            if "code" not in query:
                state = "5577006791947779410"
                authorize = f"{world.gitea_url}/login/oauth/authorize?" + urlencode({
                    "client_id": CLIENT_ID, "redirect_uri": f"{world.drone_url}/login", "response_type": "code",
                    "state": state})
                return _reply(self, 303, location=authorize, cookies=(f"_oauth_state_={state}; Max-Age=1800",))
            if _cookies(self).get("_oauth_state_") != query.get("state"):
                return _reply(self, 303, location="/login/error?message=Invalid state")
            if query["code"] not in world.codes:
                return _reply(self, 303, location="/login/error?message=unauthorized_client: client is not authorized")
            if world.drone_refuses:
                return _reply(self, 303, location=f"/login/error?message={world.drone_refuses}")
            world.last_login = 1700000000
            session = "_session_=abc; Path=/; Max-Age=2147483647; HttpOnly; SameSite=lax"
            _reply(self, 303, location="/", cookies=(session, "_oauth_state_=; Max-Age=0"))

    return Drone


class RecordingSession(requests.Session):
    """A session that notes how each request was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[dict] = []

    def request(self, method, url, **kwargs):  # type: ignore[override]
        self.asked.append({"method": method, "url": url, **kwargs})
        return super().request(method, url, **kwargs)


@pytest.fixture
def world():
    state = World()
    with LoopbackServer(gitea_handler(state)) as gitea, LoopbackServer(drone_handler(state)) as drone:
        state.gitea_url, state.drone_url = gitea.url, drone.url
        state.drone_server = drone
        yield state


def login(world: World, session: requests.Session | None = None) -> FirstLogin:
    return first_login(world.drone_url, ADMIN, PASSWORD, timeout=5.0, session=session)


@pytest.mark.parametrize("version", ["1.17", "1.22", "1.26"])
def test_the_first_login_signs_in_grants_and_gets_drones_session(world, version):
    world.version = version
    session = RecordingSession()
    assert login(world, session) == FirstLogin(granted=True, landed_on="/")
    (sign_in_path, sign_in), (grant_path, grant) = world.posts
    assert sign_in_path == "/user/login"
    assert sign_in == {**({"_csrf": "csrf-sid1"} if version != "1.26" else {}), "user_name": ADMIN,
                       "password": PASSWORD}
    assert grant_path == "/login/oauth/grant"
    assert grant == {**({"_csrf": "csrf-sid1"} if version != "1.26" else {}), "client_id": CLIENT_ID,
                     "state": "5577006791947779410", "scope": "", "nonce": "",
                     "redirect_uri": f"{world.drone_url}/login", **({"granted": "true"} if version != "1.17" else {})}
    assert session.cookies.get("_session_") == "abc"
    assert all(asked["timeout"] == 5.0 and asked["allow_redirects"] is False for asked in session.asked)
    assert verify_first_login(world.drone_url, DRONE_TOKEN, ADMIN)["last_login"] == 1700000000


def test_a_second_login_is_not_asked_for_the_grant(world):
    login(world)
    assert login(world) == FirstLogin(granted=False, landed_on="/")
    assert [path for path, _ in world.posts] == ["/user/login", "/login/oauth/grant", "/user/login"]


def test_a_gitea_that_forgets_where_it_was_going_is_sent_back(world):
    world.keeps_redirect_to = False
    assert login(world).granted


def manual(world: World) -> str:
    return f"log in once at {world.drone_url}/login in a browser as {ADMIN}, then run `drone_kit wire` again"


@pytest.mark.parametrize("setup, words", [
    (lambda w: setattr(w, "confidential", False),
     "Gitea refused the authorization: invalid_request: PKCE is required for public clients"),
    (lambda w: setattr(w, "known_client", False),
     "Gitea refused the authorization (HTTP 400): Authorization failed: Client ID not registered"),
    (lambda w: setattr(w, "sign_in_page", pages.signin_without_password_form()),
     "has no form with user_name and password (a Gitea whose forms differ"),
    (lambda w: setattr(w, "two_factor", True), f"Gitea asks {ADMIN} for a second factor"),
    (lambda w: setattr(w, "drone_refuses", "Machine account login is forbidden"),
     "Drone refused the login: Machine account login is forbidden (the Drone account is a machine account"),
    (lambda w: setattr(w, "sign_in_page", pages.signin_1_22("not-the-token")),
     "Gitea still asks for a sign-in after signing in as gitadmin"),
])
def test_each_wrong_turn_is_named_with_the_manual_step(world, caplog, setup, words):
    setup(world)
    with pytest.raises(FirstLoginFailed) as caught, caplog.at_level(logging.DEBUG):
        login(world)
    assert words in caught.value.message
    assert caught.value.hint == manual(world)
    assert "\n" not in caught.value.message
    assert PASSWORD not in caught.value.message + caught.value.hint
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)


def test_a_wrong_password_says_what_gitea_said_and_never_the_password(world, caplog):
    with pytest.raises(FirstLoginFailed) as caught, caplog.at_level(logging.DEBUG):
        first_login(world.drone_url, ADMIN, "Wrong-" + PASSWORD, timeout=5.0)
    assert caught.value.message == f"Gitea did not accept the sign-in as {ADMIN}: Username or password is incorrect."
    assert PASSWORD not in caught.value.message and all(PASSWORD not in r.getMessage() for r in caplog.records)


def test_the_password_goes_to_no_other_site(world):
    world.sign_in_page = pages.signin_1_22("csrf-sid1").replace('action="/user/login"',
                                                                'action="http://127.0.0.1:9/user/login"')
    with pytest.raises(FirstLoginFailed, match="drone_kit sends the password nowhere else"):
        login(world)
    assert world.posts == []


def test_no_drone_is_a_one_line_failure(world):
    world.drone_server.stop()
    with pytest.raises(FirstLoginFailed) as caught:
        login(world)
    assert caught.value.message == f"GET {world.drone_url}/login got no answer (ConnectionError)"
    assert caught.value.__suppress_context__


def test_verifying_before_any_login_asks_for_the_manual_step(world):
    with pytest.raises(FirstLoginFailed) as caught:
        verify_first_login(world.drone_url, DRONE_TOKEN, ADMIN)
    assert "has never logged in through Gitea" in caught.value.message and caught.value.hint == manual(world)
    with pytest.raises(FirstLoginFailed, match="refused the admin's token"):
        verify_first_login(world.drone_url, "wrong", ADMIN)
