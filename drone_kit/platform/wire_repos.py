"""Wiring repositories to Drone, after `drone_kit wire`: Drone syncs them from Gitea, activates
each one (which registers its hook in Gitea, pointing at the shim), sets its timeout and, only
when asked, trusts it; then the hook is checked from Gitea's side. Decisions: repo_plan.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.clients.drone_admin import DroneAdmin
from drone_kit.clients.gitea import GiteaClient
from drone_kit.errors import DroneKitError
from drone_kit.platform.config import DRONE_KIT_NAMESPACE
from drone_kit.platform.install import Report
from drone_kit.platform.repo_plan import (
    PIPELINE_FILE,
    RepoSettings,
    activation_needed,
    hook_problem,
    settings_changes,
)
from drone_kit.platform.secrets_store import read_value
from drone_kit.platform.wire import DRONE_TOKEN
from drone_kit.platform.wiring_plan import GITEA_TOKEN_SECRET

NAME = "repositories"


@dataclass
class RepoWiring:
    gitea: GiteaClient  # with drone_kit's access token
    drone: DroneAdmin  # with the admin's Drone token
    settings: RepoSettings
    report: Report
    changed: list[str] = field(default_factory=list)
    _synced: bool = False

    def with_pipelines(self) -> list[str]:
        """Every repository drone_kit's token sees that has a .drone.yml on its default branch."""
        return sorted(repo["full_name"] for repo in self.gitea.repositories()
                      if self.gitea.file_content(repo["full_name"], PIPELINE_FILE) is not None)

    def wire(self, slug: str, warn_without_pipeline: bool = True) -> None:
        if self.gitea.repository(slug) is None:
            raise DroneKitError(f"Gitea has no repository {slug} (or drone_kit's token cannot see it)",
                                hint="check the name (OWNER/NAME as in its Gitea URL)")
        drone_repo = self._drone_repo(slug)
        if activation_needed(drone_repo, self.gitea.hooks(slug)):
            self.report(NAME, "waiting", f"activating {slug}")
            drone_repo = self.drone.activate(slug)
            self._changed(f"{slug}: activated in Drone (its Gitea hook points at the shim)")
        changes = settings_changes(drone_repo, self.settings)
        if changes:
            self.drone.update(slug, changes)
            self._changed(f"{slug}: {', '.join(f'{key} {value}' for key, value in sorted(changes.items()))}")
        problem = hook_problem(self.gitea.hooks(slug))
        if problem:
            raise DroneKitError(f"{slug}: {problem}", hint="Drone registers its hook at DRONE_SERVER_PROXY_HOST: "
                                "run `drone_kit wire` (it sets that to the shim), then `drone_kit wire repo` again")
        if warn_without_pipeline and self.gitea.file_content(slug, PIPELINE_FILE) is None:
            self.report(NAME, "warning", f"{slug} has no {PIPELINE_FILE} on its default branch: pushes will not build")

    def _drone_repo(self, slug: str) -> dict:
        found = self.drone.repo(slug)
        if found is None and not self._synced:
            self.report(NAME, "waiting", "Drone syncing the repositories from Gitea")
            self.drone.sync()
            self._synced = True
            found = self.drone.repo(slug)
        if found is None:
            raise DroneKitError(f"Drone does not know {slug}, even after a sync from Gitea",
                                hint="Drone sees the repositories its admin can push to in Gitea: give the admin "
                                     "access to it, or run `drone_kit wire` if the admin never logged in to Drone")
        return found

    def _changed(self, what: str) -> None:
        self.changed.append(what)
        self.report(NAME, "changed", what)


def repo_wiring(cluster: ClusterObjects, gitea_url: str, drone_url: str, settings: RepoSettings,
                report: Report) -> RepoWiring:
    """With the tokens `drone_kit wire` stored: drone_kit's in Gitea, the admin's in Drone."""
    gitea_token = read_value(cluster, DRONE_KIT_NAMESPACE, GITEA_TOKEN_SECRET, "token")
    drone_token = read_value(cluster, DRONE_TOKEN.namespace, DRONE_TOKEN.name, DRONE_TOKEN.keys[0])
    if not gitea_token or not drone_token:
        raise DroneKitError("Gitea and Drone are not wired yet", hint="run `drone_kit wire` first")
    return RepoWiring(GiteaClient(gitea_url, token=gitea_token), DroneAdmin(drone_url, drone_token), settings, report)
