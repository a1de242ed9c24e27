"""The house rules of the code: stages in one direction, no cycles, nothing loose at the root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import formcheck

grimp = pytest.importorskip("grimp", reason="grimp (with import-linter) is not installed (pip install '.[test]')")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(formcheck.__file__).parent


def test_each_stage_imports_only_the_stages_before_it():
    """The import-linter layers contract in pyproject.toml (apps → render | synth →
    analysis → exercises → faults → spine → reps → measure → pose → io)."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def strongly_connected(graph) -> list[set[str]]:
    """Tarjan's strongly connected components of the module import graph."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(start):
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    found.append(component)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_counting_imports_inside_functions():
    graph = grimp.build_graph("formcheck", cache_dir=None)  # every import statement, at any depth
    cycles = [sorted(c) for c in strongly_connected(graph) if len(c) > 1]
    self_imports = [m for m in graph.modules if m in graph.find_modules_directly_imported_by(m)]
    assert not cycles and not self_imports, cycles or self_imports


def test_the_package_root_holds_only_the_entry_points_and_errors():
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "errors.py"], loose


def test_every_subpackage_is_installed():
    """A plain `pip install .` ships exactly the packages listed in pyproject.toml."""
    tomllib = pytest.importorskip("tomllib")
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {str(p.parent.relative_to(PACKAGE.parent)).replace("/", ".") for p in PACKAGE.rglob("__init__.py")}
    assert on_disk <= listed, sorted(on_disk - listed)
