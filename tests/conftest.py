"""Shared test fixtures: a planar stick-figure lifter and the location of ../shared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from formcheck.pose import landmarks as lm
from formcheck.pose.track import TRUNK_STATIONS, PoseTrack

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CLIPS = SHARED / "clips"

_skip_without_clips = pytest.mark.skipif(
    not (CLIPS / "LABELS.csv").is_file(),
    reason=f"real clips not found at {CLIPS} (they sit beside the repository in CI, not in a fresh clone)",
)
#: For a module's ``pytestmark``: reads the real clips, skips where they are absent.
NEEDS_SHARED = [pytest.mark.clips, _skip_without_clips]


def needs_shared(test):
    """Decorator: the test reads the real clips in ../shared (skips where they are absent)."""
    return pytest.mark.clips(_skip_without_clips(test))


# ---------------------------------------------------------------- test tiers
#: Markers that put a test in the slow tier (left out by ``-m "not slow"``).
SLOW_MARKERS = ("pose_model", "clips", "dask", "browser", "display")
#: Fixtures that run the pose model, read the real clips or open a window:
#: a test using one carries its marker without repeating it.
FIXTURE_MARKERS = {
    "squat_clip": "pose_model", "offline": "pose_model",          # test_live: a rendered set, posed
    "clients": "pose_model", "local_run": "pose_model",           # test_batch: a batch of rendered clips
    "side_pair": "pose_model", "arch_pair": "pose_model",         # rendered lifters through analyze
    "real_spines": "clips", "real_track": "clips", "track_cache": "clips",
    "xvfb_display": "display",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(getattr(pytest.mark, marker))
        if any(item.get_closest_marker(name) for name in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)

SHANK, THIGH, TRUNK, ARM = 0.45, 0.45, 0.55, 0.6  # metres


def stick_pose(knee_flexion, hip_flexion, facing=1, ankle=(0.0, 0.0), arms_down=True):
    """Joint positions (metres, x toward ``facing``, y up) of a planar side-view lifter.

    The shin leans forward by 0.3 × the knee flexion (at most 35°), the thigh
    follows, and the trunk leans by whatever hip flexion is left.
    """
    shin_angle = np.radians(min(0.3 * knee_flexion, 35.0))
    knee = np.array(ankle) + SHANK * np.array([np.sin(shin_angle), np.cos(shin_angle)])
    thigh_back = np.radians(knee_flexion) - shin_angle  # knee→hip tilt back from vertical
    hip = knee + THIGH * np.array([-np.sin(thigh_back), np.cos(thigh_back)])
    trunk_angle = np.radians(hip_flexion) - thigh_back  # forward lean from vertical
    shoulder = hip + TRUNK * np.array([np.sin(trunk_angle), np.cos(trunk_angle)])
    wrist = shoulder - np.array([0.0, ARM]) if arms_down else shoulder + np.array([0.1, 0.05])
    head = shoulder + 0.25 * np.array([np.sin(trunk_angle), np.cos(trunk_angle)])
    points = {"ankle": np.array(ankle), "knee": knee, "hip": hip, "shoulder": shoulder, "wrist": wrist, "head": head}
    return {k: v * np.array([facing, 1.0]) for k, v in points.items()}


def stick_track(knee_flexion, hip_flexion, fps=30.0, facing=1, px_per_m=300.0, arms_down=True, view="side"):
    """A PoseTrack of the stick figure (image px, 640×480, and world metres).

    ``view="front"`` spreads left and right landmarks apart the way a camera
    facing the lifter would see them.
    """
    n = len(knee_flexion)
    xy = np.zeros((n, 33, 2), np.float32)
    world = np.zeros((n, 33, 3), np.float32)
    origin = np.array([320.0, 440.0])
    half_width = {"side": 0.02, "front": 0.18}[view]
    for i in range(n):
        p = stick_pose(knee_flexion[i], hip_flexion[i], facing, arms_down=arms_down)
        toe = p["ankle"] + np.array([0.2 * facing, -0.05])
        heel = p["ankle"] + np.array([-0.06 * facing, -0.05])
        named = {
            "ankle": p["ankle"], "knee": p["knee"], "hip": p["hip"], "shoulder": p["shoulder"],
            "wrist": p["wrist"], "elbow": 0.5 * (p["shoulder"] + p["wrist"]), "heel": heel,
            "foot_index": toe, "ear": p["head"], "eye": p["head"] + np.array([0.08 * facing, 0.02]),
        }
        for name, (left, right) in lm.PAIRS.items():
            if name not in named:
                continue
            for index, side in ((left, -1), (right, 1)):
                q = named[name]
                xy[i, index] = origin + px_per_m * np.array([q[0] + (side * half_width if view == "front" else 0), -q[1]])
                depth = side * half_width if view == "side" else 0.0
                world[i, index] = [q[0] + (side * half_width if view == "front" else 0), -q[1], depth]
        for index in (lm.NOSE, 1, 2, 3, 4, 5, 6, 9, 10, 17, 18, 19, 20, 21, 22):
            q = named["eye"] if index != lm.NOSE else named["ear"] + np.array([0.1 * facing, 0.0])
            if index >= 17:
                q = named["wrist"]
            xy[i, index] = origin + px_per_m * np.array([q[0], -q[1]])
            world[i, index] = [q[0], -q[1], 0.0]
    if view == "front":  # a camera facing the lifter sees the lifter's left on the image right
        left = [i for i, name in enumerate(lm.NAMES) if name.startswith("left")]
        right = [i for i, name in enumerate(lm.NAMES) if name.startswith("right")]
        xy[:, left + right] = xy[:, right + left]
    world -= world[:, [lm.LEFT_HIP, lm.RIGHT_HIP]].mean(axis=1, keepdims=True)
    time_s = np.arange(n) / fps
    return PoseTrack(
        time_s=time_s,
        xy=xy,
        z=np.zeros((n, 33), np.float32),
        visibility=np.full((n, 33), 0.99, np.float32),
        presence=np.full((n, 33), 0.99, np.float32),
        world=world,
        trunk_edges=np.full((n, TRUNK_STATIONS, 2, 2), np.nan, np.float32),
        frame_size=(640, 480),
        meta={"source": "stick figure"},
    )


def cycle(n_frames, reps, low, high, stand_frames=30, pause_frames=0):
    """Values that stand at ``low``, then do ``reps`` smooth low→high→low cycles."""
    one = low + (high - low) * 0.5 * (1 - np.cos(np.linspace(0, 2 * np.pi, n_frames)))
    if pause_frames:  # pause at the bottom
        mid = n_frames // 2
        one = np.concatenate([one[:mid], np.full(pause_frames, high), one[mid:]])
    pieces = [np.full(stand_frames, low)] + [one] * reps + [np.full(stand_frames, low)]
    return np.concatenate(pieces)


@pytest.fixture
def squat_track():
    """Three bodyweight squats to below parallel, arms forward, 30 fps."""
    knee = cycle(60, 3, 5, 140)
    hip = cycle(60, 3, 5, 110)
    return stick_track(knee, hip, arms_down=False)


@pytest.fixture
def deadlift_track():
    """Stand, set up at the floor, then two pulls to lockout and back down."""
    knee = np.concatenate([np.full(20, 5.0), np.linspace(5, 70, 30), np.full(20, 70.0), cycle(70, 2, 70, 5, stand_frames=0)])
    hip = np.concatenate([np.full(20, 5.0), np.linspace(5, 110, 30), np.full(20, 110.0), cycle(70, 2, 110, 5, stand_frames=0)])
    return stick_track(knee, hip, arms_down=True)


# ---------------------------------------------------------------- drawing tests
#: Background grey of a blank scene: any pixel that differs was drawn.
GREY = 90


def blank(width: int = 200, height: int = 200) -> np.ndarray:
    """A grey BGR scene to draw on."""
    return np.full((height, width, 3), GREY, np.uint8)


def changed(scene: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels that differ from the blank background."""
    return np.any(scene != GREY, axis=2)
