"""The deploy plugin's settings, as a user writes them under `settings:` in .drone.yml."""

from __future__ import annotations

from drone_kit.plugins.cluster import CLUSTER_SETTINGS
from drone_kit.step.settings import BOOL, DURATION, INT, LIST, Setting

SETTINGS = (
    Setting("deployment", LIST, required=True, help="Deployment name, or a list of them (all roll back together)."),
    Setting("namespace", default="default", help="Namespace of the deployments."),
    Setting("container", default_help="the pod's only container", help="Container whose image is set."),
    Setting("image", default_help="repo@digest from .drone-kit/image.json (build-push)", help="Image to deploy."),
    *CLUSTER_SETTINGS,
    Setting("timeout", DURATION, default="5m", help="Longest the whole rollout may take."),
    Setting("ready_timeout", DURATION, default="2m", help="Longest a new pod may take to become Ready."),
    Setting("max_restarts", INT, default="2",
            help="Restarts of a new container (a crash-looping one's next restart included) that fail the rollout."),
    Setting("rollback", BOOL, default="true", help="Roll back to the recorded pod template when the rollout fails."),
    Setting("change_cause", default_help="build number, commit and link",
            help="kubernetes.io/change-cause annotation."),
    Setting("verify_image", BOOL, default="true",
            help="Before deploying, check the image is in its registry (when reachable)."),
    Setting("dry_run", BOOL, default="false", help="Server-side dry run of the change; nothing is rolled out."),
    Setting("watch_only", BOOL, default="false", help="Do not change anything: watch a rollout already started."),
)
