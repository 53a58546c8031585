"""What `doctor`'s hooks check reads, beside the cluster view, as plain data: from Gitea (with
drone_kit's access token) the repositories that have a hook to the shim, their hooks and the head
of their default branch; then from the shim, through the API server, its record of the hooks it
received (GET /deliveries, newest first, back to the time asked for) and how many hooks it refused
for a bad signature since it started (GET /metrics: those never reach its record). Gitea is read
first, so that a hook on its way while Gitea answers is in the shim's record when that is read.
Read-only: nothing is sent to Gitea, the shim or Drone."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Protocol

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.clients.gitea import GiteaClient
from drone_kit.clients.gitea_api import GiteaError
from drone_kit.platform.components import shim
from drone_kit.platform.config import DRONE_KIT_NAMESPACE, PlatformConfig
from drone_kit.platform.repo_plan import hooks_to_shim
from drone_kit.platform.secrets_store import read_value
from drone_kit.platform.wiring_plan import GITEA_TOKEN_SECRET

SHIM_PORT = 80  # the shim Service's port
PAGE = 500  # the most GET /deliveries gives at once
MAX_PAGES = 20
DAY = 24 * 3600.0
REFUSED = re.compile(r'^drone_kit_shim_hooks_rejected_total\{reason="signature"\} ([0-9.e+]+)$', re.MULTILINE)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY, "y": 365 * DAY}


class ServiceProxy(Protocol):
    """How the shim is reached: ClusterObjects.proxy_get, through the API server's service proxy."""

    def proxy_get(self, namespace: str, service: str, port: int | str, path: str,
                  timeout: float = 5.0) -> tuple[int, str]: ...


@dataclass
class WiredRepo:
    name: str  # OWNER/NAME, as Gitea spells it
    hooks: list[dict]  # every hook of the repository, as Gitea lists them
    head: dict | None = None  # its default branch as GET …/branches/{name} answers; None when it has none


@dataclass
class HooksView:
    read_at: float  # when it was read: the time the check judges by
    gitea_url: str  # where Gitea was asked (the hook pages the fixes link to)
    wired: bool = True  # `drone_kit wire` has stored drone_kit's Gitea token
    gitea_error: str = ""  # why Gitea could not say which repositories are wired ('' when it could)
    repos: list[WiredRepo] = field(default_factory=list)
    deliveries: list[dict] | None = None  # the shim's record, newest first; None when it could not be read
    covered_since: float = 0.0  # every hook the shim received since then is in `deliveries`
    shim_error: str = ""  # why the record could not be read
    signature_refusals: int | None = None  # hooks refused for a bad signature since the shim started


def lookback(config: PlatformConfig) -> float:
    """Pure: how far back the shim's record is read: a day, or less when the shim forgets
    delivered hooks sooner (shim.retention, e.g. 12h or 1d12h)."""
    parts = re.findall(r"([0-9]+)(ms|[smhdwy])", config.shim.retention)
    retention = sum(int(number) * _UNITS[unit] for number, unit in parts)
    return min(DAY, retention) if retention > 0 else DAY


def wired_repos(gitea: GiteaClient) -> list[WiredRepo]:
    """The repositories drone_kit's token sees whose hooks include one to the shim."""
    found = []
    for repo in gitea.repositories():
        name = str(repo.get("full_name") or "")
        try:
            hooks = gitea.hooks(name)
        except GiteaError as e:
            if e.status in (403, 404):  # not an admin of it: its hooks are not drone_kit's to see
                continue
            raise
        if hooks_to_shim(hooks):
            branch = str(repo.get("default_branch") or "")
            found.append(WiredRepo(name, hooks, gitea.branch(name, branch) if branch and not repo.get("empty")
                                   else None))
    return found


def _said(status: int, body: str) -> str:
    first = " ".join(body.split())[:120]
    return f"HTTP {status}{': ' + first if first else ''}" if status else "no answer"


def shim_record(proxy: ServiceProxy, since: float) -> tuple[list[dict], float] | str:
    """The shim's hooks, newest first, back to one received before `since` (or all it has), and
    the time from which the list is complete; or why it could not be read."""
    records: list[dict] = []
    path = f"deliveries?limit={PAGE}"
    for _ in range(MAX_PAGES):
        status, body = proxy.proxy_get(DRONE_KIT_NAMESPACE, shim.NAME, SHIM_PORT, path)
        if status != 200:
            return f"GET /deliveries: {_said(status, body)}"
        try:
            page = json.loads(body)
        except ValueError:
            page = None
        if not isinstance(page, list):
            return "GET /deliveries: not the shim's JSON list"
        records += [record for record in page if isinstance(record, dict)]
        if len(page) < PAGE:
            return records, since  # the whole record: what is older was pruned, or never came
        oldest = float(records[-1].get("received") or 0)
        if oldest < since:
            return records, since
        path = f"deliveries?limit={PAGE}&before={records[-1].get('id')}"
    return records, float(records[-1].get("received") or 0)


def signature_refusals(proxy: ServiceProxy) -> int | None:
    status, body = proxy.proxy_get(DRONE_KIT_NAMESPACE, shim.NAME, SHIM_PORT, "metrics")
    found = REFUSED.search(body) if status == 200 else None
    return int(float(found.group(1))) if found else (0 if status == 200 else None)


def gather_hooks(proxy: ServiceProxy, gitea: GiteaClient | None, gitea_url: str, now: float,
                 since: float) -> HooksView:
    """Everything the hooks check reads; `gitea` None when `drone_kit wire` has not run."""
    view = HooksView(read_at=now, gitea_url=gitea_url, wired=gitea is not None)
    if gitea is not None:
        try:
            view.repos = wired_repos(gitea)
        except GiteaError as e:  # its messages never carry the token
            view.gitea_error = e.message
    record = shim_record(proxy, since)
    if isinstance(record, str):
        view.shim_error = record
    else:
        view.deliveries, view.covered_since = record
        view.signature_refusals = signature_refusals(proxy)
    return view


def read_hooks(cluster: ClusterObjects, config: PlatformConfig, gitea_url: str, now: float) -> HooksView:
    """gather_hooks with the token `drone_kit wire` stored, and the shim reached through the cluster."""
    token = read_value(cluster, DRONE_KIT_NAMESPACE, GITEA_TOKEN_SECRET, "token")
    gitea = GiteaClient(gitea_url, token=token, timeout=10, attempts=2) if token else None
    return gather_hooks(cluster, gitea, gitea_url, now, now - lookback(config))
