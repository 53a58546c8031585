"""Benchmark: how fast the deploy plugin calls a failing rollout, replayed at real speed.

Each failing rollout recorded on a real cluster is played back by the fake Kubernetes API, at
real speed, to the real plugin. Printed per recording: the time of the first object that shows
the failure, the plugin's verdict time, the difference (target <= 1 s), and when
`kubectl rollout status` (default settings) would have failed: at the progress deadline
(600 s by default), or never when it has no timeout.

    .venv/bin/python -m tests.bench.deploy_detect
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from drone_kit.plugins.deploy import DEPLOY
from drone_kit.step.plugin import run_plugin
from drone_kit.step.results import read_result
from tests.fakes.kube_api import FakeCluster
from tests.rollouts.recordings import EXPECTED, NAMES, first_verdict, load
from tests.stack import netguard

KUBECTL_DEFAULT_DEADLINE = 600.0


def first_showing(name: str) -> float:
    """The time of the first recorded object from which the failure can be decided."""
    return first_verdict(name)[2]


def kubectl_fails_at(name: str) -> float:
    deadline = next(r.object["spec"].get("progressDeadlineSeconds", 600) for r in load(name) if r.kind == "Deployment")
    return float(deadline) + 1.2 if deadline != KUBECTL_DEFAULT_DEADLINE else KUBECTL_DEFAULT_DEADLINE


def main() -> None:
    netguard.install()
    print(f"{'recording':26} {'shows it':>9} {'verdict':>8} {'after':>6}  {'kubectl rollout status':>24}")
    worst = 0.0
    for name in [n for n in NAMES if EXPECTED[n]["verdict"] == "failure"]:
        cluster = FakeCluster(load(name))
        with tempfile.TemporaryDirectory() as workspace:
            env = {"PLUGIN_KUBECONFIG": cluster.kubeconfig(), "PLUGIN_NAMESPACE": "demo", "PLUGIN_DEPLOYMENT": "web",
                   "PLUGIN_IMAGE": cluster.image, "PLUGIN_VERIFY_IMAGE": "false", "PLUGIN_ROLLBACK": "false",
                   "DRONE_WORKSPACE": workspace}
            with contextlib.redirect_stderr(io.StringIO()):
                run_plugin(DEPLOY, env)
            result = read_result(Path(workspace), "deploy")
        cluster.close()
        kubectl = f"fails at {kubectl_fails_at(name):.0f}s"
        if result is None:
            print(
                f"{name:26} {'-':>9} {'0.00s':>8} {'-':>6}  {kubectl:>24}  "
                "(refused before deploying: bad image name)"
            )
            continue
        shows, verdict = first_showing(name), result["detect_seconds"]
        worst = max(worst, verdict - shows)
        print(f"{name:26} {shows:8.2f}s {verdict:7.2f}s {verdict - shows:5.2f}s  {kubectl:>24}")
    print(f"\nslowest verdict after the first sign: {worst:.2f}s (target <= 1 s: {'met' if worst <= 1 else 'MISSED'})")


if __name__ == "__main__":
    main()
