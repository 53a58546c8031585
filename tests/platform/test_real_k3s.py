"""Opt-in: bootstrap a real k3s cluster of yours, twice, and check the second run changes nothing.

    DRONE_KIT_TEST_K3S_KUBECONFIG=/etc/rancher/k3s/k3s.yaml \
    DRONE_KIT_TEST_PLATFORM_YAML=platform.yaml tests/run tests/platform/test_real_k3s.py

It installs the real platform (upstream images, MetalLB from its release) with your platform.yaml
and leaves it installed. Skipped unless both variables are set: it touches your cluster and your
LAN, which the suite itself never does.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

KUBECONFIG = os.environ.get("DRONE_KIT_TEST_K3S_KUBECONFIG", "")
PLATFORM_YAML = os.environ.get("DRONE_KIT_TEST_PLATFORM_YAML", "")
pytestmark = pytest.mark.skipif(not (KUBECONFIG and PLATFORM_YAML),
                                reason="opt-in: set DRONE_KIT_TEST_K3S_KUBECONFIG and DRONE_KIT_TEST_PLATFORM_YAML")


def drone_kit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "drone_kit", *args, "--config", PLATFORM_YAML, "--kubeconfig",
                           KUBECONFIG], capture_output=True, text=True, timeout=3600,
                          env={**os.environ, "CI": "true"})


def test_bootstrap_installs_the_platform_and_a_second_run_changes_nothing():
    first = drone_kit("bootstrap")
    assert first.returncode == 0, first.stdout + first.stderr
    status = drone_kit("status")
    assert status.returncode == 0, status.stdout
    second = drone_kit("bootstrap")
    assert second.returncode == 0, second.stdout + second.stderr
    assert " 0 of " in second.stdout and "objects changed; 0 secrets generated" in second.stdout
    doctor = drone_kit("doctor")
    assert doctor.returncode == 0, doctor.stdout
