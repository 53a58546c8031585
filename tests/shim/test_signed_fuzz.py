"""Fuzzing what a correctly signed sender can send, so that the signature check is passed and body
parsing and storage are what is exercised: whatever the body, the shim answers 202 or 400 (never
an error of its own), and what it accepts is stored byte for byte under its repository's name."""

from __future__ import annotations

import json
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from drone_kit.shim.outbox import Outbox
from drone_kit.shim.signatures import gitea_signature
from tests.shim.support import SECRET, shim_app
from tests.stack.registry import free_port

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)
REPOSITORY = st.fixed_dictionaries({"full_name": JSON_VALUES | st.text(min_size=1, max_size=60)},
                                   optional={"owner": JSON_VALUES, "name": JSON_VALUES})
PAYLOADS = st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=5).flatmap(
    lambda extra: st.fixed_dictionaries({"repository": REPOSITORY | JSON_VALUES}).map(lambda p: {**extra, **p}))
BODIES = PAYLOADS.map(lambda p: json.dumps(p, indent=2).encode()) | st.binary(max_size=500)
EVENTS = st.sampled_from(["push", "create", "delete", "pull_request", "issue_comment", "", "unknown"])


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES, event=EVENTS)
def test_any_correctly_signed_body_is_stored_as_sent_or_refused_with_a_reason(tmp_path_factory, body, event):
    tmp = tmp_path_factory.mktemp("fuzz")
    client = TestClient(shim_app(tmp, f"http://127.0.0.1:{free_port()}"))
    delivery = str(uuid.uuid4())
    headers = {"Content-Type": "application/json", "X-Gitea-Event": event, "X-Gitea-Delivery": delivery,
               "X-Gitea-Signature": gitea_signature(body, SECRET)}
    answer = client.post("/hook", content=body, headers=headers)
    assert answer.status_code in (202, 400), answer.text
    rows = [(hook.repo, hook.event, hook.body) for hook in Outbox(tmp / "outbox.sqlite").page(10)
            if hook.delivery == delivery]
    if answer.status_code == 400:
        assert rows == [] and answer.json()["message"]
        return
    payload = json.loads(body)
    assert rows == [(payload["repository"]["full_name"], event, body)]
