"""What `drone_kit lint` reports, as lines, and whether it stops a run: shared by `lint` and by
`exec`, which checks the whole file this way before it starts anything. Pure."""

from __future__ import annotations

from pathlib import Path

from drone_kit.errors import DroneKitError
from drone_kit.pipelines.lint import Problem


def problem_lines(file: Path, problems: list[Problem]) -> list[str]:
    """Pure: one `FILE:LINE: severity: message` line per problem."""
    return [f"{file}:{problem.line}: {problem.severity}: {problem.message}" for problem in problems]


def lint_failure(file: Path, problems: list[Problem]) -> DroneKitError | None:
    """Pure: the error that stops lint (and exec) when a problem is an error; None for warnings only."""
    errors = sum(1 for p in problems if p.severity == "error")
    if not errors:
        return None
    return DroneKitError(f"{file}: {errors} error{'s' if errors != 1 else ''}", hint="each is listed above")
