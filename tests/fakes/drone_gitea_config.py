"""The configuration Drone 2 reads at start for Gitea, and the start-up failures it gives.

Sources (harness/harness branch `drone`, read not copied): cmd/drone-server/config/config.go
(the DRONE_* names and defaults, cleanHostname, defaultAddress, defaultProxy, UserCreate.Decode,
kubernetesServiceConflict), cmd/drone-server/inject_login.go (provideGiteaLogin: the redirect URI
is DRONE_GITEA_REDIRECT_URL or `{proto}://{host}/login`; the scope is handed over but go-login's
gitea Config never uses it), inject_client.go (provideGiteaClient: go-scm's gitea.New parses
DRONE_GITEA_SERVER and a parse error is fatal), main.go and bootstrap/bootstrap.go
(DRONE_USER_CREATE applied at every start; a machine account needs a token), handler/api/repos/
enable.go (DRONE_FEATURE_SERVER_PROXY_SECRET, read by the process at start).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Go's getScheme: a letter, then letters, digits, + - . — up to the first colon.
GO_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
PORT_CONFLICT = ("Invalid port configuration. "
                 "See https://community.harness.io/t/drone-server-changing-ports-protocol/11400")
MISSING_MACHINE_TOKEN = "You must provide the machine account token"


class DroneStartError(RuntimeError):
    """Drone's process would log this with logrus' Fatalln and exit: the pod crash-loops."""


@dataclass(frozen=True)
class UserCreate:
    """DRONE_USER_CREATE, decoded as UserCreate.Decode does: `key:value` pairs split on commas,
    a pair with other than one colon skipped, booleans true only when spelled `true`."""

    username: str = ""
    admin: bool = False
    machine: bool = False
    token: str = ""

    @classmethod
    def decode(cls, value: str) -> UserCreate:
        fields: dict[str, str] = {}
        for pair in value.split(","):
            parts = pair.split(":")
            if len(parts) == 2:
                fields[parts[0]] = parts[1]
        return cls(fields.get("username", ""), fields.get("admin") == "true", fields.get("machine") == "true",
                   fields.get("token", ""))


def go_url_scheme(raw: str) -> str:
    """The scheme Go's url.Parse finds in `raw`, "" for none; ValueError with Go's words when it
    cannot parse it (a colon in the first path segment, as in `127.0.0.1:3000`)."""
    found = GO_SCHEME.match(raw)
    if found:
        return found[1].lower()
    first_segment = raw.split("/", 1)[0]
    if ":" in first_segment:
        raise ValueError(f'parse "{raw}": first path segment in URL cannot contain colon')
    return ""


def _clean_hostname(host: str) -> str:
    return host.lower().removeprefix("http://").removeprefix("https://")


@dataclass(frozen=True)
class DroneConfig:
    gitea_server: str  # DRONE_GITEA_SERVER, with its scheme
    client_id: str  # DRONE_GITEA_CLIENT_ID
    client_secret: str  # DRONE_GITEA_CLIENT_SECRET
    server_host: str = "localhost:8080"  # DRONE_SERVER_HOST
    server_proto: str = "http"  # DRONE_SERVER_PROTO
    proxy_host: str = ""  # DRONE_SERVER_PROXY_HOST: where Gitea's hooks go; the server host when unset
    proxy_proto: str = ""  # DRONE_SERVER_PROXY_PROTO
    rpc_secret: str = ""  # DRONE_RPC_SECRET
    user_create: str = ""  # DRONE_USER_CREATE, e.g. `username:gitea-admin,admin:true,token:…`
    proxy_secret: str = ""  # DRONE_FEATURE_SERVER_PROXY_SECRET: every activation's signer
    redirect_url: str = ""  # DRONE_GITEA_REDIRECT_URL
    cookie_secret: str = ""  # DRONE_COOKIE_SECRET; random at each start when unset (sessions lost)
    server_port: str = ""  # DRONE_SERVER_PORT, as a Kubernetes Service named drone-server injects it

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DroneConfig:
        """The configuration from a container's environment, as envconfig reads it."""
        def get(name: str, default: str = "") -> str:
            return env.get(name, default)
        return cls(get("DRONE_GITEA_SERVER"), get("DRONE_GITEA_CLIENT_ID"), get("DRONE_GITEA_CLIENT_SECRET"),
                   get("DRONE_SERVER_HOST", "localhost:8080"), get("DRONE_SERVER_PROTO", "http"),
                   get("DRONE_SERVER_PROXY_HOST"), get("DRONE_SERVER_PROXY_PROTO"), get("DRONE_RPC_SECRET"),
                   get("DRONE_USER_CREATE"), get("DRONE_FEATURE_SERVER_PROXY_SECRET"),
                   get("DRONE_GITEA_REDIRECT_URL"), get("DRONE_COOKIE_SECRET"), get("DRONE_SERVER_PORT"))

    @property
    def host(self) -> str:
        return _clean_hostname(self.server_host)

    @property
    def addr(self) -> str:
        """Server.Addr: `{proto}://{host}`, what Drone calls itself."""
        return f"{self.server_proto}://{self.host}"

    @property
    def hook_host(self) -> str:
        return _clean_hostname(self.proxy_host) if self.proxy_host else self.host

    @property
    def hook_addr(self) -> str:
        """Proxy.Addr: the hook target's base; the hook service appends `/hook`."""
        return f"{self.proxy_proto or self.server_proto}://{self.hook_host}"

    @property
    def login_redirect(self) -> str:
        return self.redirect_url or f"{self.addr}/login"

    @property
    def gitea_base(self) -> str:
        """The base go-login and go-scm put their paths on (normalizeAddress: no trailing slash)."""
        return self.gitea_server.rstrip("/")

    @property
    def seeded_user(self) -> UserCreate:
        return UserCreate.decode(self.user_create)

    def check(self) -> None:
        """What makes Drone exit at start, in main.go's order; nothing for what only fails later
        (a DRONE_GITEA_SERVER without a scheme that Go still parses fails at the first request)."""
        if self.server_port.startswith("tcp://"):
            raise DroneStartError(f"main: invalid configuration: {PORT_CONFLICT}")
        if not self.gitea_server:
            raise DroneStartError("main: source code management system not configured")
        try:
            go_url_scheme(self.gitea_server)
        except ValueError as e:
            raise DroneStartError(f"main: cannot create the Gitea client: {e}") from None
        seeded = self.seeded_user
        if seeded.username and seeded.machine and not seeded.token:
            raise DroneStartError(f"cannot bootstrap user account: {MISSING_MACHINE_TOKEN}")
