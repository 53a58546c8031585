"""k3s's /etc/rancher/k3s/registries.yaml: the mirror entry that makes a node pull from the
platform's plain-HTTP registry, and writing it into a node's file (`--write-registries-yaml`, run
on the node itself) without losing what else the file says."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import yaml

from drone_kit.errors import DroneKitError

REGISTRIES_PATH = Path("/etc/rancher/k3s/registries.yaml")  # exactly .yaml: k3s ignores registries.yml


def registries_yaml(registry_host: str) -> str:
    """Pure: the whole file for a node that needs only the platform registry. The key is the
    host:port in image names; the endpoint needs http://, or containerd tries HTTPS."""
    return (f'mirrors:\n  "{registry_host}":\n    endpoint:\n      - "http://{registry_host}"\n')


def merged_registries(existing: str, registry_host: str) -> str | None:
    """Pure: the file's text with the platform registry's mirror set, every other key kept;
    None when it already says exactly that."""
    try:
        document = yaml.safe_load(existing) if existing.strip() else {}
    except yaml.YAMLError as e:
        raise DroneKitError(f"{REGISTRIES_PATH.name} is not valid YAML: {e}",
                            hint="fix or move the file, then run again") from e
    document = document or {}
    if not isinstance(document, dict) or not isinstance(document.get("mirrors") or {}, dict):
        raise DroneKitError(f"{REGISTRIES_PATH.name} is not a mapping with a `mirrors` mapping",
                            hint="fix or move the file, then run again")
    mirrors = dict(document.get("mirrors") or {})
    entry = dict(mirrors.get(registry_host) or {})
    wanted = [f"http://{registry_host}"]
    if entry.get("endpoint") == wanted:
        return None
    mirrors[registry_host] = {**entry, "endpoint": wanted}
    document["mirrors"] = mirrors
    if not existing.strip():
        return registries_yaml(registry_host)
    return yaml.safe_dump(document, default_flow_style=False, sort_keys=False)


def write_registries_yaml(path: Path, registry_host: str) -> bool:
    """Sets the platform registry's mirror in the file at `path` (created if missing), atomically,
    keeping its mode; True when the file changed (k3s then needs a restart to read it)."""
    try:
        existing = path.read_text() if path.exists() else ""
        text = merged_registries(existing, registry_host)
        if text is None:
            return False
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "w") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except PermissionError as e:
        raise DroneKitError(f"cannot write {path}: permission denied",
                            hint="run it with sudo on the node itself") from e
    return True
