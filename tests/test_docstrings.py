"""The examples in the docstrings run, and every stage shows at least one.

Like scikit-image's ``measure.profile_line``, public functions carry small
``>>>`` examples on tiny arrays; this runs them all (no pose model, no video).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import formcheck

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(formcheck.__path__, "formcheck.")
    if not m.name.endswith("__main__") and not m.name.startswith("formcheck.models")
)
STAGES = ("io", "pose", "measure", "reps", "spine", "faults", "exercises", "analysis", "render")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    return [t for t in doctest.DocTestFinder(exclude_empty=True).find(module, name) if t.examples
            and t.name.startswith(name)]  # not the examples of names it imports


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    out: list[str] = []
    for test in examples(name):
        runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_has_runnable_examples(stage):
    found = sum(len(t.examples) for name in MODULES if name == f"formcheck.{stage}" or name.startswith(f"formcheck.{stage}.")
                for t in examples(name))
    assert found > 0, f"formcheck.{stage} has no docstring example"
