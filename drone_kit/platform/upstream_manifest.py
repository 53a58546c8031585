"""Another project's published manifest (MetalLB's native one), pinned by sha256: downloaded once,
checked, cached by its hash so later runs work offline, and parsed into objects.

A cached copy is used without touching the network, but only after its hash is checked again; a
download whose hash differs is refused and never cached, so nothing unchecked is ever applied.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml

from drone_kit.clients.web import DownloadFailed, download
from drone_kit.errors import DroneKitError
from drone_kit.platform.config import MetallbSection
from drone_kit.platform.objects import Obj

Fetch = Callable[[str], bytes]


class ManifestError(DroneKitError):
    """The pinned manifest cannot be had: not downloadable and not cached, or not what was pinned."""


def default_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Pure given `environ`: $XDG_CACHE_HOME/drone-kit/manifests, ~/.cache when it is unset (or
    relative, which the XDG spec says to ignore)."""
    xdg = environ.get("XDG_CACHE_HOME") or ""
    base = Path(xdg) if os.path.isabs(xdg) else Path(environ.get("HOME") or Path.home()) / ".cache"
    return base / "drone-kit" / "manifests"


def cache_path(cache_dir: Path, sha256: str) -> Path:
    return cache_dir / f"{sha256.strip().lower()}.yaml"


def sha256_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def load_manifest_text(section: MetallbSection, cache_dir: Path | None = None, fetch: Fetch = download) -> str:
    """The manifest's text: from the cache when a copy with the pinned hash is there (no network),
    else downloaded from `section.manifest_url`, checked and cached."""
    expected = section.manifest_sha256.strip().lower()
    path = cache_path(cache_dir or default_cache_dir(), expected)
    if path.is_file():
        cached = path.read_bytes()
        if sha256_of(cached) == expected:
            return cached.decode()
        # A damaged or edited copy: download a good one over it rather than trust or keep it.
    try:
        body = fetch(section.manifest_url)
    except DownloadFailed as e:
        raise ManifestError(
            f"cannot download MetalLB's manifest (metallb.manifest_url): {e.message}",
            hint=f"without internet access here, download {section.manifest_url} elsewhere and copy it to "
                 f"{path} (its sha256 must be {expected}), e.g. `mkdir -p {path.parent} && curl -fsSL -o {path} "
                 f"{section.manifest_url}`; or point metallb.manifest_url at a mirror") from e
    actual = sha256_of(body)
    if actual != expected:
        raise ManifestError(
            f"MetalLB's manifest from {section.manifest_url} (metallb.manifest_url) has sha256 {actual}, "
            f"but metallb.manifest_sha256 is {expected}: refused, nothing cached",
            hint="if you changed metallb.manifest_url or metallb.version on purpose, check the new file and set "
                 "metallb.manifest_sha256 to its sha256; otherwise the download was altered on its way")
    _write_atomically(path, body)
    return body.decode()


def _write_atomically(path: Path, body: bytes) -> None:
    """A run killed mid-write must not leave a truncated copy under the real name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".download-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def parse_manifest(text: str) -> list[Obj]:
    """Pure: the objects of a multi-document YAML manifest, in file order (empty documents, such as
    a leading `---`, skipped); anything that is not a Kubernetes object is an error."""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as e:
        raise ManifestError(f"MetalLB's manifest is not valid YAML: {e}") from e
    objects = []
    for number, document in enumerate(documents, start=1):
        if document is None:
            continue
        if not (isinstance(document, dict) and document.get("apiVersion") and document.get("kind")
                and (document.get("metadata") or {}).get("name")):
            raise ManifestError(f"MetalLB's manifest: document {number} is not a Kubernetes object "
                                "(apiVersion, kind and metadata.name)")
        objects.append(document)
    return objects


def metallb_objects(section: MetallbSection, cache_dir: Path | None = None, fetch: Fetch = download) -> list[Obj]:
    """MetalLB's own objects, as published at the pinned release (what `metallb.render_with` takes)."""
    return parse_manifest(load_manifest_text(section, cache_dir, fetch))
