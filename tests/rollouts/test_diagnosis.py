from drone_kit.rollouts.diagnosis import container_state, diagnosis, pod_events, registries_yaml_fix
from drone_kit.rollouts.rules import RolloutState
from tests.rollouts.recordings import EXPECTED, first_verdict


def replay_to_verdict(name):
    verdict, state, _ = first_verdict(name)
    return verdict, state


def test_http_vs_https_names_the_registry_and_the_registries_yaml_fix():
    verdict, state = replay_to_verdict("registry-http-vs-https")
    text = "\n".join(diagnosis(verdict, state, [], previous_log=False))
    for mention in EXPECTED["registry-http-vs-https"]["diagnosis_mentions"]:
        assert mention in text
    assert '      "10.231.0.2:5000":\n        endpoint:\n          - "http://10.231.0.2:5000"' in text


def test_crash_loop_diagnosis_has_state_events_and_logs():
    verdict, state = replay_to_verdict("crashloop")
    lines = diagnosis(verdict, state, ["starting", "fatal: no config"], previous_log=True)
    text = "\n".join(lines)
    assert lines[0].startswith(
        "deployment web failed: pod web-55bd5f7bfb-jmdq9: container web keeps crashing (exit code 3"
    )
    assert (
        "pod web-55bd5f7bfb-jmdq9, container web: waiting (CrashLoopBackOff), last exit code 3 (Error), restarts 1"
        in text
    )
    assert "Warning BackOff: Back-off restarting failed container" in text
    assert "MissingClusterDNS" not in text
    assert "last 2 log lines of the crashed container:\n    | starting\n    | fatal: no config" in text


def test_events_are_deduplicated_and_bounded():
    state = RolloutState("web")
    for i in range(20):
        state.apply("Event", "ADDED", {"involvedObject": {"name": "p"}, "type": "Warning", "reason": "R",
                                       "message": f"m{i % 12}"}, 0)
    assert pod_events(state, "p") == [f"Warning R: m{i}" for i in range(8)]  # the most recent, once each


def test_no_fix_for_other_pull_errors():
    assert registries_yaml_fix('manifest for 127.0.0.1:5000/demo/web:v404 not found: manifest unknown') == []


def test_container_state_of_a_missing_container_says_the_phase():
    assert container_state({"status": {"phase": "Pending"}}, "web") == "phase Pending"
