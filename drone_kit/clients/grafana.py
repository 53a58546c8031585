"""Grafana's HTTP API: annotations that mark events on every dashboard's time axis."""

from __future__ import annotations

import logging

import requests

log = logging.getLogger(__name__)


class GrafanaClient:
    def __init__(self, url: str, token: str = "", timeout: float = 5.0) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def annotate(self, annotation: dict) -> bool:
        """Add an annotation; best effort: a failure is logged and False is returned."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = requests.post(f"{self.url}/api/annotations", json=annotation, timeout=self.timeout,
                                     headers=headers)
        except requests.RequestException as e:
            log.warning("grafana annotation failed: %s", type(e).__name__)
            return False
        if response.status_code >= 400:
            log.warning("grafana refused the annotation: HTTP %s", response.status_code)
            return False
        return True
