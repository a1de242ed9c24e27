"""Bad and unusual input, kind by kind: the exit status, a one-line message that says what is
wrong, no traceback or warning, no temporary file left, and the previous output set untouched
(or replaced whole). The kinds and the checks are in ``tests/badinput.py``; every kind also runs
in a process of its own in ``benchmarks/bad_input_sweep.py``, with the ones that need the pose
model or a signal.
"""

from __future__ import annotations

import pytest

from badinput import CASES, Inputs, prepare_previous_set, run_case

#: Kinds that run here, and how: in this process (fast), or starting processes (slow tier).
_HERE = {"process": False, "workers": False, "subprocess": True}


def _params():
    for case in CASES:
        if case.where not in _HERE:
            continue
        marks = [] if case.where == "process" else [pytest.mark.slow]
        yield pytest.param(case, id=case.kind, marks=marks)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Inputs:
    return Inputs(tmp_path_factory.mktemp("bad-input") / "inputs")


@pytest.fixture(scope="module")
def previous(inputs, tmp_path_factory):
    """The complete output set of an earlier, good run, which every case starts from."""
    return prepare_previous_set(inputs, tmp_path_factory.mktemp("previous") / "set")


@pytest.mark.parametrize("case", list(_params()))
def test_each_kind_of_bad_input_is_handled(case, inputs, previous, tmp_path):
    assert run_case(case, inputs, previous, tmp_path / "work", subprocess_mode=_HERE[case.where]) == []


def test_the_suite_covers_every_heading_of_the_issue_with_at_least_40_kinds():
    kinds = [case.kind for case in CASES if case.where in _HERE]
    assert len(kinds) == len(set(kinds)) >= 40
    headings = {case.category for case in CASES if case.where in _HERE}
    assert {"one output set per run", "--landmarks must match the video", "file names as bytes", "camera indices",
            "ordinary mistakes, not internal errors", "data not taken silently", "cosmetic"} <= headings
