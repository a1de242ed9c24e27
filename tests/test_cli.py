"""The command line on bad input: one clear line, non-zero exit, no traceback."""

import json
from pathlib import Path
import subprocess
import sys

import av
import numpy as np
import pytest

from conftest import cycle, stick_track
from formcheck.apps.cli import main


def formcheck(*args, cwd=None):
    # Run outside the checkout so the installed package (with its bundled model) is used.
    return subprocess.run([sys.executable, "-m", "formcheck", *args], capture_output=True, text=True, cwd=cwd or Path.home(), timeout=300)


def assert_one_line_error(result, text):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    assert text in lines[0]


def write_video(path, frames, fps=30):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_missing_file(tmp_path):
    assert_one_line_error(formcheck("analyze", str(tmp_path / "nope.mp4")), "does not exist")


def test_zero_byte_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert_one_line_error(formcheck("analyze", str(empty), "--out", str(tmp_path / "o")), "empty")


def test_not_a_video(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    assert_one_line_error(formcheck("analyze", str(text), "--out", str(tmp_path / "o")), "notes.mp4")


def test_bad_landmarks_file(tmp_path):
    bad = tmp_path / "track.npz"
    np.savez(bad, x=np.zeros(2))
    assert_one_line_error(formcheck("analyze", str(bad), "--out", str(tmp_path / "o")), "not a formcheck landmark track")


def test_unknown_option_is_a_usage_error():
    result = formcheck("analyze", "x.mp4", "--exercise", "bench")
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.pose_model
def test_video_without_a_person(tmp_path):
    video = tmp_path / "blank.mp4"
    write_video(video, [np.full((240, 320, 3), 90, np.uint8)] * 20)
    result = formcheck("analyze", str(video), "--out", str(tmp_path / "out"), "--no-video")
    assert_one_line_error(result, "no person")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["rep_count"] == 0 and "no person" in report["notes"][0]


@pytest.mark.pose_model
def test_truncated_video_reports_what_was_decoded(tmp_path):
    video = tmp_path / "full.mp4"
    write_video(video, [np.full((240, 320, 3), i * 4, np.uint8) for i in range(60)])
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    result = formcheck("analyze", str(cut), "--out", str(tmp_path / "out"), "--no-video")
    assert "Traceback" not in result.stderr
    assert result.returncode != 0 or "truncated" in result.stdout


def test_reanalysis_from_saved_landmarks(tmp_path):
    track = stick_track(cycle(60, 2, 5, 140), cycle(60, 2, 5, 110), arms_down=False)
    saved = track.save(tmp_path / "landmarks.npz")
    result = formcheck("analyze", str(saved), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "2 reps" in result.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["exercise"] == "squat" and report["rep_count"] == 2
    assert (tmp_path / "out" / "angles.csv").read_text().startswith("frame,time_s,")


@pytest.mark.parametrize("command", ["analyze", "demo", "eval", "batch", "history", "live", "report", "synth"])
def test_every_command_prints_its_help(command, capsys):
    """``formcheck COMMAND --help`` prints the command's options and exits 0
    (``synth`` forwards its arguments to its own parser)."""
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:") and "--" in out


def test_unknown_options_are_refused_in_one_line(capsys):
    with pytest.raises(SystemExit) as done:
        main(["analyze", "clip.mp4", "--no-such-option"])
    assert done.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err
