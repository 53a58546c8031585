"""Drone's step logs for the Gitea-backed fake: where a runner uploads them, and
`GET /api/repos/{owner}/{name}/builds/{number}/logs/{stage}/{step}` reading them back.

Sources (read, not copied; harness/harness branch `drone`): handler/api/api.go (the route sits
under the repository's read check, beside the build), handler/api/repos/builds/logs/find.go (the
build number parsed with ParseInt, stage and step with Atoi, each failure a 400 with Go's error;
an unknown build, stage or step, or a step with no stored log, a 404 with the store's error; the
stored JSON array written as is), core/logs.go (`[{pos, out, time}]`).
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from tests.fakes.drone_answers import Answer, error_answer, json_answer, method_not_allowed

if TYPE_CHECKING:
    from tests.fakes.drone_gitea import DroneOnGitea

NO_ROWS = "sql: no rows in result set"
LOGS_PATH = re.compile(r"/api/repos/([^/]+)/([^/]+)/builds/([^/]+)/logs/([^/]+)/([^/]+)/?")
ApiAnswer = Callable[["DroneOnGitea", str, str, Mapping[str, list[str]], Mapping[str, str], bytes], Answer]


class StepLogs:
    """(slug, build number, stage number, step number) → the uploaded log lines."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: dict[tuple[str, int, int, int], list[dict]] = {}

    def upload(self, slug: str, build: int, stage: int, step: int, lines: list[dict]) -> None:
        with self._lock:
            self._logs[(slug, build, stage, step)] = [dict(line) for line in lines]

    def find(self, slug: str, build: int, stage: int, step: int) -> list[dict] | None:
        with self._lock:
            found = self._logs.get((slug, build, stage, step))
            return [dict(line) for line in found] if found is not None else None


# Kept beside the fake rather than in it: its store is another module's, and logs outlive restarts.
_LOGS: weakref.WeakKeyDictionary[DroneOnGitea, StepLogs] = weakref.WeakKeyDictionary()
_LOGS_LOCK = threading.Lock()


def step_logs_of(drone: DroneOnGitea) -> StepLogs:
    with _LOGS_LOCK:
        return _LOGS.setdefault(drone, StepLogs())


def step_logs_answer(drone: DroneOnGitea, method: str, path: str, query: Mapping[str, list[str]],
                     headers: Mapping[str, str], api_answer: ApiAnswer) -> Answer | None:
    """The answer for a step-log path, or None for any other path. `api_answer` reads the build as
    the build route does, so the repository's checks are the same ones."""
    found = LOGS_PATH.fullmatch(path)
    if found is None:
        return None
    owner, name, number, stage, step = found.groups()
    if method != "GET":
        return method_not_allowed()
    build_answer = api_answer(drone, "GET", f"/api/repos/{owner}/{name}/builds/{number}", query, headers, b"")
    if build_answer.status != 200:
        return build_answer
    for text in (stage, step):
        if not re.fullmatch(r"[+-]?\d+", text):
            return error_answer(400, f'strconv.Atoi: parsing "{text}": invalid syntax')
    build = drone.build(f"{owner}/{name}", int(number))
    stages = {s["number"]: s for s in build.get("stages") or []}
    steps = {s["number"] for s in (stages.get(int(stage)) or {}).get("steps") or []}
    lines = step_logs_of(drone).find(f"{owner}/{name}", int(number), int(stage), int(step))
    if int(step) not in steps or lines is None:
        return error_answer(404, NO_ROWS)
    return json_answer(200, lines)
