"""The Prometheus client against a loopback server answering as Prometheus does: retried while
it is unavailable, a refused query answered at once in Prometheus's own words."""

from __future__ import annotations

import pytest

from drone_kit.clients.prometheus import instant_query, promql_values
from drone_kit.errors import DroneKitError
from tests.fakes.http_server import FakeHandler, LoopbackServer

VECTOR = {"status": "success", "data": {"resultType": "vector", "result": [
    {"metric": {"job": "app"}, "value": [1764245000.0, "0.25"]},
    {"metric": {"job": "app", "instance": "b"}, "value": [1764245000.0, "NaN"]}]}}
BAD_QUERY = {"status": "error", "errorType": "bad_data",
             "error": 'invalid parameter "query": 1:5: parse error: unexpected <EOF>'}


def prometheus_answering(*answers: tuple[int, dict]) -> tuple[type[FakeHandler], list[str]]:
    remaining, seen = list(answers), []

    class Prometheus(FakeHandler):
        def do_GET(self):
            seen.append(self.path)
            status, body = remaining.pop(0)
            self.answer(status, body)

    return Prometheus, seen


def test_an_unavailable_prometheus_is_asked_again():
    handler, seen = prometheus_answering((503, {"status": "error", "error": "starting"}), (200, VECTOR))
    sleeps: list[float] = []
    with LoopbackServer(handler) as server:
        values = instant_query(server.url, "sum(rate(x[1m]))", sleep=sleeps.append)
    assert values[0] == 0.25 and values[1] != values[1]  # NaN
    assert len(seen) == 2 and len(sleeps) == 1


def test_a_refused_query_fails_at_once_in_prometheus_words():
    handler, seen = prometheus_answering((400, BAD_QUERY))
    with LoopbackServer(handler) as server, pytest.raises(DroneKitError) as raised:
        instant_query(server.url, "sum(", sleep=lambda seconds: None)
    assert len(seen) == 1
    assert raised.value.message == ("Prometheus refused the query 'sum(': bad_data: "
                                    'invalid parameter "query": 1:5: parse error: unexpected <EOF>')


def test_scalar_and_empty_results_and_a_range_result_refused():
    assert promql_values({"resultType": "scalar", "result": [1764245000.0, "3"]}) == [3.0]
    assert promql_values({"resultType": "vector", "result": []}) == []
    with pytest.raises(ValueError, match="returned a matrix"):
        promql_values({"resultType": "matrix", "result": []})
