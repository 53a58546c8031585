"""The repository a hook queues under is read as json reads it, whichever parser did the reading."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drone_kit.shim.hook_payload import NOT_JSON, NotAHook, repository_name
from tests.shim.support import push_body


def as_json_reads_it(body: bytes) -> str | None:
    """What the shim always decided: repository.full_name by json.loads, None when it is no hook."""
    try:
        name = json.loads(body)["repository"]["full_name"]
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    return name if isinstance(name, str) and name else None


def read(body: bytes) -> str | None:
    try:
        return repository_name(body)
    except NotAHook:
        return None


def test_a_push_is_read_by_its_repository_name():
    assert repository_name(push_body("our-task/nginx-demo", 1)) == "our-task/nginx-demo"


@pytest.mark.parametrize("body, name", [
    # What msgspec refuses and json takes: json decides.
    (b'{"repository": {"full_name": "a/b"}, "x": NaN}', "a/b"),
    (b'{"repository": {"full_name": "a/b"}, "x": -Infinity}', "a/b"),
    (b'\xef\xbb\xbf{"repository": {"full_name": "a/b"}}', "a/b"),
    ('{"repository": {"full_name": "a/b"}}'.encode("utf-16"), "a/b"),
    (b'{"repository": {"full_name": "a/b"}, "x": "\\ud800"}', "a/b"),
    # Non-ASCII that is UTF-8, where msgspec read it and where it skipped it.
    ('{"repository": {"full_name": "ä/ö"}}'.encode(), "ä/ö"),
    ('{"repository": {"full_name": "a/b"}, "head_commit": {"message": "Grüße"}}'.encode(), "a/b"),
    # A key given twice: the last one counts, as in json.
    (b'{"repository": {"full_name": "a/b"}, "repository": {"full_name": "c/d"}}', "c/d"),
    (b'{"repository": {"full_name": "a/b"}, "repository": 5}', None),
    # What msgspec skips without checking its UTF-8, and json refuses.
    (b'{"repository": {"full_name": "a/b"}, "x": "\xff"}', None),
    (b'{"\xc3": 1, "repository": {"full_name": "a/b"}}', None),
    # No hook.
    (b'{"repository": {"full_name": "a/b"}} trailing', None),
    (b'{"repository": {"full_name": ""}}', None),
    (b'{"repository": {"full_name": 42}}', None),
    (b'{"repository": {"full_name": null}}', None),
    (b'{"repository": null}', None),
    (b'{"repository": ["full_name"]}', None),
    (b'[{"repository": {"full_name": "a/b"}}]', None),
    (b'"repository"', None),
    (b'', None),
])
def test_the_name_is_what_json_reads(body, name):
    assert as_json_reads_it(body) == name  # the table says what json does
    assert read(body) == name


def test_a_body_nested_too_deep_for_either_parser_is_no_hook():
    body = b'{"repository": {"full_name": "a/b"}, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(NotAHook, match="not a Gitea webhook"):
        repository_name(body)


def test_what_is_refused_says_which_field_is_wanted():
    for body in (b"not json", b'{"repository": {"full_name": ""}}'):
        with pytest.raises(NotAHook, match="repository.full_name"):
            repository_name(body)
    assert "repository.full_name" in NOT_JSON


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)
PAYLOADS = st.dictionaries(st.sampled_from(["repository", "ref", "commits", "x"]) | st.text(max_size=8),
                           JSON_VALUES | st.fixed_dictionaries({"full_name": JSON_VALUES}), max_size=5)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(payload=PAYLOADS, ensure_ascii=st.booleans(), spoil=st.none() | st.tuples(st.integers(0, 10_000),
                                                                                  st.binary(min_size=1, max_size=3)))
def test_any_body_is_read_as_json_reads_it(payload, ensure_ascii, spoil):
    body = json.dumps(payload, ensure_ascii=ensure_ascii).encode()
    if spoil is not None:  # a few bytes put in anywhere: often no JSON any more, or no UTF-8
        at, junk = spoil
        body = body[:at % (len(body) + 1)] + junk + body[at % (len(body) + 1):]
    assert read(body) == as_json_reads_it(body)
