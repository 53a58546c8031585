"""What the hooks check reads: the shim's record a page at a time back to the time asked for, its
count of bad signatures from /metrics, how far back to read, and Gitea's wired repositories; each
read through stand-ins that answer as the shim and the API server's proxy do."""

from __future__ import annotations

import dataclasses
import json

import pytest

from drone_kit.clients.gitea_api import GiteaError
from drone_kit.platform.config import PlatformConfig, ShimSection
from drone_kit.platform.doctor_hooks_view import (
    DAY,
    PAGE,
    gather_hooks,
    lookback,
    shim_record,
    signature_refusals,
    wired_repos,
)

NOW = 1_800_000_000.0


class Proxy:
    """The API server's service proxy in front of a shim holding `count` hooks, one a minute."""

    def __init__(self, count: int, metrics: str = "", status: int = 200) -> None:
        self.records = [{"id": n, "repo": "our-task/app", "received": NOW - (count - n) * 60, "status": "delivered"}
                        for n in range(count, 0, -1)]  # newest first, as GET /deliveries lists them
        self.metrics, self.status, self.asked = metrics, status, []

    def proxy_get(self, namespace: str, service: str, port: int | str, path: str,
                  timeout: float = 5.0) -> tuple[int, str]:
        self.asked.append((namespace, service, port, path))
        if self.status != 200:
            return self.status, "Error: 'dial tcp 10.42.0.9:8080: connect: connection refused'\nTrying to reach: …"
        if path == "metrics":
            return 200, self.metrics
        query = dict(part.split("=") for part in path.partition("?")[2].split("&"))
        before = int(query.get("before", 2**62))
        return 200, json.dumps([r for r in self.records if r["id"] < before][:int(query["limit"])])


def test_the_whole_record_is_one_page_when_it_is_short():
    proxy = Proxy(3)
    assert shim_record(proxy, NOW - DAY) == (proxy.records, NOW - DAY)
    assert proxy.asked == [("drone-kit", "shim", 80, f"deliveries?limit={PAGE}")]


def test_pages_are_read_back_to_the_time_asked_for_and_no_further():
    proxy = Proxy(3 * PAGE)  # 25 hours of hooks, one a minute
    records, covered = shim_record(proxy, NOW - DAY)
    assert len(proxy.asked) == 3 and proxy.asked[1][3] == f"deliveries?limit={PAGE}&before={2 * PAGE + 1}"
    assert covered == NOW - DAY and min(r["received"] for r in records) < NOW - DAY


def test_a_record_too_long_to_read_says_from_when_it_is_complete(monkeypatch):
    monkeypatch.setattr("drone_kit.platform.doctor_hooks_view.MAX_PAGES", 2)
    records, covered = shim_record(Proxy(3 * PAGE), NOW - DAY)
    assert len(records) == 2 * PAGE and covered == records[-1]["received"] > NOW - DAY


@pytest.mark.parametrize("status, said", [(503, "GET /deliveries: HTTP 503: Error: 'dial tcp 10.42.0.9:8080: "
                                                "connect: connection refused' Trying to reach: …"),
                                          (0, "GET /deliveries: no answer")])
def test_a_shim_that_does_not_answer_is_said_in_one_line(status, said):
    assert shim_record(Proxy(3, status=status), NOW - DAY) == said


@pytest.mark.parametrize("metrics, count", [
    ('drone_kit_shim_hooks_rejected_total{reason="too-large"} 1.0\n'
     'drone_kit_shim_hooks_rejected_total{reason="signature"} 4.0\n', 4),
    ("drone_kit_shim_hooks_received_total{event=\"push\"} 2.0\n", 0),  # a label appears once counted
])
def test_bad_signatures_are_counted_from_the_metrics(metrics, count):
    assert signature_refusals(Proxy(0, metrics)) == count
    assert signature_refusals(Proxy(0, metrics, status=503)) is None


@pytest.mark.parametrize("retention, seconds", [("7d", DAY), ("12h", 12 * 3600), ("1d12h", DAY), ("90m", 5400),
                                                ("30s", 30), ("1w", DAY)])
def test_the_record_is_read_back_a_day_or_the_shim_s_retention(retention, seconds):
    assert lookback(dataclasses.replace(PlatformConfig(), shim=ShimSection(retention=retention))) == seconds


class Gitea:
    """GiteaClient's calls, answered from plain data."""

    def __init__(self, fail: int | None = None) -> None:
        self.fail = fail
        self.repos = [{"full_name": "our-task/app", "default_branch": "main"},
                      {"full_name": "our-task/docs", "default_branch": "main"},
                      {"full_name": "our-task/new", "default_branch": "main", "empty": True},
                      {"full_name": "alice/fork", "default_branch": "main"}]
        self.shim = {"id": 4, "active": True, "config": {"url": "http://shim.drone-kit.svc/hook"}}

    def repositories(self) -> list[dict]:
        if self.fail:
            raise GiteaError("Gitea at http://gitea.lan is unreachable (ConnectTimeout) while trying to list "
                             "the user's repositories", status=None)
        return self.repos

    def hooks(self, repo: str) -> list[dict]:
        if repo == "alice/fork":
            raise GiteaError("Gitea forbids drone_kit to list the hooks of alice/fork", status=403)
        return [self.shim] if repo in ("our-task/app", "our-task/new") else [
            {"id": 9, "active": True, "config": {"url": "http://chat.lan/notify"}}]

    def branch(self, repo: str, name: str) -> dict:
        return {"name": name, "commit": {"id": "a" * 40}}


def test_wired_repositories_are_those_with_a_hook_to_the_shim():
    found = wired_repos(Gitea())  # type: ignore[arg-type]
    assert [(r.name, r.head is not None) for r in found] == [("our-task/app", True), ("our-task/new", False)]


def test_gitea_unreachable_leaves_the_shim_s_record_to_check():
    view = gather_hooks(Proxy(2), Gitea(fail=1), "http://gitea.lan/", NOW, NOW - DAY)  # type: ignore[arg-type]
    assert view.gitea_error.startswith("Gitea at http://gitea.lan is unreachable") and len(view.deliveries or []) == 2
    assert view.signature_refusals == 0 and view.read_at == NOW


def test_not_wired_reads_only_the_shim():
    view = gather_hooks(Proxy(0, status=503), None, "http://gitea.lan/", NOW, NOW - DAY)
    assert (view.wired, view.deliveries, view.signature_refusals) == (False, None, None)
    assert view.shim_error.startswith("GET /deliveries: HTTP 503")
