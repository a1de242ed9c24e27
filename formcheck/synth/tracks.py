"""Synthetic pose tracks without rendering: the fast path for unit tests.

:func:`synthetic_track` turns a :class:`~formcheck.synth.motion.Motion` into
the :class:`~formcheck.pose.track.PoseTrack` a pose model would have produced:
true landmarks (pose-model convention) plus frame-to-frame jitter, a slow
bias drift, dropped frames, lower visibility on the far side, and trunk edges
measured on the exact silhouette with edge noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from formcheck.pose import landmarks as lm
from formcheck.pose.silhouette import trunk_edges_from_mask
from formcheck.synth.camera import Camera
from formcheck.synth.motion import Motion
from formcheck.synth.render import silhouette_masks
from formcheck.synth.truth import project_landmarks
from formcheck.pose.track import TRUNK_STATIONS, PoseTrack

_PAIRS = [(i, lm.INDEX["right" + name[4:]]) for i, name in enumerate(lm.NAMES) if name.startswith("left_")]
_PAIRS += [(lm.INDEX["mouth_left"], lm.INDEX["mouth_right"])]


@dataclass(frozen=True)
class TrackNoise:
    """How far a synthetic track is from the truth.

    Attributes
    ----------
    jitter_px : tuple of float
        Range of per-landmark white-noise standard deviations (px); near-side
        landmarks draw from the lower half, far-side ones from the upper half.
    drift_px : float
        RMS of a slow per-landmark bias (px), band-limited to ``drift_hz``.
    drift_hz : float
    dropout_rate : float
        Probability per frame that a run of missed detections starts.
    dropout_max_frames : int
        Longest run of missed frames.
    edge_noise_px : float
        Standard deviation of silhouette-edge noise along the normal (px).
    far_visibility : tuple of float
        Range of visibility scores of far-side landmarks (near side: 0.93–1).
    world_noise_m : float
        Standard deviation of world-landmark noise (m); depth gets twice that.
    """

    jitter_px: tuple[float, float] = (0.5, 1.5)
    drift_px: float = 1.5
    drift_hz: float = 0.3
    dropout_rate: float = 0.01
    dropout_max_frames: int = 4
    edge_noise_px: float = 0.3
    far_visibility: tuple[float, float] = (0.45, 0.8)
    world_noise_m: float = 0.005


def synthetic_track(
    motion: Motion,
    camera: Camera,
    noise: TrackNoise | None = TrackNoise(),
    rng: np.random.Generator | int | None = None,
    with_edges: bool = True,
) -> PoseTrack:
    """A BlazePose-format track of ``motion`` as seen by ``camera``, without rendering.

    Parameters
    ----------
    motion : Motion
    camera : Camera
    noise : TrackNoise or None
        None gives the exact truth (no jitter, drift, dropouts or edge noise).
    rng : Generator, int or None
        Random source (or seed).
    with_edges : bool
        Rasterise the silhouette to fill ``trunk_edges`` (≈ 1 ms per frame);
        False leaves them NaN.

    Returns
    -------
    PoseTrack
        ``meta["synthetic"]`` holds the exercise, severities and dropped frames.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    skel = motion.skeleton()
    xy, depth, world = project_landmarks(skel, camera)
    n = len(motion)
    # Far side: whichever landmark of a left/right pair is deeper.
    far = np.zeros((n, lm.NUM_LANDMARKS), bool)
    for a, b in _PAIRS:
        far[:, a] = depth[:, a] > depth[:, b]
        far[:, b] = ~far[:, a]

    visibility = np.where(far, 0.0, 1.0).astype(np.float32)
    presence = np.full((n, lm.NUM_LANDMARKS), 0.995, np.float32)
    xy_noisy, world_noisy = xy.copy(), world.copy()
    dropped = np.zeros(n, bool)
    if noise is None:
        visibility = np.where(far, 0.7, 0.99).astype(np.float32)
    else:
        lo, hi = noise.jitter_px
        mid = 0.5 * (lo + hi)
        sigma = np.where(far, rng.uniform(mid, hi, lm.NUM_LANDMARKS), rng.uniform(lo, mid, lm.NUM_LANDMARKS))
        xy_noisy += rng.standard_normal(xy.shape) * sigma[..., None]
        xy_noisy += _drift(n, motion.fps, noise.drift_hz, noise.drift_px, rng)
        scale = camera.focal_px / depth  # px per metre
        world_noisy += rng.standard_normal(world.shape) * noise.world_noise_m * np.array([1.0, 1.0, 2.0])
        world_noisy[..., :2] += _drift(n, motion.fps, noise.drift_hz, noise.drift_px, rng) / scale[..., None]
        near_vis = rng.uniform(0.93, 1.0, (n, lm.NUM_LANDMARKS))
        far_vis = rng.uniform(*noise.far_visibility, (n, lm.NUM_LANDMARKS))
        visibility = np.where(far, far_vis, near_vis).astype(np.float32)
        dropped = _dropouts(n, noise.dropout_rate, noise.dropout_max_frames, rng)

    hip_depth = 0.5 * (depth[:, lm.LEFT_HIP] + depth[:, lm.RIGHT_HIP])
    z = (depth - hip_depth[:, None]) * camera.focal_px / hip_depth[:, None]

    edges = np.full((n, TRUNK_STATIONS, 2, 2), np.nan, np.float32)
    if with_edges:
        hips = 0.5 * (xy_noisy[:, lm.LEFT_HIP] + xy_noisy[:, lm.RIGHT_HIP])
        shoulders = 0.5 * (xy_noisy[:, lm.LEFT_SHOULDER] + xy_noisy[:, lm.RIGHT_SHOULDER])
        for i, mask in enumerate(silhouette_masks(motion, camera)):
            if not dropped[i]:
                edges[i] = trunk_edges_from_mask(mask, hips[i], shoulders[i])
        if noise is not None and noise.edge_noise_px > 0:
            axis = shoulders - hips
            a = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
            normal = np.stack([-a[:, 1], a[:, 0]], axis=-1)
            offset = rng.standard_normal((n, TRUNK_STATIONS, 2)) * noise.edge_noise_px
            edges += (offset[..., None] * normal[:, None, None, :]).astype(np.float32)

    xy_noisy[dropped] = np.nan
    world_noisy[dropped] = np.nan
    z[dropped] = np.nan
    visibility[dropped] = 0.0
    presence[dropped] = 0.0
    edges[dropped] = np.nan
    meta = {
        "source": "formcheck.synth",
        "synthetic": {
            "exercise": motion.exercise,
            "severities": motion.severities,
            "camera_yaw_deg": camera.yaw_deg,
            "noise": None if noise is None else noise.__dict__ | {"jitter_px": list(noise.jitter_px),
                                                                   "far_visibility": list(noise.far_visibility)},
            "dropped_frames": np.flatnonzero(dropped).tolist(),
        },
    }
    return PoseTrack(time_s=motion.time_s.astype(np.float64), xy=xy_noisy.astype(np.float32),
                     z=z.astype(np.float32), visibility=visibility, presence=presence,
                     world=world_noisy.astype(np.float32), trunk_edges=edges,
                     frame_size=tuple(camera.image_size), meta=meta)


def _drift(n: int, fps: float, hz: float, rms: float, rng: np.random.Generator) -> np.ndarray:
    """Band-limited random bias (n, 33, 2) with the given RMS."""
    if rms <= 0 or n < 16:
        return np.zeros((n, lm.NUM_LANDMARKS, 2))
    white = rng.standard_normal((n, lm.NUM_LANDMARKS, 2))
    sos = butter(2, min(hz / (0.5 * fps), 0.99), output="sos")
    slow = sosfiltfilt(sos, white, axis=0)
    return slow * (rms / max(float(np.std(slow)), 1e-12))


def _dropouts(n: int, rate: float, max_len: int, rng: np.random.Generator) -> np.ndarray:
    """Runs of missed detections; the first frame is always detected."""
    dropped = np.zeros(n, bool)
    starts = np.flatnonzero(rng.random(n) < rate)
    for s in starts:
        if s == 0:
            continue
        dropped[s:s + int(rng.integers(1, max_len + 1))] = True
    return dropped
