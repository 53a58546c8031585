"""`drone_kit shim`: serve the webhook shim, and redeliver hooks from its outbox."""

from __future__ import annotations

import errno
import gc
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from drone_kit.errors import DroneKitError
from drone_kit.shim.config import MAX_BODY, ShimConfig
from drone_kit.shim.outbox import Outbox
from drone_kit.step.settings import parse_duration

ENV = "DRONE_KIT_SHIM_"
T = TypeVar("T")


class Duration(click.ParamType):
    """A duration like 90s, 5m, 1h or 7d, in seconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip()
        try:
            if text.endswith("d") and text[:-1].replace(".", "", 1).isdigit():
                return float(text[:-1]) * 86400
            return parse_duration(text).total_seconds()
        except ValueError:
            self.fail(f"expected a duration like 90s, 5m, 1h or 7d, got {value!r}", param, ctx)


DURATION = Duration()


def _option(name: str, **kwargs: Any) -> Callable[[Any], Any]:
    return click.option(f"--{name.replace('_', '-')}", name, envvar=ENV + name.upper(), show_envvar=True, **kwargs)


def _outbox_problem(path: Path) -> str:
    """Why no outbox can be at `path`, in the OS's words, or "" if none is seen. Asked before anything
    is created, because SQLite says only "unable to open database file", and the outbox makes its
    parent folders, so a later failure would leave them behind."""
    if path.is_dir():
        return os.strerror(errno.EISDIR)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return os.strerror(errno.ENOTDIR)
    # SQLite's WAL and the body log are files beside the outbox: its folder must take new files too
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.R_OK | os.W_OK)):
        return os.strerror(errno.EACCES)
    return ""


def _open_outbox(path: Path, open_it: Callable[[], T]) -> T:
    hint = "set --outbox (or DRONE_KIT_SHIM_OUTBOX) to a file in a folder you can write to, on a persistent volume"
    problem = _outbox_problem(path)
    if problem:
        raise DroneKitError(f"--outbox: cannot open {path}: {problem}", hint=hint)
    try:
        return open_it()
    except OSError as e:
        raise DroneKitError(f"--outbox: cannot open {path}: {e.strerror or e}", hint=hint) from e
    except sqlite3.Error as e:
        raise DroneKitError(f"--outbox: cannot open {path}: {e}", hint=hint) from e


@click.group()
def shim() -> None:
    """The webhook shim between Gitea, Drone and Grafana: no push lost when Drone is down."""


@shim.command()
@_option("listen", default="0.0.0.0:8080", show_default=True, help="Address and port to serve on.")
@_option("drone_url", required=True, help="Drone's internal URL, e.g. http://drone.drone.svc.")
@_option("hook_secret", required=True, help="Drone's DRONE_FEATURE_SERVER_PROXY_SECRET: what Gitea signs hooks with.")
@_option("drone_token", default="", help="A Drone admin token (repository sync, crash recovery).")
@_option("webhook_secret", default="", help="Drone's DRONE_WEBHOOK_SECRET, for /drone/events.")
@_option("outbox", default="/var/lib/drone-kit/outbox.sqlite", show_default=True, type=click.Path(path_type=Path),
         help="The SQLite outbox (keep it on a persistent volume).")
@_option("grafana_url", default="", help="Grafana's URL, for deploy annotations.")
@_option("grafana_token", default="", help="A Grafana service-account token.")
@_option("auto_activate", is_flag=True, default=False,
         help="When Drone does not know a repository, has never activated it, or has it disabled, ask Drone "
              "to sync and (re)activate it, then retry.")
@_option("retry_base", default="1s", show_default=True, type=DURATION,
         help="First wait between delivery attempts; each next one doubles it, up to --retry-max.")
@_option("retry_max", default="60s", show_default=True, type=DURATION, help="Longest wait between delivery attempts.")
@_option("retry_attempts", default=100, show_default=True, type=click.IntRange(min=1),
         help="Attempts before a hook Drone keeps refusing is marked failed (then the repository's next hook goes).")
@_option("retry_age", default="1h", show_default=True, type=DURATION,
         help="How long after its first attempt a hook Drone keeps refusing is marked failed.")
@_option("retention", default="7d", show_default=True, type=DURATION,
         help="How long delivered hooks stay in the outbox (and /deliveries). Failed ones stay until replayed.")
@_option("commit_batch", default=256, show_default=True, type=click.IntRange(min=1),
         help="Hooks per outbox transaction at most; hooks arriving together share one fsync.")
@_option("max_body", default=MAX_BODY, show_default=True, type=click.IntRange(min=1),
         help="Largest hook or Drone event body in bytes; a larger one is refused with 413 before it is read.")
def serve(listen: str, **settings: Any) -> None:
    """Serve the shim: POST /hook (from Gitea), POST /drone/events (Drone's global webhook),
    GET /metrics, /healthz, /readyz, /deliveries."""
    import uvicorn

    from drone_kit.shim.app import create_app

    host, _, port = listen.rpartition(":")
    # not isdigit: it takes "²", which int() refuses
    if not port.isdecimal() or not 1 <= int(port) <= 65535:
        raise DroneKitError(f"--listen: expected HOST:PORT with a port from 1 to 65535, got {listen!r}",
                            hint="e.g. --listen 0.0.0.0:8080 (or DRONE_KIT_SHIM_LISTEN=0.0.0.0:8080)")
    config = ShimConfig(**settings)
    app = _open_outbox(config.outbox, lambda: create_app(config))
    # Everything made so far lives as long as the process: kept out of the collector's full passes,
    # which otherwise stall every request for tens of milliseconds now and then.
    gc.freeze()
    click.echo(f"shim: serving on {listen}, relaying to {settings['drone_url']}", err=True)
    if not config.drone_token:
        click.echo("shim: no --drone-token: a hook being sent when the shim stops is sent again on restart, "
                   "without asking Drone whether it built it already", err=True)
    # No access log: at level warning uvicorn would still format each request's line, to drop it.
    # No proxy headers: Gitea and Drone reach the shim through its Service, no proxy in between,
    # so an X-Forwarded-For is nobody's to trust (and uvicorn's middleware for it costs each hook).
    uvicorn.run(app, host=host or "0.0.0.0", port=int(port), log_level="warning", access_log=False,
                proxy_headers=False)


@shim.command()
@click.argument("hook_id", required=False, type=int)
@click.option("--failed", "all_failed", is_flag=True, help="Redeliver every failed hook.")
@_option("outbox", default="/var/lib/drone-kit/outbox.sqlite", show_default=True, type=click.Path(path_type=Path))
def replay(hook_id: int | None, all_failed: bool, outbox: Path) -> None:
    """Queue a failed hook (HOOK_ID, from /deliveries) or every failed one (--failed) for delivery again."""
    if (hook_id is None) == (not all_failed):
        raise DroneKitError("give either a HOOK_ID or --failed", hint="GET /deliveries lists the hooks and their ids")
    if not outbox.exists():
        raise DroneKitError(f"no outbox at {outbox}", hint="--outbox or DRONE_KIT_SHIM_OUTBOX")
    count = _open_outbox(outbox, lambda: Outbox(outbox)).replay(hook_id, time.time())
    if hook_id is not None and count == 0:
        raise DroneKitError(f"hook {hook_id} is not a failed hook", hint="only failed hooks are replayed")
    click.echo(f"{count} hook{'s' if count != 1 else ''} queued for delivery", err=True)
