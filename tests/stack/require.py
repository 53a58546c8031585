"""What a test needs from the machine: in CI a missing piece fails the test, locally it skips."""

from __future__ import annotations

import os
import shutil

import pytest

SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def missing(message: str) -> None:
    """Fail in CI (a missing service must never pass silently), skip elsewhere."""
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_binary(binary: str, package: str) -> str:
    """The path of `binary`, or fail/skip naming the Debian package that provides it."""
    path = shutil.which(binary) or next(
        (os.path.join(d, binary) for d in SBIN_DIRS if os.access(os.path.join(d, binary), os.X_OK)), None
    )
    if path is None:
        missing(f"{binary} is not installed: apt-get install {package} (tests/run installs it)")
    return path
