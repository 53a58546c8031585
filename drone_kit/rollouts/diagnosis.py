"""What a failed rollout's log shows: the failing pod and container, the cluster's last words
about it, the last lines it printed, and the fix when the fix is known. Pure."""

from __future__ import annotations

import re

from drone_kit.rollouts.rules import RolloutState, Verdict, new_pods

HTTPS_TO_HTTP = re.compile(r'https://([^/"\s]+)/v2/.*server gave HTTP response to HTTPS client', re.IGNORECASE)


def registries_yaml_fix(message: str) -> list[str]:
    """Pure: for k3s's "server gave HTTP response to HTTPS client", the registries.yaml entry that fixes it."""
    match = HTTPS_TO_HTTP.search(message)
    if not match:
        return []
    host = match.group(1)
    return [
        f"The nodes' container runtime pulls from {host} over HTTPS, but that registry serves plain HTTP.",
        "Fix: on every k3s node, add to /etc/rancher/k3s/registries.yaml, then restart k3s (or k3s-agent):",
        "  mirrors:",
        f'    "{host}":',
        "      endpoint:",
        f'        - "http://{host}"',
    ]


def container_state(pod: dict, container: str) -> str:
    """Pure: e.g. "waiting (CrashLoopBackOff), last exit code 3 (Error), restarts 2"."""
    status = pod.get("status", {})
    for item in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        if item.get("name") != container:
            continue
        state_name, details = next(iter((item.get("state") or {"unknown": {}}).items()))
        text = state_name + (f" ({details['reason']})" if details.get("reason") else "")
        if "exitCode" in details:
            text += f", exit code {details['exitCode']}"
        last = (item.get("lastState") or {}).get("terminated")
        if last:
            text += f", last exit code {last.get('exitCode')} ({last.get('reason', 'Error')})"
        return text + f", restarts {item.get('restartCount', 0)}"
    return f"phase {status.get('phase', 'unknown')}"


def pod_events(state: RolloutState, pod: str, limit: int = 8) -> list[str]:
    """Pure: the last events about a pod, one line each, without repeats."""
    lines: list[str] = []
    for event in state.events:
        if event.get("involvedObject", {}).get("name") == pod and event.get("reason") != "MissingClusterDNS":
            line = f"{event.get('type', '')} {event.get('reason', '')}: {event.get('message', '').strip()}"
            if line in lines:
                lines.remove(line)
            lines.append(line)
    return lines[-limit:]


def diagnosis(verdict: Verdict, state: RolloutState, log_lines: list[str], previous_log: bool) -> list[str]:
    """Pure: the lines explaining a failure, for the build log."""
    lines = [f"deployment {state.name} failed: {verdict.message}"]
    pod = next((p for p in new_pods(state) if p["metadata"]["name"] == verdict.pod), None)
    if pod is not None and verdict.container:
        lines.append(f"  pod {verdict.pod}, container {verdict.container}: {container_state(pod, verdict.container)}")
    events = pod_events(state, verdict.pod) if verdict.pod else []
    if events:
        lines.append("  last events:")
        lines += [f"    {event}" for event in events]
    if log_lines:
        lines.append(f"  last {len(log_lines)} log lines" + (" of the crashed container:" if previous_log else ":"))
        lines += [f"    | {line}" for line in log_lines]
    lines += [f"  {line}" for line in registries_yaml_fix(verdict.message)]
    return lines
