"""Tests for formcheck.io.files: atomic replacement, cleanup on failure, permissions."""

import stat

import numpy as np
import pytest

from formcheck.io.files import atomic_file, atomic_path, default_file_mode, write_text_atomic
from conftest import stick_track
from formcheck.pose.track import PoseTrack


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "report.json"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_file(target) as fh:
            fh.write(b"half of the new")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_the_file_appears_whole_with_the_usual_permissions(tmp_path):
    target = tmp_path / "sub" / "plot.png"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".png" and not target.exists()
        tmp.write_bytes(b"png bytes")
    assert target.read_bytes() == b"png bytes"
    assert stat.S_IMODE(target.stat().st_mode) == default_file_mode()
    assert [p.name for p in target.parent.iterdir()] == ["plot.png"]


def test_a_track_saved_atomically_loads_back(tmp_path):
    track = stick_track(np.linspace(0, 90, 10), np.linspace(0, 80, 10))
    path = track.save(tmp_path / "landmarks.npz")
    assert stat.S_IMODE(path.stat().st_mode) == default_file_mode()
    loaded = PoseTrack.load(path)
    np.testing.assert_array_equal(loaded.time_s, track.time_s)
    np.testing.assert_array_equal(loaded.xy, track.xy)
