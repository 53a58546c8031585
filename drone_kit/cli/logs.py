"""How the library's log records reach the user: plain lines on stderr (what a Drone build log
and CI want), INFO and up, DEBUG with --debug."""

from __future__ import annotations

import logging
import sys
from typing import IO


class CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of the record, so a plugin run's masking
    stream (which replaces sys.stderr for the run) masks log lines too."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def configure_logging(debug: bool) -> None:
    """Route drone_kit's loggers to stderr; called once by the CLI before any command runs."""
    handler = CurrentStderr()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s" if debug else "%(message)s"))
    library = logging.getLogger("drone_kit")
    library.handlers[:] = [handler]
    library.setLevel(logging.DEBUG if debug else logging.INFO)
