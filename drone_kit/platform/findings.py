"""What a check found: ok, a warning or a failure, in one line, and the fix as lines to follow.
Pre-flight and `doctor` both speak in findings. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

OK, WARNING, FAILED = "ok", "warning", "failed"
_SEVERITY = {OK: 0, WARNING: 1, FAILED: 2}


@dataclass(frozen=True)
class Finding:
    check: str  # what was checked, e.g. "nodes", "servicelb", "registry pull"
    status: str  # OK | WARNING | FAILED
    message: str  # one line
    fix: tuple[str, ...] = ()  # what to do, one instruction or file line per entry


def ok(check: str, message: str) -> Finding:
    return Finding(check, OK, message)


def warning(check: str, message: str, fix: Iterable[str] = ()) -> Finding:
    return Finding(check, WARNING, message, tuple(fix))


def failed(check: str, message: str, fix: Iterable[str] = ()) -> Finding:
    return Finding(check, FAILED, message, tuple(fix))


def worst(findings: Iterable[Finding]) -> str:
    """Pure: the most severe status among the findings; OK for none."""
    return max((f.status for f in findings), key=_SEVERITY.__getitem__, default=OK)


def problems(findings: Iterable[Finding]) -> list[Finding]:
    """Pure: the findings that are not OK."""
    return [f for f in findings if f.status != OK]


def finding_lines(findings: Iterable[Finding]) -> list[str]:
    """Pure: one line per finding, its fix indented under it."""
    lines = []
    for finding in findings:
        lines.append(f"{finding.status.upper():<8} {finding.check}: {finding.message}")
        lines += [f"         {line}" for line in finding.fix]
    return lines
