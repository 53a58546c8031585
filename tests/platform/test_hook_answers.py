"""What the shim's record of a hook says went wrong, explained: a table of the errors the shim
writes (Drone's answers as `HTTP <status>: <body>`, its own notes) and what each means."""

from __future__ import annotations

import pytest

from drone_kit.platform.hook_answers import DRONE_LOG, drone_answer, explain, ignored

REPO, PAGE = "our-task/app", "http://192.168.1.201:3000/our-task/app/settings/hooks/4"


@pytest.mark.parametrize("error, status, message", [
    ('HTTP 400: {"message":"Cannot find repository"}\n', 400, "Cannot find repository"),
    ('HTTP 400: {"message":"Invalid webhook signature"}', 400, "Invalid webhook signature"),
    ("HTTP 502: <html><body>Bad Gateway</body></html>", 502, "<html><body>Bad Gateway</body></html>"),
    ("HTTP 500: ", 500, ""),
    ('HTTP 500: {"message": "yaml: line 3:\\n  mapping values are not allowed"}', 500,
     "yaml: line 3: mapping values are not allowed"),
    ("Drone unreachable: ConnectionError", None, "Drone unreachable: ConnectionError"),
    ("the shim stopped while sending", None, "the shim stopped while sending"),
    ("", None, ""),
])
def test_drone_s_status_and_words_are_read_from_the_record(error, status, message):
    assert drone_answer(error) == (status, message)


@pytest.mark.parametrize("error, cause, fix", [
    ('HTTP 400: {"message":"Cannot find repository"}',
     "Drone answered HTTP 400 Cannot find repository: it does not know our-task/app, or has never activated it",
     "drone_kit wire repo our-task/app"),
    ('HTTP 400: {"message":"Invalid webhook signature"}',
     "Drone answered HTTP 400 Invalid webhook signature: it checks our-task/app's hooks with another signer than "
     "the shim's", "drone_kit wire  (Drone's DRONE_FEATURE_SERVER_PROXY_SECRET becomes the shim's signer)"),
    ("Drone unreachable: ReadTimeout", "Drone did not answer (Drone unreachable: ReadTimeout)",
     "drone_kit status  (is Drone up?)"),
    ('HTTP 500: {"message":"file does not exist"}',
     "Drone answered HTTP 500 file does not exist: it could not start the build", DRONE_LOG),
    ("HTTP 503: upstream connect error", "Drone answered HTTP 503 upstream connect error: it could not start",
     DRONE_LOG),
    ('HTTP 403: {"message":"Forbidden"}', "Drone refused it: HTTP 403 Forbidden", DRONE_LOG),
    ("the shim stopped while sending", "the shim stopped while sending", DRONE_LOG),
    ("", "no reason recorded", DRONE_LOG),
])
def test_each_answer_is_explained_with_its_fix(error, cause, fix):
    explained = explain(error, REPO, PAGE)
    assert explained.cause.startswith(cause)
    assert explained.fix[0].startswith(fix)


def test_a_signature_mismatch_is_fixed_by_activating_the_repository_again():
    fix = explain('HTTP 400: {"message":"Invalid webhook signature"}', REPO, PAGE).fix
    assert fix[1] == (f"delete our-task/app's hook to the shim in Gitea ({PAGE}), then drone_kit wire repo "
                      "our-task/app: activated again, Drone makes the hook anew, signed with that signer")


def test_a_disabled_repository_is_activated_again():
    assert ignored(REPO).fix == ("drone_kit wire repo our-task/app  (activates it again)",)
