"""Tests for formcheck.io.video (decoding, timestamps, rotation, bad input, prefetch) and
formcheck.io.camera (live sources)."""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from formcheck.errors import InputError
from formcheck.io.camera import CameraSource, PacedFileSource, open_camera
from formcheck.io.video import FrameTimes, prefetch, probe, read_frames

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SIDE_SQUAT = SHARED / "clips" / "squat" / "gym_back_squat_side_reps.mp4"


# ---------------------------------------------------------------------------- test videos
def grey_level(index: int) -> int:
    """Grey level of frame ``index`` in the generated videos: 7 apart for up to 32 frames,
    far enough that H.264 keeps them distinct."""
    return 16 + 7 * (index % 32)


def make_video(
    path: Path,
    n_frames: int = 12,
    size: tuple[int, int] = (64, 48),
    times_ms: list[int] | None = None,
    rotation_ccw: float | None = None,
    marker: bool = False,
) -> Path:
    """Write an H.264 MP4 whose frame i is flat grey ``grey_level(i)``.

    ``times_ms`` gives explicit presentation times (variable frame rate);
    ``rotation_ccw`` writes a display matrix; ``marker`` paints the top-left
    quarter red so orientation can be checked.
    """
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30, options={"crf": "12"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if times_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation_ccw is not None:
            stream.set_display_rotation(rotation_ccw)
        for i in range(n_frames if times_ms is None else len(times_ms)):
            image = np.full((height, width, 3), grey_level(i), np.uint8)
            if marker:
                image[: height // 2, : width // 2] = (0, 0, 255)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            if times_ms is not None:
                frame.pts, frame.time_base = times_ms[i], Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def frame_level(frame: np.ndarray) -> float:
    return float(np.median(frame))


def nearest_index(level: float, n: int) -> int:
    return int(np.argmin([abs(level - grey_level(i)) for i in range(n)]))


# ---------------------------------------------------------------------------- probe / read_frames
def test_probe_describes_a_constant_rate_video(tmp_path):
    path = make_video(tmp_path / "cfr.mp4", n_frames=15, size=(80, 48))
    info = probe(path)
    assert (info.width, info.height, info.rotation_deg) == (80, 48, 0)
    assert info.codec == "h264"
    assert info.fps == pytest.approx(30.0)
    assert info.frame_count == 15
    assert info.duration_s == pytest.approx(0.5, abs=0.05)
    assert info.truncated is False
    assert info.path == str(path)


def test_read_frames_yields_every_frame_in_order_as_contiguous_bgr(tmp_path):
    n = 12
    path = make_video(tmp_path / "cfr.mp4", n_frames=n)
    frames = list(read_frames(path))
    assert len(frames) == n
    times = [t for t, _ in frames]
    assert times == pytest.approx([i / 30 for i in range(n)], abs=1e-6)
    for i, (_, image) in enumerate(frames):
        assert image.shape == (48, 64, 3) and image.dtype == np.uint8
        assert image.flags["C_CONTIGUOUS"] and image.flags["WRITEABLE"]
        assert abs(frame_level(image) - grey_level(i)) <= 6


def test_times_follow_variable_frame_rate_timestamps(tmp_path):
    times_ms = [0, 33, 50, 120, 130, 400, 433, 1000]
    path = make_video(tmp_path / "vfr.mp4", times_ms=times_ms)
    frames = list(read_frames(path))
    assert [t for t, _ in frames] == pytest.approx([ms / 1000 for ms in times_ms], abs=1e-6)
    # The content belongs to the timestamp (no reordering or duplication).
    assert [nearest_index(frame_level(f), len(times_ms)) for _, f in frames] == list(range(len(times_ms)))


def test_max_side_downscales_and_never_upscales(tmp_path):
    path = make_video(tmp_path / "v.mp4", n_frames=2, size=(160, 120))
    _, small = next(iter(read_frames(path, max_side=80)))
    assert small.shape == (60, 80, 3)
    _, same = next(iter(read_frames(path, max_side=1000)))
    assert same.shape == (120, 160, 3)
    with pytest.raises(ValueError):
        read_frames(path, max_side=0)


# ---------------------------------------------------------------------------- rotation
@pytest.mark.parametrize(
    "rotation_ccw, rotation_deg, marker_corner",
    [
        # A phone held upright records landscape pixels and a 90° clockwise turn.
        (-90, 90, "top-right"),
        (90, 270, "bottom-left"),
        (180, 180, "bottom-right"),
        (0, 0, "top-left"),
    ],
)
def test_rotation_from_display_matrix_is_applied(tmp_path, rotation_ccw, rotation_deg, marker_corner):
    path = make_video(tmp_path / "rot.mp4", n_frames=3, size=(64, 32), rotation_ccw=rotation_ccw, marker=True)
    info = probe(path)
    assert info.rotation_deg == rotation_deg
    upright = (32, 64) if rotation_deg in (90, 270) else (64, 32)
    assert (info.width, info.height) == upright

    _, frame = next(iter(read_frames(path)))
    assert frame.shape[:2] == (upright[1], upright[0])
    red = (frame[..., 2] > 180) & (frame[..., 0] < 80)
    rows, cols = np.nonzero(red)
    h, w = frame.shape[:2]
    corner = ("top" if rows.mean() < h / 2 else "bottom") + "-" + ("left" if cols.mean() < w / 2 else "right")
    assert corner == marker_corner

    # OpenCV rotates on its own (CAP_PROP_ORIENTATION_AUTO): an independent check.
    capture = cv2.VideoCapture(str(path))
    ok, cv_frame = capture.read()
    assert ok
    assert capture.get(cv2.CAP_PROP_ORIENTATION_META) == rotation_deg
    capture.release()
    assert cv_frame.shape == frame.shape
    assert np.abs(cv_frame.astype(int) - frame.astype(int)).mean() < 1.0


def test_rotation_and_downscale_together(tmp_path):
    path = make_video(tmp_path / "rot.mp4", n_frames=2, size=(160, 80), rotation_ccw=-90)
    _, frame = next(iter(read_frames(path, max_side=40)))
    assert frame.shape == (40, 20, 3)


# ---------------------------------------------------------------------------- timestamps
def test_frame_times_drop_duplicates_and_fill_missing_timestamps():
    times = FrameTimes(Fraction(1, 1000), start_pts=0, fps=25.0)
    results = [times.next_time(pts) for pts in [0, 40, 40, None, 70, 120, 119, None]]
    assert results == pytest.approx([0.0, 0.04, None, 0.08, None, 0.12, None, 0.16])
    assert times.dropped == 3


def test_frame_times_count_from_stream_start():
    times = FrameTimes(Fraction(1, 15360), start_pts=1024, fps=30.0)
    assert times.next_time(1024) == 0.0
    assert times.next_time(1536) == pytest.approx(512 / 15360)


# ---------------------------------------------------------------------------- bad input
def _assert_one_line_input_error(path, *needles):
    with pytest.raises(InputError) as caught:
        probe(path)
    message = str(caught.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message
    # No PyAV exception chained underneath (no traceback leaks to the user).
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__
    return message


def test_missing_file(tmp_path):
    _assert_one_line_input_error(tmp_path / "nope.mp4", "nope.mp4", "does not exist")


def test_directory(tmp_path):
    _assert_one_line_input_error(tmp_path, "directory")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    _assert_one_line_input_error(path, "empty.mp4", "empty")


def test_text_file_renamed_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("squat 3x5 @ 100 kg\n" * 50)
    _assert_one_line_input_error(path, "notes.mp4", "not a readable video")


def test_png_renamed_mp4(tmp_path):
    path = tmp_path / "photo.mp4"
    ok, png = cv2.imencode(".png", np.zeros((20, 30, 3), np.uint8))
    path.write_bytes(png.tobytes())
    _assert_one_line_input_error(path, "photo.mp4", "image")


def test_file_without_video_stream(tmp_path):
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        for i in range(5):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, i * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    _assert_one_line_input_error(path, "no video stream")


def test_truncated_file_without_index_is_an_input_error(tmp_path):
    # Default MP4: the index ('moov') is at the end, so the first half has none.
    whole = make_video(tmp_path / "whole.mp4", n_frames=60, size=(96, 64)).read_bytes()
    assert whole.find(b"moov") > len(whole) // 2
    half = tmp_path / "half.mp4"
    half.write_bytes(whole[: len(whole) // 2])
    _assert_one_line_input_error(half, "half.mp4")


def make_noise_video(path: Path, n_frames: int) -> Path:
    """An MP4 with its index first ('faststart') and noisy frames of similar size,
    so cutting it at a fraction of its bytes keeps about that fraction of frames."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for _ in range(n_frames):
            image = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return path


def test_truncated_file_yields_what_it_has_then_reports(tmp_path):
    path = make_noise_video(tmp_path / "noisy.mp4", 60)
    whole = path.read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(whole[: len(whole) // 2])

    assert probe(half).truncated is True
    warnings: list[str] = []
    reader = read_frames(half, on_warning=warnings.append)
    frames = list(reader)
    assert 5 < len(frames) < 60
    assert reader.truncated is True
    assert len(warnings) == 1 and "half.mp4" in warnings[0] and "truncated" in warnings[0]
    assert probe(path).truncated is False


def test_truncation_is_logged_without_a_callback(tmp_path, caplog):
    path = make_noise_video(tmp_path / "v.mp4", 40)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.7)])
    with caplog.at_level("WARNING", logger="formcheck.io.video"):
        frames = list(read_frames(cut))
    assert len(frames) < 40
    assert any("truncated" in record.getMessage() for record in caplog.records)


def test_garbage_in_the_middle_is_skipped_and_reported(tmp_path):
    path = make_noise_video(tmp_path / "v.mp4", 40)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = np.random.default_rng(1).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    warnings: list[str] = []
    reader = read_frames(path, on_warning=warnings.append)
    frames = list(reader)
    # This damage makes the decoder reject one packet; the rest of the video survives.
    assert reader.damaged_packets >= 1
    assert len(frames) >= 40 - reader.damaged_packets
    assert reader.truncated is False
    assert any("damaged" in message for message in warnings)


def test_reader_closes_the_file(tmp_path):
    path = make_video(tmp_path / "v.mp4", n_frames=5)
    reader = read_frames(path)
    next(reader)
    reader.close()
    with pytest.raises(StopIteration):
        next(reader)


# ---------------------------------------------------------------------------- prefetch
def test_prefetch_keeps_order():
    assert list(prefetch(iter(range(100)), maxsize=3)) == list(range(100))


def test_prefetch_passes_exceptions_to_the_consumer():
    def failing():
        yield from range(3)
        raise RuntimeError("decoder exploded")

    received = []
    with pytest.raises(RuntimeError, match="decoder exploded"):
        for item in prefetch(failing()):
            received.append(item)
    assert received == [0, 1, 2]


def test_prefetch_stops_its_thread_when_the_consumer_stops_early():
    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    items = prefetch(endless(), maxsize=2)
    assert [next(items), next(items)] == [0, 1]
    items.close()
    assert closed.wait(2.0)
    assert not any(t.name == "formcheck-prefetch" and t.is_alive() for t in threading.enumerate())


def test_prefetch_overlaps_producer_and_consumer():
    n, work_s = 20, 0.011

    def slow_source():
        for i in range(n):
            time.sleep(work_s)
            yield i

    started = time.perf_counter()
    for _ in prefetch(slow_source()):
        time.sleep(work_s)
    elapsed = time.perf_counter() - started
    sequential = 2 * n * work_s
    assert elapsed < 0.75 * sequential


def test_prefetch_of_a_frame_reader(tmp_path):
    path = make_video(tmp_path / "v.mp4", n_frames=10)
    reader = read_frames(path)
    frames = list(prefetch(reader))
    assert len(frames) == 10
    assert [nearest_index(frame_level(f), 10) for _, f in frames] == list(range(10))


# ---------------------------------------------------------------------------- live sources
def test_open_camera_without_a_camera():
    with pytest.raises(InputError, match="no camera at index 57"):
        open_camera(57)


def test_camera_source_keeps_only_the_newest_frame(tmp_path):
    # cv2.VideoCapture also opens files: a camera that delivers as fast as it decodes.
    n = 30
    path = make_video(tmp_path / "v.mp4", n_frames=n)
    with CameraSource(str(path)) as camera:
        levels = []
        while (item := camera.read_latest(timeout=2.0)) is not None:
            capture_time, frame = item
            assert capture_time <= time.monotonic()
            levels.append(nearest_index(frame_level(frame), n))
            time.sleep(0.02)  # slower than decoding
        assert camera.ended
        assert camera.captured == n
        assert camera.dropped > 0
        assert camera.captured == camera.dropped + len(levels)
    assert levels == sorted(set(levels))  # only ever newer frames
    assert levels[-1] == n - 1  # the last frame is never dropped


def test_paced_file_source_plays_in_real_time(tmp_path):
    n = 15
    path = make_video(tmp_path / "v.mp4", n_frames=n)
    started = time.monotonic()
    capture_times = []
    with PacedFileSource(path) as source:
        while (item := source.read_latest(timeout=2.0)) is not None:
            capture_times.append(item[0])
    elapsed = time.monotonic() - started
    assert elapsed >= 0.9 * (n - 1) / 30
    assert len(capture_times) >= n - 2  # a fast consumer sees (nearly) every frame
    assert np.median(np.diff(capture_times)) == pytest.approx(1 / 30, abs=0.01)


def test_paced_file_source_drops_frames_for_a_slow_consumer(tmp_path):
    n = 20
    path = make_video(tmp_path / "v.mp4", n_frames=n)
    with PacedFileSource(path, realtime=True) as source:
        levels = []
        while (item := source.read_latest(timeout=2.0)) is not None:
            levels.append(nearest_index(frame_level(item[1]), n))
            time.sleep(0.1)
        assert source.dropped > 0
    assert levels == sorted(set(levels))


def test_paced_file_source_in_lockstep_drops_nothing(tmp_path):
    n = 10
    path = make_video(tmp_path / "v.mp4", n_frames=n)
    with PacedFileSource(path, realtime=False) as source:
        levels = []
        while (item := source.read_latest(timeout=2.0)) is not None:
            levels.append(nearest_index(frame_level(item[1]), n))
            time.sleep(0.02)
        assert source.dropped == 0
    assert levels == list(range(n))


def test_live_source_close_stops_promptly(tmp_path):
    path = make_video(tmp_path / "v.mp4", n_frames=60)
    source = PacedFileSource(path)
    assert source.read_latest(timeout=2.0) is not None
    started = time.monotonic()
    source.close()
    assert time.monotonic() - started < 0.5
    assert not source._thread.is_alive()


def test_paced_file_source_reports_bad_input(tmp_path):
    with pytest.raises(InputError):
        PacedFileSource(tmp_path / "missing.mp4")


# ---------------------------------------------------------------------------- a real clip
@pytest.mark.clips
@pytest.mark.skipif(not SIDE_SQUAT.exists(), reason=f"shared clips not found at {SIDE_SQUAT}")
def test_real_phone_clip_matches_opencv():
    info = probe(SIDE_SQUAT)
    # Stored upright (608x1080) with no display matrix.
    assert (info.width, info.height, info.rotation_deg) == (608, 1080, 0)
    assert info.codec == "h264"
    assert info.fps == pytest.approx(30000 / 1001)
    assert info.frame_count == 614
    assert info.truncated is False

    capture = cv2.VideoCapture(str(SIDE_SQUAT))
    reader = read_frames(SIDE_SQUAT)
    times = []
    for _, (time_s, frame) in zip(range(20), reader):
        ok, expected = capture.read()
        assert ok and frame.shape == expected.shape == (1080, 608, 3)
        assert np.abs(frame.astype(int) - expected.astype(int)).mean() < 0.5
        times.append(time_s)
    reader.close()
    capture.release()
    assert times[0] == 0.0
    assert np.diff(times) == pytest.approx(1001 / 30000, abs=1e-4)

    _, small = next(iter(read_frames(SIDE_SQUAT, max_side=640)))
    assert small.shape == (640, 360, 3)


def test_frames_at_returns_only_the_wanted_frames(tmp_path):
    path = tmp_path / "indexed.mp4"
    grey_levels = [int(i * 8) for i in range(30)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for level in grey_levels:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), level, np.uint8), format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with read_frames(path) as reader:
        got = list(reader.frames_at({3, 17, 5}))
    assert [index for index, _, _ in got] == [3, 5, 17]
    for index, time_s, frame in got:
        assert time_s == pytest.approx(index / 30, abs=1e-3)
        assert abs(float(frame.mean()) - grey_levels[index]) < 6
