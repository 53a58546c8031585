"""The deploy plugin: set a Deployment's image (by digest when known), watch the rollout fail
fast or succeed, and on failure say why and roll back to the recorded template, verified."""

from __future__ import annotations

from drone_kit.plugins.deploy.run import run_deploy
from drone_kit.plugins.deploy.settings import SETTINGS
from drone_kit.step.plugin import Plugin

DEPLOY = Plugin(
    name="deploy",
    summary="Roll a Deployment to a new image, fail fast when it is unhealthy, and roll back, verified.",
    settings=SETTINGS,
    run=run_deploy,
)
