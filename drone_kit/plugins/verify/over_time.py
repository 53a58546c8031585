"""The verify plugin's checks over time: Prometheus queries run several times, and the soak
window in which no new pod may restart."""

from __future__ import annotations

from collections.abc import Callable

from drone_kit.clients.prometheus import instant_query
from drone_kit.errors import DroneKitError
from drone_kit.plugins.verify.analysis import Query, QueryProgress, measure
from drone_kit.plugins.verify.checks import record
from drone_kit.rollouts.soak import Soak
from drone_kit.step.plugin import PluginRun

SOAK_POLL = 2.0  # seconds between looks at the new pods' restart counts


def over_time(run: PluginRun, queries: list[Query], soak: Soak | None, checks: list[dict],
              clock: Callable[[], float], sleep: Callable[[float], None]) -> str:
    """Run the queries and the soak side by side until every query is decided and the soak is over."""
    started = clock()
    progress = [QueryProgress(q) for q in queries]
    soak_until = started + run.settings["soak"].total_seconds() if soak else started
    next_soak_check = started
    while True:
        now = clock()
        for item in progress:
            query = item.query
            if item.verdict is None and now >= started + len(item.runs) * query.interval:
                try:
                    measurement = measure(query, instant_query(run.settings["prometheus"], query.query))
                except DroneKitError as e:
                    raise DroneKitError(f"settings.queries ({query.name}): {e.message}", hint=e.hint) from e
                item.add(measurement)
                run.say(f"{measurement.outcome.upper():4} {query.name} run {len(item.runs)}/{query.count}: "
                        f"{measurement.shown} (expected {query.condition}; bad {item.bad} of {query.failure_limit} "
                        f"allowed to fail)")
        if soak and now >= next_soak_check:
            next_soak_check = now + SOAK_POLL
            restart = soak.restarted()
            if restart:
                record(run, checks, "soak", restart, "no restarts", "fail")
                return "fail"
        decided = [item.verdict for item in progress]
        if "fail" in decided or (None not in decided and now >= soak_until):
            break
        sleep(0.2)
    for item in progress:
        last = item.runs[-1]
        record(run, checks, item.query.name, f"{last.shown} ({item.bad} bad of {len(item.runs)})",
                f"{item.query.condition}, fewer than {item.query.failure_limit} bad", item.verdict or "inconclusive")
    if soak:
        record(run, checks, "soak", f"no restarts in {run.settings['soak'].total_seconds():g}s", "no restarts", "pass")
    verdicts = [item.verdict for item in progress]
    return "fail" if "fail" in verdicts else "inconclusive" if "inconclusive" in verdicts else "pass"
