"""Wiring Gitea to Drone, after bootstrap: drone_kit's access token in Gitea, Drone's OAuth2
application, Drone's wiring settings (Drone restarted when they change) and the admin's first
login to Drone through Gitea. Each step looks at what is there first, so a second run changes
nothing; what it decides is in wiring_plan.py.

Every value it makes is kept in a Kubernetes Secret, and none is ever printed.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.clients.drone import DroneClient
from drone_kit.clients.drone_account import verify_first_login
from drone_kit.clients.gitea import GiteaClient, TokenNameTaken
from drone_kit.clients.gitea_api import GiteaError
from drone_kit.clients.login_browser import FirstLoginFailed
from drone_kit.clients.oauth_login import first_login
from drone_kit.errors import DroneKitError
from drone_kit.platform.component import GeneratedSecret, Workload
from drone_kit.platform.components import gitea, shim
from drone_kit.platform.config import DRONE_KIT_NAMESPACE, DRONE_NAMESPACE, GITEA_NAMESPACE, PlatformConfig
from drone_kit.platform.install import Installer, Report
from drone_kit.platform.objects import content_hash, metadata
from drone_kit.platform.secrets_store import ensure_secret, read_value
from drone_kit.platform.wiring_plan import (
    GITEA_TOKEN_SECRET,
    OAUTH_APP_NAME,
    SETTINGS_HASH,
    TOKEN_NAME,
    TOKEN_SCOPES,
    WIRING_SECRET,
    LiveApp,
    StoredClient,
    drone_settings,
    login_redirect,
    oauth_step,
    restart_needed,
    settings_hash,
)

NAME = "wiring"
WIRING_MANAGER = "drone-kit-wiring"  # owns only its annotations: bootstrap and the Secrets' writer own the rest
LOGGED_IN_WITH = "drone-kit.io/logged-in-with"  # the OAuth2 client the admin's last login to Drone went through
DRONE_TOKEN = GeneratedSecret(DRONE_KIT_NAMESPACE, shim.DRONE_TOKEN_SECRET, (shim.DRONE_TOKEN_KEY,),
                              sizes=((shim.DRONE_TOKEN_KEY, 32),))  # Drone's API tokens are 32 characters


@dataclass
class Wiring:
    cluster: ClusterObjects
    config: PlatformConfig
    gitea_url: str  # where drone_kit reaches Gitea (its ROOT_URL unless told otherwise)
    drone_url: str  # where drone_kit reaches Drone
    report: Report
    timeout: float = 180.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    changed: list[str] = field(default_factory=list)

    def run(self) -> list[str]:
        """What it changed, in words; [] when everything was already wired."""
        admin, password = self._admin()
        api = GiteaClient(self.gitea_url, token=self._gitea_token(admin, password))
        client, made = self._oauth_client(api)
        ensure_secret(self.cluster, DRONE_TOKEN)
        token = read_value(self.cluster, DRONE_TOKEN.namespace, DRONE_TOKEN.name, shim.DRONE_TOKEN_KEY) or ""
        settings = drone_settings(self.config, client, self._shim_signer("hook-secret"),
                                  self._shim_signer("webhook-secret"), token)
        self._store(DRONE_NAMESPACE, WIRING_SECRET, settings)
        self._restart_on_change("drone_server", Workload("Deployment", DRONE_NAMESPACE, "drone"),
                                settings_hash(settings))
        # the shim reads Drone's token at start, to look for builds of hooks it was sending
        self._restart_on_change("shim", Workload("Deployment", DRONE_KIT_NAMESPACE, shim.NAME), content_hash(token))
        # Gitea drops an application's grants with it: Drone's Gitea token for the admin dies with the
        # application, so the login is done again for each new one, even after a run that stopped.
        self._first_login(admin, password, token, again=made or self._logged_in_with() != client.client_id)
        self._remember_login(client.client_id)
        self.report(NAME, "ready", "; ".join(self.changed) or "already wired")
        return self.changed

    def _admin(self) -> tuple[str, str]:
        spec = gitea.admin_secret(self.config)
        user, password = (read_value(self.cluster, GITEA_NAMESPACE, spec.name, key) for key in ("username", "password"))
        if not user or not password:
            raise DroneKitError(f"Gitea's admin Secret {GITEA_NAMESPACE}/{spec.name} is missing or incomplete",
                                hint="run `drone_kit bootstrap` first: it creates Gitea and its admin")
        return user, password

    def _shim_signer(self, key: str) -> str:
        value = read_value(self.cluster, shim.SIGNERS.namespace, shim.SIGNERS.name, key)
        if not value:
            raise DroneKitError(f"the shim's Secret {shim.SIGNERS.namespace}/{shim.SIGNERS.name} lacks {key}",
                                hint="run `drone_kit bootstrap` first: it creates the shim and its signers")
        return value

    def _store(self, namespace: str, name: str, values: dict[str, str]) -> None:
        # `data`, not `stringData`: the server never stores the latter, so applying it would be a
        # change, and a write, at every run.
        data = {key: base64.b64encode(value.encode()).decode() for key, value in values.items()}
        self.cluster.apply({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                            "metadata": metadata("secrets", name, namespace), "data": data})

    def _gitea_token(self, admin: str, password: str) -> str:
        """The stored token while Gitea still takes it; else a new one (Gitea shows a token once,
        so one of the same name is deleted first)."""
        stored = read_value(self.cluster, DRONE_KIT_NAMESPACE, GITEA_TOKEN_SECRET, "token")
        if stored:
            try:
                GiteaClient(self.gitea_url, token=stored).current_user()
                return stored
            except GiteaError as e:
                if e.status != 401:
                    raise
        basic = GiteaClient(self.gitea_url, username=admin, password=password)
        try:
            made = basic.create_token(TOKEN_NAME, TOKEN_SCOPES)
        except TokenNameTaken:
            basic.delete_token(TOKEN_NAME)
            made = basic.create_token(TOKEN_NAME, TOKEN_SCOPES)
        self._store(DRONE_KIT_NAMESPACE, GITEA_TOKEN_SECRET, {"token": made.sha1})
        self._changed(f"Gitea access token {TOKEN_NAME!r} created")
        return made.sha1

    def _oauth_client(self, api: GiteaClient) -> tuple[StoredClient, bool]:
        """The application's client, and whether it was made in this run."""
        def stored(key: str) -> str:
            return read_value(self.cluster, DRONE_NAMESPACE, WIRING_SECRET, key) or ""

        current = StoredClient(stored("DRONE_GITEA_CLIENT_ID"), stored("DRONE_GITEA_CLIENT_SECRET"))
        app = api.find_oauth_app(OAUTH_APP_NAME)
        redirect = login_redirect(self.config)
        step = oauth_step(LiveApp(app.client_id, app.redirect_uris, app.confidential) if app else None, current,
                          redirect)
        if step == "keep":
            return current, False
        if app is not None:
            api.delete_oauth_app(app.id)
        made = api.create_oauth_app(OAUTH_APP_NAME, [redirect], confidential=True)
        self._changed(f"Gitea OAuth2 application {OAUTH_APP_NAME!r} {'created' if step == 'create' else 'made again'}")
        return StoredClient(made.client_id, made.client_secret), True

    def _restart_on_change(self, component: str, workload: Workload, digest: str) -> None:
        live = self.cluster.get("apps/v1", "Deployment", workload.name, workload.namespace)
        if live is None:
            raise DroneKitError(f"Deployment {workload.namespace}/{workload.name} does not exist",
                                hint=f"run `drone_kit bootstrap` first (`--only {component}`)")
        if not restart_needed(digest, (live["spec"]["template"].get("metadata") or {}).get("annotations") or {}):
            return
        self.cluster.apply({"apiVersion": "apps/v1", "kind": "Deployment",
                            "metadata": {"name": workload.name, "namespace": workload.namespace},
                            "spec": {"template": {"metadata": {"annotations": {SETTINGS_HASH: digest}}}}},
                           field_manager=WIRING_MANAGER)
        self.report(NAME, "waiting", f"for {workload.name} to restart with its new settings")
        Installer(self.cluster, self.report, self.timeout, self.timeout, clock=self.clock,
                  sleep=self.sleep).wait_ready(NAME, workload)
        self._changed(f"{workload.name} restarted")

    def _first_login(self, admin: str, password: str, token: str, again: bool) -> None:
        self._until_answers()
        if not again:
            try:
                verify_first_login(self.drone_url, token, admin)
                return
            except FirstLoginFailed:
                pass
        self.report(NAME, "waiting", f"for {admin}'s first login to Drone through Gitea")
        first_login(self.drone_url, admin, password)
        verify_first_login(self.drone_url, token, admin)
        self._changed(f"{admin} logged in to Drone through Gitea")

    def _logged_in_with(self) -> str:
        live = self.cluster.get("v1", "Secret", WIRING_SECRET, DRONE_NAMESPACE) or {}
        return ((live.get("metadata") or {}).get("annotations") or {}).get(LOGGED_IN_WITH, "")

    def _remember_login(self, client_id: str) -> None:
        if self._logged_in_with() != client_id:
            self.cluster.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {
                "name": WIRING_SECRET, "namespace": DRONE_NAMESPACE, "annotations": {LOGGED_IN_WITH: client_id}}},
                field_manager=WIRING_MANAGER)

    def _until_answers(self) -> None:
        drone, deadline = DroneClient(self.drone_url), self.clock() + self.timeout
        while not drone.reachable():
            if self.clock() >= deadline:
                raise DroneKitError(f"Drone does not answer at {self.drone_url}",
                                    hint="check the address (--drone-url) and `drone_kit status`")
            self.sleep(2.0)

    def _changed(self, what: str) -> None:
        self.changed.append(what)
        self.report(NAME, "changed", what)
