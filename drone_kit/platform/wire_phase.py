"""Pure: wiring Gitea to Drone as bootstrap's last phase: whether a run of bootstrap ends with it
(if not, the line saying why and how to wire later), and how a wiring that failed reads once the
install itself is done."""

from __future__ import annotations

from collections.abc import Collection

from drone_kit.errors import DroneKitError
from drone_kit.platform.components import drone_server, gitea, shim

# What the wiring works on: Gitea's admin, Drone's Deployment and settings, the shim's signers and
# Deployment. A run wires only when it installed all of them.
WIRED_COMPONENTS = (gitea.COMPONENT.name, drone_server.COMPONENT.name, shim.COMPONENT.name)


def skipped_because(only: Collection[str], no_wire: bool = False, dry_run: bool = False, diff: bool = False) -> str:
    """Why this run of bootstrap does not end by wiring; '' when it does."""
    if dry_run or diff:
        return f"{'--dry-run' if dry_run else '--diff'} applies nothing"
    if no_wire:
        return "--no-wire"
    left_out = [name for name in WIRED_COMPONENTS if only and name not in only]
    return f"--only leaves out {', '.join(left_out)}" if left_out else ""


def skipped_line(reason: str) -> str:
    return f"wiring: skipped ({reason}); run `drone_kit wire` to wire Gitea to Drone once they are installed"


def failed_after_install(error: DroneKitError) -> DroneKitError:
    """The wiring's error as bootstrap reports it, after the install's summary: the install is
    done, only the wiring is to run again."""
    again = "the install itself is done: re-run only the wiring, with `drone_kit wire`"
    failed = DroneKitError(f"wiring: {error.message}", hint=f"{error.hint}; {again}" if error.hint else again,
                           details=error.details)
    failed.exit_code = error.exit_code
    return failed
