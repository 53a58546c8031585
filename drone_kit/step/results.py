"""Result files under `.drone-kit/` in the workspace: how one step hands facts to the next.

Every step of a Drone pipeline sees the same workspace, so build-push writes the digest it
pushed to `.drone-kit/image.json` and the deploy step reads it from there.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from drone_kit.errors import DroneKitError

RESULTS_DIR = ".drone-kit"


def result_path(workspace: Path, name: str) -> Path:
    return workspace / RESULTS_DIR / f"{name}.json"


def write_result(workspace: Path, name: str, data: dict[str, Any]) -> Path:
    """Write `.drone-kit/<name>.json` atomically, so a reader never sees half a file."""
    path = result_path(workspace, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{name}.", delete=False) as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(handle.name, path)
    return path


def read_result(workspace: Path, name: str) -> dict[str, Any] | None:
    """The result an earlier step wrote, or None when it wrote none."""
    path = result_path(workspace, name)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError as e:
        raise DroneKitError(f"{path} is not valid JSON: {e}",
                            hint="delete it and re-run the step that writes it") from e
    if not isinstance(data, dict):
        raise DroneKitError(f"{path} does not hold a JSON object", hint="delete it and re-run the step that writes it")
    return data
