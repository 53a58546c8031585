"""The package layout's promises that import-linter cannot check: every subpackage says what it
owns, modules stay small, and what calls itself pure takes its clock as an argument."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.paths import ROOT

PACKAGE = ROOT / "drone_kit"
MODULES = sorted(PACKAGE.rglob("*.py"))
SUBPACKAGES = sorted(path.parent for path in PACKAGE.glob("*/__init__.py"))
MAX_MODULE_LINES = 300
CLOCKS = {("time", "time"), ("time", "monotonic"), ("time", "perf_counter"), ("datetime", "now"),
          ("datetime", "utcnow"), ("datetime", "today"), ("date", "today")}


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _clock_calls(node: ast.AST) -> list[str]:
    """Calls like time.monotonic() or datetime.now(…) anywhere under `node`."""
    found = []
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
            owner = call.func.value
            owner_name = (
                owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            )
            if (owner_name, call.func.attr) in CLOCKS:
                found.append(f"line {call.lineno}: {owner_name}.{call.func.attr}()")
    return found


def _says_pure(docstring: str | None) -> bool:
    text = (docstring or "").strip()
    return text.startswith("Pure") or " Pure." in text or " Pure:" in text or text.endswith("Pure.")


@pytest.mark.parametrize("package", SUBPACKAGES, ids=_name)
def test_every_subpackage_says_what_it_owns_and_may_import(package):
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
    assert docstring and len(docstring.split()) >= 25, f"{_name(package)}/__init__.py needs a paragraph on what it owns"
    assert "import" in docstring.lower(), f"{_name(package)}/__init__.py should say what it may import"


@pytest.mark.parametrize("module", MODULES, ids=_name)
def test_no_module_is_over_the_size_one_idea_needs(module):
    lines = len(module.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_name(module)} has {lines} lines: split it by idea"


@pytest.mark.parametrize("module", MODULES, ids=_name)
def test_what_says_it_is_pure_reads_no_clock(module):
    tree = ast.parse(module.read_text())
    problems = _clock_calls(tree) if _says_pure(ast.get_docstring(tree)) else []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _says_pure(ast.get_docstring(node)):
            problems += [f"{node.name}: {call}" for call in _clock_calls(node)]
    assert not problems, f"{_name(module)} is pure but reads the clock (take `now` as an argument): {problems}"


def test_the_clock_check_finds_a_clock_call():
    impure = ast.parse('def f():\n    """Pure: no."""\n    return time.monotonic() + datetime.now(timezone.utc).year\n')
    assert len(_clock_calls(impure)) == 2
    assert _says_pure(ast.get_docstring(impure.body[0]))  # type: ignore[arg-type]
