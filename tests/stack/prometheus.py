"""A real Prometheus (Debian's package) on loopback, scraping the given targets every second."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import requests
import yaml

from tests.stack.processes import stop, wait_until_ready
from tests.stack.registry import free_port


@contextlib.contextmanager
def running_prometheus(binary: str, targets: list[str], ready_timeout: float = 60.0) -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="dk-prometheus-"))
    port = free_port()
    (root / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "app", "static_configs": [{"targets": targets}]}],
    }))
    log = root / "prometheus.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen([binary, f"--config.file={root / 'prometheus.yml'}",
                                    f"--storage.tsdb.path={root / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                                   stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    def ready() -> bool:  # up and scraping every target
        with contextlib.suppress(requests.RequestException, KeyError, ValueError):
            answer = requests.get(f"{url}/api/v1/query", params={"query": 'up{job="app"}'}, timeout=2).json()
            return bool(answer["data"]["result"]) and all(r["value"][1] == "1" for r in answer["data"]["result"])
        return False

    try:
        wait_until_ready(process, ready, "prometheus", log, ready_timeout)
        yield url
    finally:
        stop(process)
        shutil.rmtree(root, ignore_errors=True)
