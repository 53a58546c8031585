"""Opt-in: bootstrap a real k3s cluster of yours, twice, and check the second run changes nothing
(its wiring of Gitea to Drone included); then `drone_kit demo`: a push that deploys, a broken one
rolled back, on the real platform (Gitea, Drone and its Kubernetes runner, the shim, MetalLB).

    DRONE_KIT_TEST_K3S_KUBECONFIG=/etc/rancher/k3s/k3s.yaml \
    DRONE_KIT_TEST_PLATFORM_YAML=platform.yaml tests/run tests/platform/test_real_k3s.py

It installs the real platform (upstream images, MetalLB from its release) with your platform.yaml
and leaves it installed, with the demo's repository and app (default/drone-kit-demo). Skipped
unless both variables are set: it touches your cluster and your LAN, which the suite never does.
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
    assert "wire: 0 changes" in second.stdout.splitlines()
    doctor = drone_kit("doctor")
    assert doctor.returncode == 0, doctor.stdout


def test_the_demo_deploys_a_push_and_rolls_back_a_broken_one_on_the_real_platform():
    demo = drone_kit("demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "a push deployed, a broken push was rolled back" in demo.stdout
    assert "deploy: failure" in demo.stdout and "rolled back: the app still serves" in demo.stdout
