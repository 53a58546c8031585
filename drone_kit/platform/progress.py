"""How a long install shows its progress: on a terminal, a live table of components (state,
elapsed, last event) drawn with rich; in CI or a pipe, one plain line per state change, so a
build log stays short and readable. Both take reports as (component, state, detail)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from rich.console import Console
from rich.live import Live
from rich.table import Table

STATE_STYLES = {"pending": "dim", "applying": "cyan", "changed": "cyan", "waiting": "yellow", "ready": "green",
                "failed": "bold red"}


class PlainProgress:
    """One line per state change of a component, and one per object created or updated."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.states: dict[str, str] = {}

    def __call__(self, component: str, state: str, detail: str) -> None:
        if state != "changed" and self.states.get(component) == state:
            return
        if state != "changed":
            self.states[component] = state
        print(f"{component}: {state}{' ' + detail if detail else ''}", file=self.out, flush=True)

    def close(self) -> None:
        pass


@dataclass
class _Row:
    state: str = "pending"
    started: float | None = None
    finished: float | None = None  # the elapsed time stops when the component is ready or failed
    detail: str = ""


class LiveProgress:
    """A table redrawn in place while the install runs; left on screen when it ends."""

    def __init__(self, components: list[str], console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.rows = {name: _Row() for name in components}
        self.live = Live(self._table(), console=console, refresh_per_second=4, transient=False)
        self.live.start()

    def __call__(self, component: str, state: str, detail: str) -> None:
        row = self.rows.setdefault(component, _Row())
        now = self.clock()
        row.started = now if row.started is None else row.started
        row.state, row.detail = ("applying" if state == "changed" else state), detail
        row.finished = now if state in ("ready", "failed") else None
        self.live.update(self._table())

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False)
        for column in ("component", "state", "elapsed", "last event"):
            table.add_column(column)
        for name, row in self.rows.items():
            elapsed = "" if row.started is None else f"{(row.finished or self.clock()) - row.started:.0f}s"
            table.add_row(name, f"[{STATE_STYLES.get(row.state, '')}]{row.state}[/]", elapsed, row.detail)
        return table

    def close(self) -> None:
        self.live.stop()


def progress_for(out: IO[str], components: list[str]) -> PlainProgress | LiveProgress:
    console = Console(file=out)
    if console.is_terminal and not console.is_dumb_terminal:
        return LiveProgress(components, console)
    return PlainProgress(out)
