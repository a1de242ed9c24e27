"""Tests for the pose stage's parts that need no model: MediaPipe timestamps,
finding the bundled model, and choosing the lifter among the people found."""

from __future__ import annotations

import dataclasses
import importlib.resources
from pathlib import Path

import numpy as np
import pytest

import formcheck.pose.estimator as estimator
from formcheck.errors import InputError
from formcheck.pose import landmarks as lm
from formcheck.pose.lifter import LifterSelector
from formcheck.pose.timestamps import MonotonicMs, monotonic_ms
from formcheck.pose.track import PoseFrame

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- timestamps
def test_monotonic_ms_is_strictly_increasing_and_close_to_the_times():
    times = [0.0, 0.0004, 0.0004, 0.001, 0.0333, 0.0334, 0.0666]
    ms = monotonic_ms(times)
    assert ms.dtype == np.int64
    assert ms.tolist() == [0, 1, 2, 3, 33, 34, 67]
    assert np.all(np.diff(ms) > 0)

    to_ms = MonotonicMs()
    assert [to_ms(t) for t in (1.0, 1.0, 2.5)] == [1000, 1001, 2500]


def test_monotonic_ms_never_goes_below_zero():
    # A frame timed before the stream start (e.g. an edit-list pre-roll) still
    # gets a millisecond MediaPipe accepts, and the next frames follow it.
    assert monotonic_ms([-0.040, -0.005, 0.0, 0.033]).tolist() == [0, 1, 2, 33]


# ---------------------------------------------------------------------------- the model file
def _fake_model(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / estimator.MODEL_FILE
    path.write_bytes(b"not really a model")
    return path


def _no_models_package(monkeypatch):
    """Make the installed-package lookup fail as it does in a source checkout
    whose ``formcheck/`` shadows the installed one (no ``formcheck/models`` there)."""
    real_files = importlib.resources.files

    def files(package):
        if package == "formcheck.models":
            raise ModuleNotFoundError("No module named 'formcheck.models'")
        return real_files(package)

    monkeypatch.setattr(importlib.resources, "files", files)


def test_model_falls_back_to_the_checkout_models_folder(monkeypatch, tmp_path):
    _no_models_package(monkeypatch)
    checkout_model = _fake_model(tmp_path / "models")
    monkeypatch.setattr(estimator, "CHECKOUT_MODELS_DIR", tmp_path / "models")
    assert estimator.default_model_path() == checkout_model


def test_model_falls_back_when_the_package_lacks_the_file(monkeypatch, tmp_path):
    monkeypatch.setattr(importlib.resources, "files", lambda package: tmp_path / "empty_package")
    checkout_model = _fake_model(tmp_path / "models")
    monkeypatch.setattr(estimator, "CHECKOUT_MODELS_DIR", tmp_path / "models")
    assert estimator.default_model_path() == checkout_model


def test_installed_model_comes_first(monkeypatch, tmp_path):
    installed_model = _fake_model(tmp_path / "site-packages" / "formcheck" / "models")
    monkeypatch.setattr(importlib.resources, "files", lambda package: installed_model.parent)
    _fake_model(tmp_path / "models")
    monkeypatch.setattr(estimator, "CHECKOUT_MODELS_DIR", tmp_path / "models")
    assert estimator.default_model_path() == installed_model


def test_missing_model_is_one_clear_input_error(monkeypatch, tmp_path):
    _no_models_package(monkeypatch)
    monkeypatch.setattr(estimator, "CHECKOUT_MODELS_DIR", tmp_path / "models")
    with pytest.raises(InputError) as caught:
        estimator.default_model_path()
    message = str(caught.value)
    assert "\n" not in message
    assert "formcheck.models" in message and str(tmp_path / "models") in message


@pytest.mark.skipif(
    Path(estimator.__file__).resolve().parents[2] != REPO,
    reason="formcheck is imported from an install, not from this checkout",
)
def test_checkout_models_folder_is_the_repository_models_folder(monkeypatch):
    _no_models_package(monkeypatch)
    assert estimator.default_model_path() == REPO / "models" / estimator.MODEL_FILE
    assert estimator.default_model_path().is_file()


# ---------------------------------------------------------------------------- choosing the lifter
def _person(centre_x: float, height: float, time_s: float = 0.0) -> PoseFrame:
    """A pose whose landmarks span ``height`` px vertically around ``centre_x``, hips at mid-height."""
    xy = np.zeros((lm.NUM_LANDMARKS, 2), np.float32)
    xy[:, 0] = centre_x
    xy[:, 1] = np.linspace(100.0, 100.0 + height, lm.NUM_LANDMARKS)
    xy[[lm.LEFT_HIP, lm.RIGHT_HIP], 1] = 100.0 + height / 2
    return dataclasses.replace(PoseFrame.empty(time_s), xy=xy)


def test_lifter_is_the_large_central_person_not_a_spectator_at_the_edge():
    selector = LifterSelector((1000, 600))
    lifter, spectator = _person(500.0, 300.0), _person(950.0, 350.0)
    # The spectator is taller on screen, but at the edge: 350 × 0.55 < 300 × 1.
    assert selector.choose([spectator, lifter]) is lifter


def test_lifter_is_followed_while_a_bigger_person_walks_past():
    selector = LifterSelector((1000, 600))
    assert selector.choose([_person(400.0, 300.0)]) is not None
    lifter, coach = _person(420.0, 300.0), _person(520.0, 500.0)
    # Chosen afresh, the coach would win (500 × 0.98 > 300 × 0.92), but the
    # lifter's hips are within half a body size of where they were.
    assert selector.choose([coach, lifter]) is lifter
    selector.reset()
    assert selector.choose([coach, lifter]) is coach


def test_lifter_selector_with_nobody():
    assert LifterSelector((640, 480)).choose([]) is None
