"""Output for long work: in a build log, one line per change of state and nothing else; on a
terminal, the same lines plus the current status redrawn in place on the last line."""

from __future__ import annotations

from typing import Protocol

CLEAR_LINE = "\r\x1b[K"


class TextOut(Protocol):
    """What a step's output needs of a stream. A plugin's streams are MaskingStreams: an
    io.TextIOBase, which typing does not count as an IO[str] (a file or a StringIO is both)."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...

    def isatty(self) -> bool: ...


class StatusLines:
    def __init__(self, stream: TextOut, live: bool | None = None) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.statuses: dict[str, str] = {}

    def _status_text(self) -> str:
        return " | ".join(self.statuses.values())

    def event(self, line: str) -> None:
        """A line that stays."""
        if self.live and self.statuses:
            self.stream.write(CLEAR_LINE + line + "\n" + self._status_text())
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def status(self, key: str, line: str) -> None:
        """The current state of `key`: logged when it changes; redrawn in place on a terminal."""
        if self.statuses.get(key) == line:
            return
        self.statuses[key] = line
        self.stream.write(CLEAR_LINE + self._status_text() if self.live else line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """The work is over: a terminal's status line is cleared (the last events say how it ended)."""
        if self.live and self.statuses:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
        self.statuses.clear()
