"""Keeping secret setting values out of everything a plugin prints.

A plugin's stdout and stderr are wrapped in a MaskingStream for the whole run, so its own
messages, error messages and log records all pass through the same Masker. Like Drone, a
multi-line secret (a kubeconfig) is masked line by line.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import IO

MASK = "******"


class Masker:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._needles: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        candidates = [secret.strip(), *(line.strip() for line in secret.splitlines())]
        # Longest first, so a secret that contains another is replaced whole.
        self._needles = sorted({*self._needles, *(c for c in candidates if c)}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """Pure: `text` with every secret replaced by the mask."""
        for needle in self._needles:
            text = text.replace(needle, MASK)
        return text

    def unsafe_tail(self, text: str) -> int:
        """Pure: how many trailing characters of `text` could be the start of a secret."""
        for size in range(min(len(text), max((len(n) for n in self._needles), default=0)), 0, -1):
            tail = text[-size:]
            if any(n.startswith(tail) and n != tail for n in self._needles):
                return size
        return 0


class MaskingStream(io.TextIOBase):
    """A text stream that masks secrets before they reach the stream it wraps.

    Text is passed on a line at a time; on flush, a partial line goes out too, except a tail
    that could be the beginning of a secret, so a secret written in pieces is still caught.
    """

    def __init__(self, target: IO[str], masker: Masker) -> None:
        self._target = target
        self._masker = masker
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        complete, newline, rest = self._pending.rpartition("\n")
        if newline:
            self._target.write(self._masker.mask(complete + newline))
            self._pending = rest
        return len(text)

    def flush(self) -> None:
        self._emit_safe_part()
        self._target.flush()

    def close_pending(self) -> None:
        """Write whatever is left, masked; used at the end of a run."""
        self._target.write(self._masker.mask(self._pending))
        self._pending = ""
        self._target.flush()

    def _emit_safe_part(self) -> None:
        masked = self._masker.mask(self._pending)
        cut = len(masked) - self._masker.unsafe_tail(masked)
        self._target.write(masked[:cut])
        self._pending = masked[cut:]

    def isatty(self) -> bool:
        return self._target.isatty()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]  # typeshed has it writable; in io it is read-only too
        return getattr(self._target, "encoding", "utf-8")
