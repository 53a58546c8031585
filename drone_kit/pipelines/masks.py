"""Keeping a local run's secrets out of everything `drone_kit exec` prints, as Drone's runner keeps
a step's secrets out of its log: every value, line by line (a kubeconfig), each line trimmed.

Like Drone, a line shorter than two characters is left alone: masking every `a` or `1` in a log
would hide the log, not the secret.
"""

from __future__ import annotations

from collections.abc import Iterable

from drone_kit.errors import DroneKitError
from drone_kit.step.masking import Masker

SHORTEST_MASKED = 2


def secret_lines(values: Iterable[str]) -> list[str]:
    """Pure: what is masked for these secret values: each line of each, trimmed, long enough."""
    lines = (line.strip() for value in values for line in value.splitlines())
    return sorted({line for line in lines if len(line) >= SHORTEST_MASKED})


def secret_masker(values: Iterable[str]) -> Masker:
    return Masker(secret_lines(values))


def mask_error(error: DroneKitError, masker: Masker) -> DroneKitError:
    """The same error with the secrets in its message, hint and details masked (changed in place,
    so a `raise` after it keeps the traceback, and --debug's traceback shows the masked text)."""
    error.message, error.hint = masker.mask(error.message), masker.mask(error.hint)
    error.details = [masker.mask(detail) for detail in error.details]
    error.args = tuple(masker.mask(a) if isinstance(a, str) else a for a in error.args)
    return error
