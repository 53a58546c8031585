"""Checks of a new version: HTTP answers, and Prometheus queries measured against a condition
over several runs (Argo Rollouts' analysis, as one Drone step). Pure."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drone_kit.errors import SettingsError
from drone_kit.step.settings import DURATION

_OPERATORS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt,
              ">": operator.gt}
_CONDITION = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)\s*$")
POLICIES = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class Condition:
    op: str
    threshold: float

    def holds(self, value: float) -> bool:
        return _OPERATORS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


def parse_condition(text: str) -> Condition:
    """Pure: "< 0.01" → Condition; ValueError otherwise."""
    match = _CONDITION.match(str(text))
    if not match:
        raise ValueError(f"expected a comparison like '< 0.01' or '>= 1', got {text!r}")
    return Condition(match.group(1), float(match.group(2)))


@dataclass(frozen=True)
class Query:
    name: str
    query: str
    condition: Condition
    interval: float = 10.0
    count: int = 1
    failure_limit: int = 1  # bad results that fail the check
    on_empty: str = "inconclusive"
    on_nan: str = "inconclusive"


def _positive_int(raw: object) -> int:
    if isinstance(raw, bool) or not (isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit())) or int(raw) < 1:
        raise ValueError(f"expected a whole number >= 1, got {raw!r}")
    return int(raw)


def _duration(raw: object) -> float:
    try:
        return DURATION.parse(str(raw)).total_seconds()
    except ValueError:
        raise ValueError(f"expected a duration like 10s, got {raw!r}") from None


def _policy(raw: object) -> str:
    if raw not in POLICIES:
        raise ValueError(f"expected one of {', '.join(POLICIES)}, got {raw!r}")
    return raw


def _text(raw: object) -> str:
    if not str(raw or "").strip():
        raise ValueError("required")
    return str(raw)


_FIELDS: dict[str, tuple[Callable[[Any], object], object]] = {  # key: (parser, default; None = required)
    "name": (_text, None), "query": (_text, None), "condition": (parse_condition, None),
    "interval": (_duration, "10s"), "count": (_positive_int, 1), "failure_limit": (_positive_int, 1),
    "on_empty": (_policy, "inconclusive"), "on_nan": (_policy, "inconclusive"),
}


def parse_queries(items: list[dict[str, Any]]) -> list[Query]:
    """Pure: the `queries` setting; every problem named by its key (settings.queries[1].condition)."""
    queries: list[Query] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        where = f"settings.queries[{index}]"
        problems += [f"{where}.{key}: unknown key (known: {', '.join(sorted(_FIELDS))})"
                     for key in sorted(set(item) - set(_FIELDS))]
        values: dict[str, Any] = {}
        for key, (parse, default) in _FIELDS.items():
            try:
                values[key] = parse(item.get(key, default))
            except ValueError as e:
                problems.append(f"{where}.{key}: {e}")
        if len(values) == len(_FIELDS):
            queries.append(Query(**values))
    if problems:
        raise SettingsError(problems, hint="each query is {name, query, condition, interval, count, failure_limit}")
    return queries


@dataclass(frozen=True)
class Measurement:
    outcome: str  # pass, fail or inconclusive
    shown: str  # the measured value as printed


def measure(query: Query, values: list[float]) -> Measurement:
    """Pure: one run of a query: every series must meet the condition."""
    if not values:
        return Measurement(query.on_empty, "empty result")
    if any(math.isnan(v) for v in values):
        return Measurement(query.on_nan, "NaN")
    shown = ", ".join(f"{v:.6g}" for v in values)
    return Measurement("pass" if all(query.condition.holds(v) for v in values) else "fail", shown)


@dataclass
class QueryProgress:
    """The runs of one query so far, and its verdict once decided."""

    query: Query
    runs: list[Measurement] = field(default_factory=list)

    def add(self, measurement: Measurement) -> None:
        self.runs.append(measurement)

    @property
    def bad(self) -> int:
        return sum(1 for m in self.runs if m.outcome == "fail")

    @property
    def verdict(self) -> str | None:
        """fail, pass or inconclusive when decided; None while runs remain."""
        if self.bad >= self.query.failure_limit:
            return "fail"
        if len(self.runs) < self.query.count:
            return None
        return "pass" if any(m.outcome == "pass" for m in self.runs) else "inconclusive"


def http_problems(status: int, headers: dict[str, str], body: str, expect_status: int, expect_body: str | None,
                  expect_header: str | None) -> list[str]:
    """Pure: what is wrong with one HTTP answer. `expect_body` is a substring, or a regex as /…/;
    `expect_header` is "Name: value" (value as a substring) or just "Name"."""
    problems = []
    if status != expect_status:
        problems.append(f"status {status}, expected {expect_status}")
    if expect_body:
        regex = len(expect_body) > 1 and expect_body.startswith("/") and expect_body.endswith("/")
        pattern = expect_body[1:-1] if regex else None
        found = re.search(pattern, body) if pattern is not None else expect_body in body
        if not found:
            problems.append(f"body does not {'match' if pattern is not None else 'contain'} {expect_body!r}")
    if expect_header:
        name, _, value = (part.strip() for part in expect_header.partition(":"))
        actual = {k.lower(): v for k, v in headers.items()}.get(name.lower())
        if actual is None or value not in actual:
            problems.append(f"header {name} is {actual!r}, expected {value!r}" if value else f"no header {name}")
    return problems
