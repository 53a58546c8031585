"""What a Drone build event says about delivery: finished? a deploy? how long since the commit? Pure."""

from __future__ import annotations

from dataclasses import dataclass

FINISHED = {"success", "failure", "error", "killed"}


@dataclass(frozen=True)
class BuildFacts:
    repo: str
    number: int
    status: str
    branch: str
    commit: str
    link: str
    duration: float | None
    finished: float
    commit_time: float | None
    deploy: bool


def is_deploy(build: dict) -> bool:
    """Pure: a promotion, or a build with a step named deploy or running a drone_kit deploy image."""
    if build.get("event") == "promote":
        return True
    steps = [step for stage in build.get("stages") or [] for step in stage.get("steps") or []]
    return any(step.get("name") == "deploy" or "/deploy" in (step.get("image") or "") for step in steps)


def build_facts(event: dict) -> BuildFacts | None:
    """Pure: the facts of a finished build from Drone's global webhook; None for anything else."""
    build, repo = event.get("build") or {}, event.get("repo") or {}
    if event.get("event") != "build" or build.get("status") not in FINISHED or not build.get("finished"):
        return None
    started, finished = build.get("started") or 0, build["finished"]
    return BuildFacts(
        repo=repo.get("slug") or f"{repo.get('namespace', '')}/{repo.get('name', '')}",
        number=build.get("number", 0), status=build["status"], branch=build.get("target") or build.get("source", ""),
        commit=build.get("after", ""), link=build.get("link", ""),
        duration=finished - started if started else None, finished=float(finished),
        commit_time=float(build["timestamp"]) if build.get("timestamp") else None, deploy=is_deploy(build),
    )


def deploy_annotation(facts: BuildFacts) -> dict:
    """Pure: the Grafana annotation that marks a successful deploy on every dashboard."""
    return {"time": int(facts.finished * 1000), "tags": ["deploy", facts.repo, facts.branch, facts.commit[:8]],
            "text": f"deploy of {facts.repo} {facts.commit[:8]} by build #{facts.number}: {facts.link}"}
