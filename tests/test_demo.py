"""The demo end to end: a rendered squat set through the real pose model."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pose_model


def test_demo_finds_three_reps_and_the_shallow_one(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "formcheck", "demo", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=600, cwd=Path.home(),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["exercise"] == "squat" and report["view"]["label"] == "side"
    assert report["rep_count"] == 3
    faults = [(f["rep"], f["code"]) for rep in report["reps"] for f in rep["faults"]]
    assert faults == [(3, "shallow_depth")]
    for name in ("angles.csv", "landmarks.npz", "annotated.mp4"):
        assert (out / name).stat().st_size > 0
