"""A real Prometheus (Debian's package) on loopback, scraping the given targets every second."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import requests
import yaml

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
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {process.returncode}:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(requests.RequestException):
                answer = requests.get(f"{url}/api/v1/query", params={"query": 'up{job="app"}'}, timeout=2).json()
                if answer["data"]["result"] and all(r["value"][1] == "1" for r in answer["data"]["result"]):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"prometheus not scraping in {ready_timeout}s:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
