"""Pure: what applying an object would change, from the live object and the server's dry run of
the apply (so defaults and other managers' fields count exactly as the server sees them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drone_kit.platform.objects import Obj

# Fields the server keeps for itself: they differ between any two reads and say nothing of intent.
_SERVER_FIELDS = {"resourceVersion", "managedFields", "generation", "creationTimestamp", "uid", "selfLink"}


@dataclass(frozen=True)
class Change:
    action: str  # create | update | unchanged
    what: str  # Kind namespace/name
    fields: tuple[str, ...] = ()  # dotted paths that change, for an update


def _comparable(obj: Obj) -> Obj:
    meta = {key: value for key, value in (obj.get("metadata") or {}).items() if key not in _SERVER_FIELDS}
    return {**{key: value for key, value in obj.items() if key != "status"}, "metadata": meta}


def changed_paths(before: Any, after: Any, path: str = "") -> list[str]:
    """Dotted paths where two JSON values differ (list items by index), deepest first found."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            paths += changed_paths(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [p for index, (b, a) in enumerate(zip(before, after, strict=True))
                for p in changed_paths(b, a, f"{path}[{index}]")]
    return [] if before == after else [path or "."]


def change_of(what: str, live: Obj | None, dry_run: Obj) -> Change:
    if live is None:
        return Change("create", what)
    paths = changed_paths(_comparable(live), _comparable(dry_run))
    return Change("update", what, tuple(paths)) if paths else Change("unchanged", what)


def change_lines(changes: list[Change]) -> list[str]:
    """The plan as text: one line per object, the changed fields under each update, a summary."""
    marks = {"create": "+", "update": "~", "unchanged": "="}
    lines = []
    for change in changes:
        lines.append(f"{marks[change.action]} {change.action:<9} {change.what}")
        lines += [f"      {field}" for field in change.fields]
    counts = {action: sum(1 for c in changes if c.action == action) for action in marks}
    lines.append(f"{counts['create']} to create, {counts['update']} to update, {counts['unchanged']} unchanged")
    return lines


def _ownership(obj: Obj) -> list[Obj]:
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    return [{key: value for key, value in entry.items() if key != "time"} for entry in entries]


def writes_nothing_new(live: Obj, dry_run: Obj) -> bool:
    """Pure: whether an apply would leave the object, and who owns each of its fields, as they are.
    The API server writes such an apply all the same (a new managedFields time, a new
    resourceVersion) when the applied form differs from the stored one, e.g. a quantity in a list
    it replaces whole ("2000m", stored as "2")."""
    return not changed_paths(_comparable(live), _comparable(dry_run)) and _ownership(live) == _ownership(dry_run)
