"""Service processes of the test stack: waiting until they answer, and stopping them."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests


def wait_until_ready(process: subprocess.Popen, ready: Callable[[], bool], what: str, log: Path,
                     timeout: float) -> None:
    """Poll `ready` until it says yes; RuntimeError with the log if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready in {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it does not end within `timeout`."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def mounts_under(root: Path) -> list[str]:
    """The mount points at or below `root`, deepest first."""
    prefix = str(root).rstrip("/") + "/"
    with open("/proc/self/mounts") as mounts:
        points = {line.split()[1].encode().decode("unicode_escape") for line in mounts}
    return sorted((p for p in points if p.startswith(prefix) or p == str(root)), key=len, reverse=True)


def unmount_all_under(root: Path) -> None:
    """Lazily unmount everything at or below `root`: daemons leave bind mounts (network
    namespaces, volumes) behind, which `umount -R` misses when `root` is not a mount point."""
    for point in mounts_under(root):
        subprocess.run(["umount", "-l", point], capture_output=True)


def answers(url: str, status: int = 200) -> bool:
    """Whether a GET of `url` gets `status` now (False while nothing listens)."""
    with contextlib.suppress(requests.RequestException):
        return requests.get(url, timeout=1).status_code == status
    return False
