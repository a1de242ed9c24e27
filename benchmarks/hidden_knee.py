"""How much of the hip-angle error is the knee behind the plate, and can two-link IK place it?

Usage::

    python benchmarks/hidden_knee.py [--tracks DIR] [--only dl_side,dl_floor]   # ≈ 4 min for all

On the synthetic grid's saved pose tracks (``<grid>/tracks/*.npz`` with their
``*.truth.npz``; default ``/work/cache/grid16p``), every side-view clip of the
deadlift conditions is analysed as ``formcheck analyze`` does, once per
variant of its landmarks, and scored as the grid scores the hip angle
(:func:`formcheck.apps.synth_eval.angle_errors`, ``hip_spine_excluded``: the
landmark hip angle minus the spine's share, against the true thigh-to-pelvis
angle; clips pooled by frames, as ``synthetic_grid.py``'s angle table does):

* ``model``: the pose model's landmarks (what the analyser does);
* ``true knee, coded``: the true knee where the occlusion stage codes the
  knee behind the plate (the ceiling of any fix applied there);
* ``true knee, hidden``: the true knee wherever the renderer hid both knees;
* ``true knee``: the true knee in every frame;
* ``true hip`` / ``true hip+knee``: the same for the hip (every frame);
* ``IK, model ends``: where the knee is coded behind the plate and the hip and
  ankle are in the picture and not behind it, the knee placed by two-link
  inverse kinematics from the model's hip and ankle midpoints, thigh and
  shank lengths the lifter's median over the frames where all three are in
  the picture and not behind the plate, the knee on the side the lifter faces;
* ``IK, fixed ankle``: the same with the ankle held at the median of the
  better-seen side's ankle over its seen frames (the feet are planted), the
  links measured on that side.

A second table says how often a knee the renderer hid is coded behind the
plate, a third how wrong the IK's inputs are (:func:`ik_inputs`), and a
fourth gives the knee's pixel error of the model and of both IK variants in
the frames IK placed.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np

from formcheck.apps import synth_eval as se
from formcheck.apps.analyze import analyze_video
from formcheck.measure.kinematics import facing_direction, midpoint
from formcheck.measure.occlusion import BEHIND_PLATE, SEEN, joint_status, landmark_status
from formcheck.pose import landmarks as lm
from formcheck.pose.filters import smooth_track
from formcheck.pose.track import PoseTrack
from formcheck.synth import SynthTruth

CONDITIONS = ("nominal", "dl_side", "dl_close", "dl_floor", "dl_floor_close", "dl_coach", "rdl_side")
VARIANTS = ("model", "true knee, coded", "true knee, hidden", "true knee", "true hip", "true hip+knee",
            "IK, model ends", "IK, fixed ankle")
KNEES, HIPS = (lm.LEFT_KNEE, lm.RIGHT_KNEE), (lm.LEFT_HIP, lm.RIGHT_HIP)
MIN_FRAMES = 5


def two_link_knee(hip: np.ndarray, ankle: np.ndarray, thigh: float, shank: float, facing: int) -> np.ndarray:
    """Knee of a two-link leg (image pixels, y down) on the side the lifter faces (+1 right, −1 left).

    >>> two_link_knee(np.array([[0.0, 0.0]]), np.array([[0.0, 6.0]]), 5.0, 5.0, +1).tolist()
    [[4.0, 3.0]]
    """
    along = np.asarray(ankle, np.float64) - np.asarray(hip, np.float64)
    d = np.clip(np.linalg.norm(along, axis=-1), abs(thigh - shank) + 1e-9, thigh + shank)
    unit = along / np.linalg.norm(along, axis=-1, keepdims=True)
    a = (thigh**2 - shank**2 + d**2) / (2.0 * d)
    h = np.sqrt(np.clip(thigh**2 - a**2, 0.0, None))
    normal = np.stack([-unit[:, 1], unit[:, 0]], axis=-1)
    normal *= np.where(normal[:, :1] * facing < 0, -1.0, 1.0)
    return hip + a[:, None] * unit + h[:, None] * normal


def _median_length(a: np.ndarray, b: np.ndarray, frames: np.ndarray) -> float:
    length = np.linalg.norm(a - b, axis=-1)[frames]
    length = length[np.isfinite(length)]
    return float(np.median(length)) if len(length) >= MIN_FRAMES else float("nan")


def ik_inputs(track: PoseTrack, truth: SynthTruth) -> dict[str, np.ndarray]:
    """Pixel errors of the IK's inputs where the knee is coded behind the plate, and link-length ratios.

    ``hip``, ``ankle``: the model's midpoints; ``fixed ankle``: the better-seen
    side's ankle held at the median of its seen frames; ``thigh``, ``shank``: the
    lifter's lengths as ``IK, model ends`` measures them over the true median
    length (one value per clip).
    """
    n = min(len(track), len(truth))
    xy, true_xy = track.xy.astype(np.float64)[:n], truth.landmarks_xy.astype(np.float64)[:n]
    status = landmark_status(track.xy, track.visibility, track.frame_size, track.plate[:, :2], track.plate[:, 2])[:n]
    vis = track.visibility[:n]
    code = {j: joint_status(status, vis, j) for j in ("hip", "knee", "ankle")}
    coded = code["knee"] == BEHIND_PLATE
    true = {j: midpoint(true_xy, j) for j in ("hip", "knee", "ankle")}
    model = {j: midpoint(xy, j) for j in ("hip", "knee", "ankle")}
    out = {j: np.linalg.norm(model[j] - true[j], axis=1)[coded] for j in ("hip", "ankle")}
    side = max(lm.PAIRS["ankle"], key=lambda k: int((status[:, k] == SEEN).sum()))
    seen = status[:, side] == SEEN
    out["fixed ankle"] = (np.linalg.norm(np.median(xy[seen, side], axis=0) - true["ankle"], axis=1)[coded]
                          if seen.sum() >= MIN_FRAMES else np.zeros(0))
    calibration = np.all([np.isin(c, (SEEN, 1)) for c in code.values()], axis=0)
    for name, (a, b) in {"thigh": ("hip", "knee"), "shank": ("knee", "ankle")}.items():
        measured = _median_length(model[a], model[b], calibration)
        out[name] = np.array([measured / np.median(np.linalg.norm(true[a] - true[b], axis=1))])
    return out


def ik_knee(track: PoseTrack, fixed_ankle: bool) -> tuple[np.ndarray, np.ndarray]:
    """The IK knee (n, 2) and the frames it was placed in (see the module docstring)."""
    xy = track.xy.astype(np.float64)
    status = landmark_status(track.xy, track.visibility, track.frame_size, track.plate[:, :2], track.plate[:, 2])
    code = {j: joint_status(status, track.visibility, j) for j in ("hip", "knee", "ankle")}
    in_view = {j: np.isin(c, (SEEN, 1)) for j, c in code.items()}  # in the picture, not behind the plate
    hip, knee, ankle = (midpoint(xy, j) for j in ("hip", "knee", "ankle"))
    if fixed_ankle:
        side = {j: max(lm.PAIRS[j], key=lambda k: int((status[:, k] == SEEN).sum())) for j in ("knee", "ankle")}
        knee, ankle = xy[:, side["knee"]], xy[:, side["ankle"]]
        seen_ankle = status[:, side["ankle"]] == SEEN
        if seen_ankle.sum() < MIN_FRAMES:
            return midpoint(xy, "knee"), np.zeros(len(track), bool)
        ankle = np.tile(np.median(ankle[seen_ankle], axis=0), (len(track), 1))
        seen_knee = status[:, side["knee"]] == SEEN
        thigh = _median_length(hip, knee, seen_knee & (code["hip"] == SEEN))
        shank = _median_length(knee, ankle, seen_knee)
        placed = (code["knee"] == BEHIND_PLATE) & (code["hip"] == SEEN)
    else:
        calibration = in_view["hip"] & in_view["knee"] & in_view["ankle"]
        thigh, shank = _median_length(hip, knee, calibration), _median_length(knee, ankle, calibration)
        placed = (code["knee"] == BEHIND_PLATE) & in_view["hip"] & in_view["ankle"]
    facing = facing_direction(track)
    out = midpoint(xy, "knee")
    if not (np.isfinite(thigh) and np.isfinite(shank)) or facing == 0:
        return out, np.zeros(len(track), bool)
    placed &= np.isfinite(hip).all(axis=1) & np.isfinite(ankle).all(axis=1)
    out[placed] = two_link_knee(hip[placed], ankle[placed], thigh, shank, facing)
    return out, placed


def variant_track(track: PoseTrack, truth: SynthTruth, variant: str) -> tuple[PoseTrack, np.ndarray]:
    """The track with the variant's landmarks swapped in, and the frames changed."""
    n = min(len(track), len(truth))
    xy = track.xy.astype(np.float64).copy()
    true_xy = truth.landmarks_xy.astype(np.float64)
    changed = np.zeros(len(track), bool)
    if variant.startswith("IK"):
        knee, changed = ik_knee(smooth_track(track), fixed_ankle="fixed" in variant)
        for k in KNEES:
            xy[changed, k] = knee[changed]
    elif variant != "model":
        if variant == "true knee, coded":
            status = landmark_status(track.xy, track.visibility, track.frame_size, track.plate[:, :2], track.plate[:, 2])
            changed[:n] = joint_status(status, track.visibility, "knee")[:n] == BEHIND_PLATE
        elif variant == "true knee, hidden":
            changed[:n] = truth.landmark_hidden[:n][:, list(KNEES)].all(axis=1)
        else:
            changed[:n] = True
        joints = (KNEES if "knee" in variant else ()) + (HIPS if "hip" in variant else ())
        for k in joints:
            xy[:n][changed[:n], k] = true_xy[:n][changed[:n], k]
    return track.with_landmarks(xy), changed


def hip_rmse(track: PoseTrack, truth: SynthTruth, scratch: Path) -> float:
    """``hip_spine_excluded`` RMSE of one analysed track (as the grid scores it)."""
    path = scratch / "track.npz"
    track.save(path)
    report = analyze_video(path)
    rmse, _ = se.angle_errors(se.aligned_frames(report, truth), truth)
    return rmse["hip_spine_excluded"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=Path, default=Path("/work/cache/grid16p/tracks"))
    parser.add_argument("--only", default=",".join(CONDITIONS), help="comma-separated grid conditions")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", RuntimeWarning)
    conditions = args.only.split(",")
    pooled = {c: {v: [0.0, 0] for v in VARIANTS} for c in conditions}
    coverage = {c: np.zeros(4, int) for c in conditions}  # hidden, hidden coded, seen, seen coded
    knee_px = {c: {v: [] for v in ("model", "IK, model ends", "IK, fixed ankle")} for c in conditions}
    inputs = {c: {} for c in conditions}
    with tempfile.TemporaryDirectory() as tmp:
        for condition in conditions:
            for path in sorted(args.tracks.glob(f"{condition}-*.npz")):
                if path.name.endswith(".truth.npz"):
                    continue
                track, truth = PoseTrack.load(path), SynthTruth.load(path.with_name(path.stem + ".truth.npz"))
                if truth.meta.get("spec", {}).get("camera_yaw_deg", 0.0) != 0.0:
                    continue
                n = min(len(track), len(truth))
                for variant in VARIANTS:
                    moved, changed = variant_track(track, truth, variant)
                    rmse = hip_rmse(moved, truth, Path(tmp))
                    if np.isfinite(rmse):
                        pooled[condition][variant][0] += rmse**2 * len(truth)
                        pooled[condition][variant][1] += len(truth)
                    if variant.startswith("IK") and changed[:n].any():
                        true_knee = midpoint(truth.landmarks_xy.astype(np.float64), "knee")[:n]
                        model_knee = midpoint(smooth_track(track).xy.astype(np.float64), "knee")[:n]
                        placed_knee = midpoint(smooth_track(moved).xy.astype(np.float64), "knee")[:n]
                        sel = changed[:n]
                        knee_px[condition][variant].append(np.linalg.norm(placed_knee[sel] - true_knee[sel], axis=1))
                        if variant == "IK, model ends":
                            knee_px[condition]["model"].append(np.linalg.norm(model_knee[sel] - true_knee[sel], axis=1))
                status = landmark_status(track.xy, track.visibility, track.frame_size, track.plate[:, :2], track.plate[:, 2])
                coded = joint_status(status, track.visibility, "knee")[:n] == BEHIND_PLATE
                hidden = truth.landmark_hidden[:n][:, list(KNEES)].all(axis=1)
                for key, values in ik_inputs(smooth_track(track), truth).items():
                    inputs[condition].setdefault(key, []).append(values)
                coverage[condition] += [hidden.sum(), (hidden & coded).sum(), (~hidden).sum(), (~hidden & coded).sum()]

    def rms(parts):
        v = np.concatenate(parts) if parts else np.zeros(0)
        return float(np.sqrt(np.nanmean(v**2))) if np.isfinite(v).any() else float("nan")

    rows = [[c] + [float(np.sqrt(s / w)) if w else float("nan") for s, w in pooled[c].values()] for c in conditions]
    print("hip angle (spine excluded) RMSE, degrees, side-view clips pooled by frames")
    print(se.format_table(rows, ["condition", *VARIANTS]))
    print("\nknee behind the plate: frames the renderer hid (both knees) and how many are coded BEHIND_PLATE")
    print(se.format_table([[c, int(h), f"{hc / max(h, 1):.0%}", int(s), f"{sc / max(s, 1):.0%}"]
                           for c, (h, hc, s, sc) in coverage.items()],
                          ["condition", "hidden", "coded", "not hidden", "coded"]))
    print("\nIK inputs where the knee is coded behind the plate: px RMS error; lengths: range of measured/true over clips")

    def ratio_range(parts):
        v = np.concatenate(parts) if parts else np.zeros(0)
        v = v[np.isfinite(v)]
        return f"{v.min():.2f}–{v.max():.2f}" if len(v) else "-"
    print(se.format_table([[c, rms(v.get("hip", [])), rms(v.get("ankle", [])), rms(v.get("fixed ankle", [])),
                            ratio_range(v.get("thigh", [])), ratio_range(v.get("shank", []))]
                           for c, v in inputs.items()],
                          ["condition", "hip", "ankle", "fixed ankle", "thigh length", "shank length"]))
    print("\nknee error (px RMS) where IK placed it (model: the frames IK with the model's ends placed)")
    print(se.format_table([[c, rms(v["model"]), rms(v["IK, model ends"]), rms(v["IK, fixed ankle"])]
                           for c, v in knee_px.items()], ["condition", "model", "IK, model ends", "IK, fixed ankle"]))


if __name__ == "__main__":
    main()
