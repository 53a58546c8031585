"""The build-push plugin: build the app's image once, push it once, tag it through the registry.

Flow: settings → the engine (by hand, none answering fails here) → tags → registry scheme (plain
HTTP detected) → skip if this commit's image is already there → cache from the image's existing
tags → build (on an engine of the step's own only in a Drone step) → push the first tag → add the
other tags by manifest PUT (no layer moves twice) → confirm every tag → `.drone-kit/image.json`.
"""

from __future__ import annotations

from drone_kit.plugins.build_push.run import run_build_push
from drone_kit.plugins.build_push.settings import SETTINGS
from drone_kit.step.plugin import Plugin

BUILD_PUSH = Plugin(
    name="build-push",
    summary="Build the app's image once and push it with all its tags to a (plain-HTTP) registry.",
    settings=SETTINGS,
    run=run_build_push,
)
