"""The errors drone_kit expects: each carries a one-line message and a hint for the fix.

Anything else that escapes is a bug, and the CLI shows its traceback only with --debug.
"""

from __future__ import annotations

import difflib


class DroneKitError(Exception):
    """An expected failure: bad input, an unreachable service, a refused request."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "", details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details or []


class SettingsError(DroneKitError):
    """One or more plugin settings are missing or malformed; every problem is listed."""

    exit_code = 2

    def __init__(self, problems: list[str], hint: str = "") -> None:
        first = problems[0] if len(problems) == 1 else f"{len(problems)} problems with the settings"
        super().__init__(first, hint, details=problems if len(problems) > 1 else [])
        self.problems = problems


def error_lines(error: DroneKitError) -> list[str]:
    """Pure: how an expected error is shown: `Error: …`, any details, then the hint."""
    lines = [f"Error: {error.message}"]
    lines += [f"  - {detail}" for detail in error.details]
    if error.hint:
        lines.append(f"Hint: {error.hint}")
    return lines


def did_you_mean(word: str, choices: list[str]) -> str:
    """Pure: ' (did you mean x?)' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
