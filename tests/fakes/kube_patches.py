"""Patches as kube-apiserver applies them to the fake's objects: strategic merge (for what the
patches sent here hold) and JSON patch (RFC 6902), with the server's error messages."""

from __future__ import annotations

import copy


def strategic_merge(target, patch):
    """A strategic merge patch, for what the patches sent here hold: maps merge, null deletes, lists
    of named items (containers) merge by name, other lists are replaced."""
    if not isinstance(target, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(target)
    for key, value in patch.items():
        if key.startswith("$"):
            raise ValueError(f"the fake does not apply strategic merge directives ({key})")
        if value is None:
            merged.pop(key, None)
        elif _named(value) and _named(merged.get(key)):
            by_name = {item["name"]: item for item in value}
            merged[key] = [strategic_merge(item, by_name.pop(item["name"])) if item["name"] in by_name else item
                           for item in merged[key]] + list(by_name.values())
        else:
            merged[key] = strategic_merge(merged.get(key), value)
    return merged


def _named(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "name" in i for i in value)


def json_patch(doc: dict, operations: list[dict]) -> dict:
    """RFC 6902 as the API server applies it (add, remove, replace, test), with its error messages."""
    doc = copy.deepcopy(doc)
    for operation in operations:
        op, path = operation["op"], operation["path"]
        missing = ValueError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
        *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]
        parent = doc
        try:
            for part in parents:
                parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise missing from None
        if isinstance(parent, list):
            key: str | int = len(parent) if last == "-" else int(last)
            exists = isinstance(key, int) and key < len(parent) and last != "-"
        else:
            key, exists = last, last in parent
        if op == "test":
            if not exists or parent[key] != operation.get("value"):
                raise ValueError(f"testing value {path} failed: test failed")
        elif op == "add":
            if isinstance(parent, list):
                parent.insert(int(key), operation["value"])
            else:
                parent[key] = operation["value"]
        elif op in ("replace", "remove"):
            if not exists:
                raise missing
            if op == "replace":
                parent[key] = operation["value"]
            else:
                del parent[key]
        else:
            raise ValueError(f"the fake does not apply {op!r} operations")
    return doc
