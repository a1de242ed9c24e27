"""The ``>>>`` examples in the docstrings of the input and pose stages run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "formcheck.io.files",
    "formcheck.io.video",
    "formcheck.io.writer",
    "formcheck.pose.filters",
    "formcheck.pose.landmarks",
    "formcheck.pose.silhouette",
    "formcheck.pose.timestamps",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
