"""Helpers for the exec tests: a git checkout holding a .drone.yml, and what the engine saw."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def checkout(path: Path, drone_yml: str, files: dict[str, str] | None = None) -> Path:
    """A git repository at `path` with the .drone.yml and files committed on main."""
    path.mkdir(parents=True, exist_ok=True)
    (path / ".drone.yml").write_text(drone_yml)
    for name, text in (files or {}).items():
        (path / name).write_text(text)
    for command in (["init", "-q", "-b", "main"], ["add", "."],
                    ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "first"]):
        subprocess.run(["git", "-C", str(path), *command], check=True)
    return path


def now() -> str:
    """The time as the engine's event filters take it, to the nanosecond."""
    ns = time.time_ns()
    return f"{ns // 10**9}.{ns % 10**9:09d}"


def exec_containers_created(client, since: str) -> list[dict]:
    """The `create` events of exec's containers (label drone-kit-exec) from `since` until now:
    removed containers leave no trace in a listing, but the engine keeps their events."""
    events = client.events(since=since, until=now(), decode=True,
                           filters={"type": "container", "event": "create", "label": "drone-kit-exec"})
    return list(events)
