"""Tests for formcheck.io.writer: H.264 round trip, atomic output, fallback."""

from __future__ import annotations

import logging
import time

import av
import cv2
import numpy as np
import pytest

from formcheck.io import writer as writer_module
from formcheck.io.writer import VideoWriter, frame_size_for


def grey_level(index: int) -> int:
    """Distinct grey levels, 7 apart, for up to 32 frames."""
    return 16 + 7 * (index % 32)


def grey_frame(index: int, size=(96, 64)) -> np.ndarray:
    width, height = size
    return np.full((height, width, 3), grey_level(index), np.uint8)


def nearest_index(frame: np.ndarray, n: int) -> int:
    level = float(np.median(frame))
    return int(np.argmin([abs(level - grey_level(i)) for i in range(n)]))


def decode_with_pyav(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        frames = [(frame.time, frame.to_ndarray(format="bgr24")) for frame in container.decode(stream)]
    return codec, frames


def decode_with_opencv(path):
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def test_h264_round_trip(tmp_path):
    path = tmp_path / "out.mp4"
    n = 30
    with VideoWriter(path, fps=30, size=(96, 64)) as video:
        for i in range(n):
            video.write(grey_frame(i))
    assert video.codec == "h264" and video.frames_written == n

    codec, frames = decode_with_pyav(path)
    assert codec == "h264"
    assert len(frames) == n
    assert [t for t, _ in frames] == pytest.approx([i / 30 for i in range(n)], abs=1e-4)
    assert all(frame.shape == (64, 96, 3) for _, frame in frames)
    assert [nearest_index(frame, n) for _, frame in frames] == list(range(n))

    cv_frames = decode_with_opencv(path)
    assert len(cv_frames) == n and cv_frames[0].shape == (64, 96, 3)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # temp file gone


def test_output_is_web_playable_mp4(tmp_path):
    path = tmp_path / "out.mp4"
    with VideoWriter(path, fps=30, size=(64, 48)) as video:
        for i in range(5):
            video.write(grey_frame(i, (64, 48)))
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # +faststart: index first
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        assert context.pix_fmt == "yuv420p"
        assert context.profile in ("High", "Main", "Constrained Baseline")


def test_colours_survive(tmp_path):
    path = tmp_path / "out.mp4"
    colour = (40, 120, 200)
    with VideoWriter(path, fps=30, size=(64, 48)) as video:
        for _ in range(3):
            video.write(np.full((48, 64, 3), colour, np.uint8))
    _, frames = decode_with_pyav(path)
    assert np.abs(frames[0][1][24, 32].astype(int) - colour).max() <= 3


def test_odd_size_is_padded_to_even(tmp_path):
    path = tmp_path / "odd.mp4"
    frame = np.zeros((61, 101, 3), np.uint8)
    frame[:, 50:] = 255  # right half white, so the padded column must be white too
    with VideoWriter(path, fps=25, size=(101, 61)) as video:
        assert video.output_size == (102, 62)
        for _ in range(3):
            video.write(frame)
    _, frames = decode_with_pyav(path)
    image = frames[0][1]
    assert image.shape == (62, 102, 3)
    assert image[30, 101].min() > 200 and image[30, 10].max() < 50


def test_frames_of_another_size_are_resized(tmp_path):
    path = tmp_path / "out.mp4"
    with VideoWriter(path, fps=30, size=(64, 48)) as video:
        video.write(grey_frame(0, (128, 96)))
        video.write(grey_frame(1, (32, 24)))
    _, frames = decode_with_pyav(path)
    assert [frame.shape for _, frame in frames] == [(48, 64, 3)] * 2


def test_given_times_are_kept(tmp_path):
    path = tmp_path / "vfr.mp4"
    times = [5.0, 5.033, 5.05, 5.2, 5.21, 5.6]
    with VideoWriter(path, fps=30, size=(64, 48)) as video:
        for i, t in enumerate(times):
            video.write(grey_frame(i, (64, 48)), time_s=t)
    _, frames = decode_with_pyav(path)
    assert [t for t, _ in frames] == pytest.approx([t - times[0] for t in times], abs=1e-4)


def test_frame_is_copied_so_the_caller_may_reuse_it(tmp_path):
    path = tmp_path / "out.mp4"
    buffer = grey_frame(0)
    with VideoWriter(path, fps=30, size=(96, 64), queue_size=64) as video:
        for i in range(10):
            buffer[:] = grey_frame(i)
            video.write(buffer)
    _, frames = decode_with_pyav(path)
    assert [nearest_index(frame, 10) for _, frame in frames] == list(range(10))


def test_no_file_under_the_final_name_until_closed(tmp_path):
    path = tmp_path / "out.mp4"
    video = VideoWriter(path, fps=30, size=(64, 48))
    for i in range(20):
        video.write(grey_frame(i, (64, 48)))
    assert not path.exists()
    assert all(p.name.startswith(".out.") for p in tmp_path.iterdir())  # only the hidden temporary file
    assert video.close() == path
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_exception_in_with_block_leaves_nothing_and_keeps_an_old_file(tmp_path):
    path = tmp_path / "out.mp4"
    path.write_bytes(b"previous result")
    with pytest.raises(RuntimeError, match="analysis failed"):
        with VideoWriter(path, fps=30, size=(64, 48)) as video:
            for i in range(60):
                video.write(grey_frame(i, (64, 48)))
            # Wait until the encoder has started the temporary file, so its removal is tested.
            deadline = time.monotonic() + 5
            while not any(p.name.startswith(".out.") for p in tmp_path.iterdir()) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert any(p.name.startswith(".out.") for p in tmp_path.iterdir())
            raise RuntimeError("analysis failed")
    assert path.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_encoder_failure_surfaces_and_leaves_no_file(tmp_path, monkeypatch):
    def broken_encode(self, frame, pts):
        raise av.FFmpegError(22, "simulated encoder failure")

    monkeypatch.setattr(writer_module._PyAVEncoder, "encode", broken_encode)
    path = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError, match="simulated encoder failure"):
        with VideoWriter(path, fps=30, size=(64, 48)) as video:
            for i in range(50):
                video.write(grey_frame(i, (64, 48)))
    assert list(tmp_path.iterdir()) == []


def test_closing_without_frames_raises_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="no frames"):
        with VideoWriter(tmp_path / "out.mp4", fps=30, size=(64, 48)):
            pass
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_reported_up_front(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        VideoWriter(tmp_path / "no" / "out.mp4", fps=30, size=(64, 48))


def test_write_after_close_and_bad_frames_are_refused(tmp_path):
    video = VideoWriter(tmp_path / "out.mp4", fps=30, size=(64, 48))
    with pytest.raises(ValueError):
        video.write(np.zeros((48, 64), np.uint8))
    with pytest.raises(ValueError):
        video.write(np.zeros((48, 64, 3), np.float32))
    video.write(grey_frame(0, (64, 48)))
    video.close()
    with pytest.raises(ValueError, match="closed"):
        video.write(grey_frame(1, (64, 48)))


def test_mp4v_codec_via_opencv(tmp_path):
    path = tmp_path / "out.mp4"
    with VideoWriter(path, fps=30, size=(64, 48), codec="mp4v") as video:
        for i in range(8):
            video.write(grey_frame(i, (64, 48)))
    codec, frames = decode_with_pyav(path)
    assert codec == "mpeg4"
    assert len(frames) == 8 == len(decode_with_opencv(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_falls_back_to_mp4v_without_libx264(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(writer_module, "h264_available", lambda: False)
    path = tmp_path / "out.mp4"
    with caplog.at_level(logging.WARNING, logger="formcheck.io.writer"):
        with VideoWriter(path, fps=30, size=(64, 48)) as video:
            for i in range(4):
                video.write(grey_frame(i, (64, 48)))
    assert video.codec == "mp4v"
    assert any("libx264" in record.getMessage() for record in caplog.records)
    assert len(decode_with_opencv(path)) == 4


@pytest.mark.parametrize(
    "width, height, max_side, expected",
    [
        (1920, 1080, 960, (960, 540)),
        (1080, 1920, 960, (540, 960)),
        (608, 1080, 960, (540, 960)),
        (1280, 720, None, (1280, 720)),
        (640, 360, 960, (640, 360)),  # never upscales
        (101, 61, 1000, (101, 61)),  # unchanged: the writer pads odd sides itself
        (1001, 333, 500, (500, 166)),
    ],
)
def test_frame_size_for(width, height, max_side, expected):
    size = frame_size_for(width, height, max_side)
    assert size == expected
    if max_side is not None and max(width, height) > max_side:
        assert size[0] % 2 == 0 and size[1] % 2 == 0
        assert max(size) <= max_side
