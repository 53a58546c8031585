"""Pure builders of Grafana's dashboard JSON model (schema 39, Grafana 10 and 11): queries,
time series and stat panels laid out on the 24-column grid, variables, and the annotation query
that marks every deploy the shim reports."""

from __future__ import annotations

from drone_kit.platform.objects import Obj

DATASOURCE_UID = "prometheus"  # fixed in the provisioned datasource, so dashboards can name it
DATASOURCE: Obj = {"type": "prometheus", "uid": DATASOURCE_UID}
BUILT_IN: Obj = {"type": "grafana", "uid": "-- Grafana --"}  # Grafana's own annotation store
DEPLOY_TAG = "deploy"  # the tag the shim puts on the annotation of every successful deploy
SCHEMA_VERSION = 39
GRID_WIDTH = 24
Query = tuple[str, str]  # (PromQL, legend)


def _targets(queries: list[Query]) -> list[Obj]:
    return [{"refId": chr(ord("A") + index), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend,
             "range": True} for index, (expr, legend) in enumerate(queries)]


def timeseries(title: str, queries: list[Query], unit: str = "short", description: str = "") -> Obj:
    return {"type": "timeseries", "title": title, "description": description, "datasource": DATASOURCE,
            "targets": _targets(queries),
            "fieldConfig": {"defaults": {"unit": unit, "min": 0}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}


def stat(title: str, expr: str, unit: str = "short", red_at: float | None = None, description: str = "") -> Obj:
    """One number; red from `red_at` on (e.g. hooks that failed for good: any is too many)."""
    steps: list[Obj] = [{"color": "green", "value": None}]
    if red_at is not None:
        steps.append({"color": "red", "value": red_at})
    return {"type": "stat", "title": title, "description": description, "datasource": DATASOURCE,
            "targets": _targets([(expr, "")]),
            "fieldConfig": {"defaults": {"unit": unit, "color": {"mode": "thresholds"},
                                         "thresholds": {"mode": "absolute", "steps": steps}}, "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "area", "textMode": "auto"}}


def laid_out(rows: list[tuple[int, list[Obj]]]) -> list[Obj]:
    """Pure: the panels of each (height, panels) row side by side in equal widths, rows stacked,
    numbered in reading order."""
    placed: list[Obj] = []
    y = 0
    for height, row in rows:
        width = GRID_WIDTH // len(row)
        for column, panel in enumerate(row):
            placed.append({**panel, "id": len(placed) + 1,
                           "gridPos": {"h": height, "w": width, "x": column * width, "y": y}})
        y += height
    return placed


def variable(name: str, label: str, query: str) -> Obj:
    """A multi-value variable from `label_values(...)`; "All" matches everything, empty too."""
    return {"name": name, "label": label, "type": "query", "datasource": DATASOURCE, "query": query,
            "definition": query, "refresh": 2, "sort": 1, "multi": True, "includeAll": True, "allValue": ".*",
            "current": {}, "hide": 0}


def annotation_queries() -> Obj:
    """Grafana's built-in query, and the deploys: organisation-wide annotations (the shim posts
    them without a dashboard) found by their tag."""
    return {"list": [
        {"builtIn": 1, "name": "Annotations & Alerts", "type": "dashboard", "datasource": BUILT_IN,
         "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)"},
        {"name": "Deploys", "datasource": BUILT_IN, "enable": True, "hide": False, "iconColor": "green",
         "target": {"type": "tags", "tags": [DEPLOY_TAG], "matchAny": False, "limit": 100}},
    ]}


def dashboard(uid: str, title: str, description: str, rows: list[tuple[int, list[Obj]]],
              variables: list[Obj]) -> Obj:
    return {"uid": uid, "title": title, "description": description, "tags": ["drone-kit"],
            "schemaVersion": SCHEMA_VERSION, "version": 1, "editable": False, "graphTooltip": 1,
            "timezone": "browser", "refresh": "1m", "time": {"from": "now-24h", "to": "now"},
            "annotations": annotation_queries(), "templating": {"list": variables}, "panels": laid_out(rows)}
