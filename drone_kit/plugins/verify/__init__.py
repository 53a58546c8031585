"""The verify plugin: prove the new version is really serving and healthy — HTTP checks, the
version that answers, Prometheus queries over time, a no-restart soak — and roll back if not."""

from __future__ import annotations

from drone_kit.plugins.verify.run import run_verify
from drone_kit.plugins.verify.settings import SETTINGS
from drone_kit.step.plugin import Plugin

VERIFY = Plugin(
    name="verify",
    summary="Prove the new version serves and stays healthy (HTTP, version, Prometheus, soak); roll back if not.",
    settings=SETTINGS,
    run=run_verify,
)
