"""The platform's generated secrets: created once as Kubernetes Secrets with random values, then
only ever read back. Re-running bootstrap must never rotate them: a new Gitea SECRET_KEY or Drone
RPC secret would leave every other component holding the old one.

Values never leave this module except inside the Secret objects sent to the API server.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.platform.component import GeneratedSecret
from drone_kit.platform.objects import Obj, metadata

TOKEN_BYTES = 32  # 256 bits: as strong as Gitea's and Drone's own generated secrets


def random_value(spec: GeneratedSecret, key: str, token: Callable[[], str]) -> str:
    """Pure given `token`: a random value for `key`, cut or lengthened to the size the key needs
    (Drone's database secret is an AES key: exactly 32 characters)."""
    size = dict(spec.sizes).get(key)
    value = token()
    while size and len(value) < size:
        value += token()
    return value[:size] if size else value


def secret_object(spec: GeneratedSecret, token: Callable[[], str]) -> Obj:
    """Pure given `token`: the Secret to create, random values for every key not fixed."""
    values = dict(spec.fixed)
    values.update({key: random_value(spec, key, token) for key in spec.keys if key not in values})
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": metadata("secrets", spec.name, spec.namespace),
            "stringData": values}


def missing_keys(spec: GeneratedSecret, live: Obj) -> list[str]:
    """Pure: keys the live Secret lacks (a hand edit, or a key a newer drone_kit needs)."""
    data = live.get("data") or {}
    return [key for key in (*spec.keys, *(key for key, _ in spec.fixed)) if key not in data]


def ensure_secret(cluster: ClusterObjects, spec: GeneratedSecret,
                  token: Callable[[], str] = lambda: secrets.token_hex(TOKEN_BYTES)) -> str:
    """Creates the Secret when it does not exist; adds only keys it lacks; never changes a value.
    Returns what happened: "created", "kept" or "completed"."""
    live = cluster.get("v1", "Secret", spec.name, spec.namespace)
    if live is None and cluster.create(secret_object(spec, token)) is not None:
        return "created"
    live = live or cluster.get("v1", "Secret", spec.name, spec.namespace) or {}
    lacking = missing_keys(spec, live)
    if not lacking:
        return "kept"
    fixed = dict(spec.fixed)
    values = {key: fixed.get(key) or random_value(spec, key, token) for key in lacking}
    patch = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": spec.name, "namespace": spec.namespace},
             "data": {key: base64.b64encode(value.encode()).decode() for key, value in values.items()}}
    cluster.apply(patch, force=True)
    return "completed"


def read_value(cluster: ClusterObjects, namespace: str, name: str, key: str) -> str | None:
    live = cluster.get("v1", "Secret", name, namespace)
    encoded = ((live or {}).get("data") or {}).get(key)
    return base64.b64decode(encoded).decode() if encoded else None
