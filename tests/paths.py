"""Where things are: the repository's files, and the per-machine cache of what the test stack
builds once (the Debian root filesystem, the Kubernetes node's binaries)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
TEST_CACHE = Path(os.environ.get("DRONE_KIT_TEST_CACHE", Path.home() / ".cache/drone-kit-tests"))
# tests/stack/make-kubernetes writes bin/ here; r2: built with reflect2 1.0.2 (see there)
KUBERNETES_BUILD = TEST_CACHE / "kubernetes-1.20-r2"


def _shared() -> Path:
    """The workplace's shared folder (notes, and reference copies of other projects' files that
    are never committed here): beside the checkout, or the workplace's own for a clone elsewhere."""
    candidates: list[str | Path] = [os.environ.get("DRONE_KIT_SHARED", ""), ROOT.parent / "shared", "/work/shared"]
    return next((Path(c) for c in candidates if c and Path(c).is_dir()), ROOT.parent / "shared")


SHARED = _shared()
METALLB_MANIFEST = SHARED / "fixtures" / "upstream" / "metallb-native-v0.16.1.yaml"
