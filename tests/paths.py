"""Where things are: the repository's files, and the per-machine cache of what the test stack
builds once (the Debian root filesystem, the Kubernetes node's binaries)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
TEST_CACHE = Path(os.environ.get("DRONE_KIT_TEST_CACHE", Path.home() / ".cache/drone-kit-tests"))
KUBERNETES_BUILD = TEST_CACHE / "kubernetes-1.20"  # tests/stack/make-kubernetes writes bin/ here
