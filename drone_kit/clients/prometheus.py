"""Asking Prometheus: one instant query through its HTTP API, errors in Prometheus's own words."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from drone_kit.clients.retry import send_with_retries
from drone_kit.errors import DroneKitError


def instant_query(base_url: str, promql: str, session: requests.Session | None = None,
                  timeout: float = 10.0, sleep: Callable[[float], None] = time.sleep) -> list[float]:
    """The values of an instant query now ([] for an empty result); retried while Prometheus
    cannot answer (no connection, 5xx, 429)."""
    url = f"{base_url.rstrip('/')}/api/v1/query"
    try:
        response = send_with_retries(session or requests.Session(), "GET", url, f"prometheus: query {promql!r}",
                                     sleep=sleep, params={"query": promql}, timeout=timeout)
    except requests.RequestException as e:
        raise DroneKitError(f"Prometheus at {base_url} is unreachable: {type(e).__name__}",
                            hint="check settings.prometheus (from the step, in-cluster service URLs work)") from e
    try:
        answer = response.json()
    except ValueError:
        raise DroneKitError(f"{base_url} did not answer like Prometheus (HTTP {response.status_code})",
                            hint="settings.prometheus is Prometheus's base URL, e.g. http://prometheus:9090") from None
    if answer.get("status") != "success":
        raise DroneKitError(f"Prometheus refused the query {promql!r}: {answer.get('errorType', '')}: "
                            f"{answer.get('error', response.text[:300])}", hint="check the query in settings.queries")
    try:
        return promql_values(answer["data"])
    except ValueError as e:
        raise DroneKitError(f"query {promql!r}: {e}", hint="wrap it in sum(), avg() or max()") from e


def promql_values(data: dict[str, Any]) -> list[float]:
    """Pure: the numbers in a Prometheus /api/v1/query result (one per series; [] when empty)."""
    result_type = data.get("resultType")
    result: Any = data.get("result")  # JSON: [time, value] for a scalar, a list of samples for a vector
    if result_type == "scalar":
        return [float(result[1])]
    if result_type == "vector":
        return [float(sample["value"][1]) for sample in result]
    raise ValueError(f"the query returned a {result_type}; it must return a scalar or an instant vector")
