"""Following a Drone build through Drone's API until it is over, saying each step's change as it
happens; and the last lines of the step it failed at. What a change or an end is: build_watch.py."""

from __future__ import annotations

import time
from collections.abc import Callable

from drone_kit.clients.drone_admin import DroneAdmin
from drone_kit.errors import DroneKitError
from drone_kit.platform.build_watch import changes, failed_step, finished

POLL = 2.0  # seconds between looks: a Pi's Drone answers a build's JSON in milliseconds


def build_of(drone: DroneAdmin, slug: str, commit: str) -> dict | None:
    """The newest build of `commit`, if Drone made one."""
    return next((build for build in drone.builds(slug) if build.get("after") == commit), None)


def follow(drone: DroneAdmin, slug: str, commit: str, say: Callable[[str], None], timeout: float,
           clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> dict:
    """The build of `commit` once it is over; DroneKitError when Drone makes none, or it does not
    end, within `timeout` seconds."""
    deadline = clock() + timeout
    found = build_of(drone, slug, commit)
    while found is None:
        if clock() >= deadline:
            raise DroneKitError(f"Drone made no build of {slug} for commit {commit[:8]} in {timeout:.0f}s",
                                hint="`drone_kit doctor` shows whether Gitea's hook reached the shim and Drone")
        sleep(POLL)
        found = build_of(drone, slug, commit)
    say(f"build #{found.get('number')} of {commit[:8]}: {found.get('status')}")
    before: dict | None = None
    while True:
        current = drone.build(slug, int(found.get("number") or 0))
        for line in changes(before, current):
            say(line)
        if finished(current):
            return current
        if clock() >= deadline:
            raise DroneKitError(f"build #{current.get('number')} of {slug} is still {current.get('status')} "
                                f"after {timeout:.0f}s", hint="look at it in Drone's UI; a runner may be missing")
        before = current
        sleep(POLL)


def failure_lines(drone: DroneAdmin, slug: str, build: dict, lines: int = 15) -> list[str]:
    """The last lines of the step the build failed at ([] when none did)."""
    step = failed_step(build)
    if step is None:
        return []
    log = drone.logs(slug, int(build.get("number") or 0), step.stage, step.number)
    return [f"{step.name}: {str(line.get('out') or '').rstrip()}" for line in log[-lines:]]
