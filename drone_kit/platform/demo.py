"""`drone_kit demo`: the platform proving itself. The sample app goes into a Gitea repository of
the admin's, wired to Drone; a push builds, deploys and verifies it, and the app serves the
commit's version; then a broken release (the app crashes at start) goes red at its deploy step,
is rolled back, and the previous version is still what serves. Each outcome is checked on the
cluster, not only read from the build. What is pushed: demo_files.py."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from drone_kit.clients.cluster_objects import ClusterObjects
from drone_kit.clients.git_remote import GitRemote
from drone_kit.errors import DroneKitError
from drone_kit.platform import demo_files
from drone_kit.platform.apply_defaults import with_defaulted_keys
from drone_kit.platform.build_follow import failure_lines, follow
from drone_kit.platform.build_watch import failed_step
from drone_kit.platform.config import DRONE_KIT_NAMESPACE, PlatformConfig
from drone_kit.platform.install import Report
from drone_kit.platform.repo_plan import RepoSettings
from drone_kit.platform.secrets_store import read_value
from drone_kit.platform.wire_repos import RepoWiring, repo_wiring
from drone_kit.platform.wiring_plan import GITEA_TOKEN_SECRET

NAME = "demo"
FIELD_MANAGER = "drone-kit-demo"
BRANCH = "main"
SERVING_WAIT = 60.0  # seconds for the Service to answer with the new version once the build is green


@dataclass
class DemoOutcome:
    url: str = ""  # where the app serves, for a browser
    problems: list[str] = field(default_factory=list)  # empty when both outcomes were the right ones


@dataclass
class Demo:
    cluster: ClusterObjects
    config: PlatformConfig
    gitea_url: str  # where this machine reaches Gitea
    drone_url: str
    sample: demo_files.SampleApp
    version: str  # drone_kit's, the tag of the plugin images the pipeline runs
    report: Report
    say: Callable[[str], None]
    build_timeout: float = 900.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def run(self) -> DemoOutcome:
        outcome = DemoOutcome()
        wiring = repo_wiring(self.cluster, self.gitea_url, self.drone_url, RepoSettings(60, True), self.report)
        slug = self._repository(wiring)
        self._app_objects()
        wiring.wire(slug, warn_without_pipeline=False)
        files = demo_files.repository_files(self.sample, self.config, self.version)
        with tempfile.TemporaryDirectory(prefix="drone-kit-demo-") as work:
            remote = self._remote(slug)
            good = self._push(remote, Path(work) / "good", files, "drone_kit demo: the sample app")
            self.report(NAME, "waiting", f"build of {good[:8]}: expecting it to deploy")
            build = follow(wiring.drone, slug, good, self.say, self.build_timeout, self.clock, self.sleep)
            if build.get("status") != "success":
                outcome.problems.append(f"the build of {good[:8]} should have succeeded, "
                                        f"but it is {build.get('status')}")
                self._show_failure(wiring, slug, build)
                return outcome
            image = self._deployed_image()
            outcome.problems += self._serving(demo_files.version_of(good))
            outcome.url = self._url()
            self.say(f"the app serves {demo_files.version_of(good)} at {outcome.url}")
            if outcome.problems:
                return outcome
            bad = self._push(remote, Path(work) / "broken", demo_files.broken(files),
                             "drone_kit demo: a broken release (APP_FAIL=crash), to show the rollback")
            self.report(NAME, "waiting", f"build of {bad[:8]}: expecting a red build and a rollback")
            build = follow(wiring.drone, slug, bad, self.say, self.build_timeout, self.clock, self.sleep)
            outcome.problems += self._rolled_back(wiring, slug, build, image, demo_files.version_of(good))
        return outcome

    def _repository(self, wiring: RepoWiring) -> str:
        owner = str(wiring.gitea.current_user().get("login") or "")
        slug = f"{owner}/{demo_files.REPO_NAME}"
        if wiring.gitea.repository(slug) is None:
            wiring.gitea.create_repository(demo_files.REPO_NAME, description="drone_kit demo: push to deploy")
            self.report(NAME, "changed", f"Gitea repository {slug} created")
        return slug

    def _app_objects(self) -> None:
        """The Service, and the Deployment when there is none: once builds have set its image,
        applying the manifest again would take the running version away."""
        for obj in demo_files.app_objects(self.sample, self.config):
            meta = obj["metadata"]
            exists = self.cluster.get(obj["apiVersion"], obj["kind"], meta["name"], meta["namespace"])
            if obj["kind"] == "Deployment" and exists:
                continue
            self.cluster.apply(with_defaulted_keys(obj), field_manager=FIELD_MANAGER)

    def _remote(self, slug: str) -> GitRemote:
        token = read_value(self.cluster, DRONE_KIT_NAMESPACE, GITEA_TOKEN_SECRET, "token")
        if not token:
            raise DroneKitError("Gitea and Drone are not wired yet", hint="run `drone_kit wire` first")
        return GitRemote(f"{self.gitea_url.rstrip('/')}/{slug}.git", self.config.gitea.admin_user, token)

    def _push(self, remote: GitRemote, checkout: Path, files: dict[str, bytes], message: str) -> str:
        """The branch's files replaced by `files`, committed and pushed: the commit's id."""
        remote.clone(checkout)
        for old in checkout.iterdir():
            if old.name == ".git":
                continue
            if old.is_dir():
                shutil.rmtree(old)
            else:
                old.unlink()
        for path, content in files.items():
            (checkout / path).parent.mkdir(parents=True, exist_ok=True)
            (checkout / path).write_bytes(content)
        commit = remote.commit_all(checkout, message)
        remote.push(checkout, BRANCH)
        self.report(NAME, "changed", f"pushed {commit[:8]}: {message}")
        return commit

    def _deployed_image(self) -> str:
        live = self.cluster.get("apps/v1", "Deployment", demo_files.APP, demo_files.APP_NAMESPACE) or {}
        containers = live.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [{}]
        return str(containers[0].get("image") or "")

    def _version_served(self) -> str:
        status, body = self.cluster.proxy_get(demo_files.APP_NAMESPACE, demo_files.APP, "http", "/version")
        return body.strip() if status == 200 else f"(HTTP {status or 'no answer'})"

    def _serving(self, version: str) -> list[str]:
        deadline = self.clock() + SERVING_WAIT
        served = self._version_served()
        while served != version and self.clock() < deadline:
            self.sleep(2)
            served = self._version_served()
        return [] if served == version else [f"the app should serve {version}, but answers {served}"]

    def _rolled_back(self, wiring: RepoWiring, slug: str, build: dict, image: str, version: str) -> list[str]:
        problems = []
        step = failed_step(build)
        if build.get("status") == "success":
            problems.append(f"the broken release's build #{build.get('number')} should have failed, but succeeded")
        elif step is None or step.name != "deploy":
            problems.append(f"the broken release's build #{build.get('number')} should have failed at deploy, "
                            f"but failed at {step.name if step else 'no step'}")
        self._show_failure(wiring, slug, build)
        deployed = self._deployed_image()
        if deployed != image:
            problems.append(f"the Deployment should be back on {image}, but runs {deployed}")
        problems += self._serving(version)
        if not problems:
            self.say(f"rolled back: the app still serves {version}")
        return problems

    def _show_failure(self, wiring: RepoWiring, slug: str, build: dict) -> None:
        for line in failure_lines(wiring.drone, slug, build):
            self.say(f"  {line}")

    def _url(self) -> str:
        service = self.cluster.get("v1", "Service", demo_files.APP, demo_files.APP_NAMESPACE) or {}
        ingress = (service.get("status", {}).get("loadBalancer", {}).get("ingress") or [{}])[0]
        address = ingress.get("ip") or ingress.get("hostname")
        return f"http://{address}/" if address else "(no address yet: MetalLB has not given the Service one)"


def sample_app(folder: Path) -> demo_files.SampleApp:
    """The sample app of a drone_kit checkout (its sample-app/ folder)."""
    pipeline_file, manifests = folder / demo_files.PIPELINE_FILE, folder / "k8s"
    if not pipeline_file.is_file() or not manifests.is_dir():
        raise DroneKitError(f"{folder} is not drone_kit's sample app (no .drone.yml and k8s/ in it)",
                            hint="pass --sample-app with the sample-app folder of a drone_kit checkout")
    files = {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
             if path.is_file() and path != pipeline_file and "__pycache__" not in path.parts}
    objects = [obj for path in sorted(manifests.glob("*.yaml")) for obj in yaml.safe_load_all(path.read_text()) if obj]
    return demo_files.SampleApp(files, yaml.safe_load(pipeline_file.read_text()), objects)
