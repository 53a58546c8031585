"""The verify plugin's settings, as a user writes them under `settings:` in .drone.yml."""

from __future__ import annotations

from drone_kit.plugins.cluster import CLUSTER_SETTINGS
from drone_kit.step.settings import BOOL, DURATION, INT, LIST, MAPS, Setting

SETTINGS = (
    Setting("url", LIST, help="URL(s) that must answer; in-cluster service URLs work from the step."),
    Setting("expect_status", INT, default="200", help="HTTP status each URL must answer with."),
    Setting("expect_body", help="Text the body must contain, or a regex written as /…/."),
    Setting("expect_header", help='A header the answer must carry: "Name: value" (value as a substring) or "Name".'),
    Setting("expect_version", default_help="the git tag, else the short commit sha",
            help="The version the new deployment must report (needs version_url or version_header)."),
    Setting("version_url", help="URL whose body reports the serving version, e.g. http://app/version."),
    Setting("version_header", help="Response header of `url` that reports the serving version."),
    Setting("attempts", INT, default="10", help="Tries of the HTTP checks before they fail."),
    Setting("interval", DURATION, default="3s", help="Time between HTTP tries."),
    Setting("timeout", DURATION, default="5s", help="Timeout of each HTTP request."),
    Setting("prometheus", help="Prometheus base URL, e.g. http://prometheus.monitoring:9090."),
    Setting("queries", MAPS, help="Checks as {name, query, condition, interval, count, failure_limit, on_empty, "
                                  "on_nan}; e.g. condition '< 0.01', 5 runs 10s apart, fail after 2 bad."),
    Setting("soak", DURATION, help="Window in which no pod of the new ReplicaSet may restart."),
    Setting("rollback", BOOL, default="true", help="On failure, roll back what this build's deploy step changed "
                                                  "(.drone-kit/deploy.json)."),
    *CLUSTER_SETTINGS,
)
