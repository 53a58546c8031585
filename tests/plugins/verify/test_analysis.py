import math

import pytest

from drone_kit.clients.prometheus import promql_values
from drone_kit.errors import SettingsError
from drone_kit.plugins.verify.analysis import (
    Condition,
    Measurement,
    Query,
    QueryProgress,
    http_problems,
    measure,
    parse_condition,
    parse_queries,
)


@pytest.mark.parametrize("text, value, holds", [
    ("< 0.01", 0.005, True), ("< 0.01", 0.01, False), ("<=0.01", 0.01, True), (">= 1", 1, True),
    ("> 0", 0, False), ("== 1", 1.0, True), ("!= 0", 2, True), ("< 1e-3", 0.0001, True),
])
def test_conditions(text, value, holds):
    assert parse_condition(text).holds(value) is holds


@pytest.mark.parametrize("text", ["0.01", "< abc", "=< 1", ""])
def test_bad_conditions(text):
    with pytest.raises(ValueError, match="expected a comparison like"):
        parse_condition(text)


def test_parse_queries_defaults_and_errors_by_key():
    [query] = parse_queries([{"name": "5xx", "query": "q", "condition": "< 0.01", "interval": "10s", "count": 5,
                              "failure_limit": 2}])
    assert query == Query("5xx", "q", Condition("<", 0.01), 10.0, 5, 2, "inconclusive", "inconclusive")
    with pytest.raises(SettingsError) as caught:
        parse_queries([{"name": "a", "query": "q", "condition": "< 1"},
                       {"name": "b", "condition": "soon", "count": 0, "on_empty": "maybe", "intervall": "1s"}])
    assert caught.value.problems == [
        "settings.queries[1].intervall: unknown key (known: condition, count, failure_limit, interval, name, "
        "on_empty, on_nan, query)",
        "settings.queries[1].query: required",
        "settings.queries[1].condition: expected a comparison like '< 0.01' or '>= 1', got 'soon'",
        "settings.queries[1].count: expected a whole number >= 1, got 0",
        "settings.queries[1].on_empty: expected one of pass, fail, inconclusive, got 'maybe'",
    ]


def test_promql_values():
    assert promql_values({"resultType": "vector", "result": [{"metric": {}, "value": [1, "0.5"]},
                                                           {"metric": {}, "value": [1, "NaN"]}]})[0] == 0.5
    assert math.isnan(promql_values({"resultType": "vector", "result": [{"value": [1, "NaN"]}]})[0])
    assert promql_values({"resultType": "scalar", "result": [1, "3"]}) == [3.0]
    assert promql_values({"resultType": "vector", "result": []}) == []
    with pytest.raises(ValueError, match="returned a matrix"):
        promql_values({"resultType": "matrix", "result": []})


@pytest.mark.parametrize("values, policy, expected", [
    ([0.001], "inconclusive", Measurement("pass", "0.001")),
    ([0.001, 0.5], "inconclusive", Measurement("fail", "0.001, 0.5")),
    ([], "pass", Measurement("pass", "empty result")),
    ([], "fail", Measurement("fail", "empty result")),
    ([float("nan")], "inconclusive", Measurement("inconclusive", "NaN")),
])
def test_measure(values, policy, expected):
    query = Query("q", "q", Condition("<", 0.01), on_empty=policy, on_nan=policy)
    assert measure(query, values) == expected


def test_query_progress_fails_at_failure_limit_and_passes_after_count():
    progress = QueryProgress(Query("q", "q", Condition("<", 1), count=3, failure_limit=2))
    for outcome, verdict in (("fail", None), ("pass", None), ("fail", "fail")):
        progress.add(Measurement(outcome, "x"))
        assert progress.verdict == verdict
    passing = QueryProgress(Query("q", "q", Condition("<", 1), count=2, failure_limit=2))
    passing.add(Measurement("fail", "x"))
    passing.add(Measurement("pass", "x"))
    assert passing.verdict == "pass"
    empty = QueryProgress(Query("q", "q", Condition("<", 1), count=1))
    empty.add(Measurement("inconclusive", "empty result"))
    assert empty.verdict == "inconclusive"


@pytest.mark.parametrize("status, headers, body, expectations, problems", [
    (200, {}, "hello v2", (200, None, None), []),
    (503, {}, "down", (200, None, None), ["status 503, expected 200"]),
    (200, {}, "hello v1", (200, "v2", None), ["body does not contain 'v2'"]),
    (200, {}, "version: 2.3.4", (200, r"/version: \d+\.\d+/", None), []),
    (200, {"X-App-Version": "v2"}, "", (200, None, "x-app-version: v2"), []),
    (200, {"X-App-Version": "v1"}, "", (200, None, "X-App-Version: v2"),
     ["header X-App-Version is 'v1', expected 'v2'"]),
    (200, {}, "", (200, None, "X-Trace"), ["no header X-Trace"]),
])
def test_http_problems(status, headers, body, expectations, problems):
    assert http_problems(status, headers, body, *expectations) == problems
