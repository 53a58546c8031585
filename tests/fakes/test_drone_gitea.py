"""The Drone fake that works with Gitea (tests/fakes/drone_gitea*.py), against the real Gitea fake,
and drone_kit's own Gitea client and headless login against both."""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest
import requests

from drone_kit.clients.drone_account import verify_first_login
from drone_kit.clients.login_browser import FirstLoginFailed
from drone_kit.clients.oauth_login import first_login
from tests.fakes.drone_gitea import DroneConfig, DroneStartError
from tests.fakes.drone_gitea_config import UserCreate
from tests.fakes.drone_gitea_scm import next_page
from tests.fakes.drone_gitea_world import ADMIN, PASSWORD, location, wire

# Configuration and start


def test_configuration_is_read_as_drone_reads_its_environment():
    config = DroneConfig.from_env({
        "DRONE_GITEA_SERVER": "http://gitea.lan:3000/", "DRONE_GITEA_CLIENT_ID": "id",
        "DRONE_GITEA_CLIENT_SECRET": "s", "DRONE_SERVER_HOST": "HTTP://Drone.lan",
        "DRONE_SERVER_PROXY_HOST": "shim:8080",
        "DRONE_USER_CREATE": "username:root,admin:true,token:abc,machine:yes,bad:a:b"})
    assert (config.addr, config.hook_addr, config.login_redirect) == (
        "http://drone.lan", "http://shim:8080", "http://drone.lan/login")
    assert config.gitea_base == "http://gitea.lan:3000"
    assert config.seeded_user == UserCreate("root", admin=True, machine=False, token="abc")
    assert replace(config, proxy_host="").hook_addr == "http://drone.lan"


@pytest.mark.parametrize("changes, message", [
    ({"gitea_server": "127.0.0.1:3000"},
     'main: cannot create the Gitea client: parse "127.0.0.1:3000": first path segment in URL cannot contain colon'),
    ({"server_port": "tcp://10.43.0.7:80"}, "main: invalid configuration: Invalid port configuration."),
    ({"user_create": "username:ci,machine:true"}, "cannot bootstrap user account: You must provide the machine"),
])
def test_drone_refuses_to_start_where_it_would_exit(drone, changes, message):
    config = replace(DroneConfig("http://gitea.lan", "id", "secret", server_host=drone.host), **changes)
    with pytest.raises(DroneStartError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        drone.start(config)
    assert not drone.running


# /login


def test_login_sends_the_browser_to_gitea_with_a_state_cookie(world):
    answer = requests.get(f"{world.drone.url}/login", allow_redirects=False, timeout=5)
    state = answer.cookies["_oauth_state_"]
    assert answer.status_code == 303 and "Max-Age=1800" in answer.headers["Set-Cookie"]
    assert answer.headers["Location"] == (
        f"{world.gitea.url}/login/oauth/authorize?client_id={world.config.client_id}"
        f"&redirect_uri=http%3A%2F%2F127.0.0.1%3A{world.drone.port}%2Flogin&response_type=code&state={state}")


@pytest.mark.parametrize("query, cookie, message", [
    ("code=abc&state=s1", None, "http: named cookie not present"),
    ("code=abc&state=s1", "s2", "Invalid state"),
    ("error=invalid_request&error_description=PKCE+is+required", None, "invalid_request"),
    ("code=not-a-code&state=s1", "s1", "unauthorized_client: client is not authorized"),
])
def test_login_errors_go_to_login_error_with_drone_s_words(world, query, cookie, message):
    cookies = {"_oauth_state_": cookie} if cookie else {}
    answer = requests.get(f"{world.drone.url}/login?{query}", cookies=cookies, allow_redirects=False, timeout=5)
    assert answer.status_code == 303
    assert location(answer) == ("/login/error", {"message": message})
    assert answer.headers["Location"] == f"/login/error?message={message}"  # Go does not escape it


def test_a_gitea_server_without_scheme_starts_and_fails_at_the_code_exchange(gitea, drone):
    world = wire(gitea, drone, gitea_server=f"localhost:{gitea.server.port}")
    answer = requests.get(f"{drone.url}/login", allow_redirects=False, timeout=5)
    assert answer.headers["Location"].startswith(f"localhost:{gitea.server.port}/login/oauth/authorize?")
    callback = requests.get(f"{drone.url}/login?code=c&state=s", cookies={"_oauth_state_": "s"},
                            allow_redirects=False, timeout=5)
    assert location(callback)[1]["message"] == (
        f'Post "localhost:{gitea.server.port}/login/oauth/access_token": unsupported protocol scheme "localhost"')
    assert world.drone.user(ADMIN).last_login == 0


def test_first_login_through_the_real_gitea_fake_grants_once(world):
    first = first_login(world.drone.url, ADMIN, PASSWORD)
    # The seeded account has no e-mail and was created after 2021: login.go sends it to /register.
    assert (first.granted, first.landed_on) == (True, "/register")
    assert first_login(world.drone.url, ADMIN, PASSWORD).granted is False
    user = world.drone.user(ADMIN)
    assert user.token in world.gitea.oauth_access_tokens and user.refresh and user.last_login
    account = verify_first_login(world.drone.url, world.drone_token, ADMIN)
    assert (account["login"], account["admin"], account["machine"]) == (ADMIN, True, False)
    assert not {"token", "refresh", "hash"} & set(account)


def test_a_wrong_client_secret_ends_on_login_error_with_gitea_s_words(gitea, drone):
    world = wire(gitea, drone, client_secret="gto_wrong")
    with pytest.raises(FirstLoginFailed) as failed:
        first_login(drone.url, ADMIN, PASSWORD)
    assert str(failed.value) == ("Drone refused the login: unauthorized_client: invalid client secret "
                                 "(Drone's DRONE_GITEA_CLIENT_SECRET is not the application's secret)")
    assert failed.value.hint == (f"log in once at {drone.url}/login in a browser as {ADMIN}, "
                                 "then run `drone_kit wire` again")
    with pytest.raises(FirstLoginFailed, match="never logged in"):
        verify_first_login(drone.url, world.drone_token, ADMIN)


def test_a_public_oauth_app_is_refused_by_gitea_for_want_of_pkce(gitea, drone):
    wire(gitea, drone, confidential=False)
    with pytest.raises(FirstLoginFailed) as failed:
        first_login(drone.url, ADMIN, PASSWORD)
    assert str(failed.value) == ("Gitea refused the authorization: invalid_request: PKCE is required for public "
                                 "clients (Gitea wants PKCE: the OAuth2 application is not confidential)")


def test_a_machine_account_cannot_log_in(gitea, drone):
    wire(gitea, drone, user_create=f"username:{ADMIN},admin:true,machine:true,token:{'m' * 32}")
    with pytest.raises(FirstLoginFailed, match="Drone refused the login: Machine account login is forbidden"):
        first_login(drone.url, ADMIN, PASSWORD)


def test_a_restart_reapplies_user_create_and_keeps_the_database(logged_in):
    world, drone = logged_in, logged_in.drone
    new_token = secrets.token_hex(16)
    drone.restart(replace(world.config, user_create=f"username:{ADMIN},admin:true,token:{new_token}"))
    assert world.api("GET", "/user").status_code == 401
    account = world.api("GET", "/user", token=new_token).json()
    assert account["last_login"] and drone.user(ADMIN).token  # the Gitea token survived the rollout
    assert drone.url == f"http://127.0.0.1:{drone.port}"


# The REST API


def test_api_user_needs_the_api_token(world):
    assert world.api("GET", "/user", token="wrong").json() == {"message": "Unauthorized"}
    assert world.api("GET", "/user", token="wrong").status_code == 401
    account = world.api("GET", "/user").json()
    assert (account["login"], account["admin"], account["machine"], account["last_login"]) == (ADMIN, True, False, 0)


def test_a_user_that_never_logged_in_has_no_gitea_token_for_sync_or_activation(world):
    world.gitea_client().create_repository("app", auto_init=True)
    sync = world.api("POST", "/user/repos")
    # go-scm sends `Bearer` with no token; Gitea's 401 becomes the status text alone.
    assert (sync.status_code, sync.json()) == (500, {"message": "Unauthorized"})
    assert world.api("POST", f"/repos/{ADMIN}/app").json() == {"message": "Not Found"}


def test_sync_lists_the_user_s_gitea_repositories(logged_in):
    client = logged_in.gitea_client()
    client.create_repository("app", auto_init=True)
    client.create_repository("secret", private=True)
    synced = logged_in.api("POST", "/user/repos").json()
    assert [(r["slug"], r["active"], r["visibility"]) for r in synced] == [
        (f"{ADMIN}/app", False, "public"), (f"{ADMIN}/secret", False, "private")]
    assert synced[0]["git_http_url"] == f"{logged_in.gitea.root_url}{ADMIN}/app.git"
    assert [r["slug"] for r in logged_in.api("GET", "/user/repos").json()] == [f"{ADMIN}/app", f"{ADMIN}/secret"]
    assert logged_in.api("POST", "/user/repos", params={"async": "true"}).status_code == 204


def test_the_next_page_comes_from_the_link_header_only():
    link = '<http://g/api/v1/user/repos?limit=100&page=2>; rel="next", <http://g/api/v1/user/repos?page=5>; rel="last"'
    assert (next_page(link), next_page(""), next_page('<http://g/x?page=5>; rel="last"')) == (2, 0, 0)
