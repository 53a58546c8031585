"""Which objects a list or watch asks for, as kube-apiserver reads its query: the namespace, label
selectors (=, ==, !=, in, notin, key, !key) and the field selectors each kind supports."""

from __future__ import annotations

import re
from collections.abc import Callable

# Field selectors each kind takes besides metadata.name and metadata.namespace (core/v1 conversion.go).
FIELDS = {
    "Pod": {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase",
            "status.podIP", "status.nominatedNodeName"},
    "Event": {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
              "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
              "type"},
}
LABEL_TERM = re.compile(r"^(?P<key>[\w./-]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[\w.-]*)|\s+(?P<set>in|notin)\s*"
                        r"\((?P<values>[^()]*)\))?$|^!\s*(?P<absent>[\w./-]+)$")


def selection(kind: str, namespace: str, query: dict[str, str]) -> Callable[[dict | None], bool]:
    """Which objects a list or watch asks for: its namespace, labelSelector and fieldSelector.
    ValueError, with the API server's message, for a selector it would refuse."""
    labels = [_label_test(term) for term in re.split(r",(?![^(]*\))", query.get("labelSelector", "")) if term.strip()]
    fields = [_field_test(kind, term) for term in query.get("fieldSelector", "").split(",") if term.strip()]
    return lambda obj: (obj is not None and obj["metadata"].get("namespace") == namespace
                        and all(test(obj["metadata"].get("labels") or {}) for test in labels)
                        and all(test(obj) for test in fields))


def _label_test(term: str) -> Callable[[dict], bool]:
    match = LABEL_TERM.match(term.strip())
    if not match:
        raise ValueError(f"unable to parse requirement: {term.strip()!r}")
    if match["absent"]:
        return lambda labels: match["absent"] not in labels
    key, op, value = match["key"], match["op"], match["value"]
    if op in ("=", "=="):
        return lambda labels: labels.get(key) == value
    if op == "!=":
        return lambda labels: labels.get(key) != value
    if match["set"]:
        values = {v.strip() for v in match["values"].split(",")}
        return lambda labels: (labels.get(key) in values) == (match["set"] == "in")
    return lambda labels: key in labels


def _field_test(kind: str, term: str) -> Callable[[dict], bool]:
    match = re.fullmatch(r"\s*([^=!\s]+)\s*(==|=|!=)\s*(\S*)\s*", term)
    if not match:
        raise ValueError(f"invalid selector: can't understand '{term}'")
    name, op, value = match.groups()
    if name not in {"metadata.name", "metadata.namespace", *FIELDS.get(kind, ())}:
        raise ValueError(f"field label not supported: {name}" if kind in FIELDS else
                         f'"{name}" is not a known field selector: only "metadata.name", "metadata.namespace"')

    def test(obj: dict) -> bool:
        found: object = obj
        for part in name.split("."):
            found = found.get(part, "") if isinstance(found, dict) else ""
        return (str(found) == value) == (op != "!=")

    return test
