"""Evaluate the silhouette hip on the rendered subset (and its stability on real clips).

Usage:
    python benchmarks/hip_registration/evaluate.py synth [--plots]
    python benchmarks/hip_registration/evaluate.py real  [--plots]
"""
from __future__ import annotations

import dataclasses
import tempfile
import os
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import hipreg  # noqa: E402
from formcheck import landmarks as lm  # noqa: E402
from formcheck import spine  # noqa: E402
from formcheck.filters import smooth_track  # noqa: E402
from formcheck.kinematics import compute_kinematics, midpoint  # noqa: E402
from formcheck.silhouette import trunk_edges_from_mask  # noqa: E402
from formcheck.synth import SynthTruth  # noqa: E402
from formcheck.track import PoseTrack  # noqa: E402
from spine_error_sources import kink_on_axis  # noqa: E402

DATA = Path(tempfile.gettempdir()) / "formcheck-hipres" / "data"
PLOTS = Path(tempfile.gettempdir()) / "formcheck-hipres" / "plots"
LOADED = 25.0
STAND_LEAN = 15.0


def knee_mid(xy):
    return midpoint(xy, "knee")


def silhouette_hip(track: PoseTrack, masks: np.ndarray, kin, dorsal: int, rot_gain: float = 0.7, ref_hip_override=None):
    """Per-frame hip estimate (n, 2) by registering the pelvis outline to the standing reference."""
    xy = track.xy.astype(np.float64)
    hip, shoulder, knee = midpoint(xy, "hip"), midpoint(xy, "shoulder"), knee_mid(xy)
    n = len(track)
    lean = np.asarray(kin["trunk_inclination"], np.float64)
    outlines = [hipreg.dorsal_outline(masks[i], hip[i], shoulder[i], knee[i], dorsal) for i in range(n)]
    standing = np.nonzero((np.abs(lean) < STAND_LEAN) & np.array([o is not None for o in outlines]))[0]
    info = {"n_standing": len(standing)}
    out = np.full((n, 2), np.nan)
    diag = np.full((n, 2), np.nan)  # rotation (deg), rms (px)
    if len(standing) < 3:
        return out, diag, outlines, info
    # Reference: the first standing stretch (setup before the bar is lifted: no load at the hips).
    first = standing[: max(3, min(15, len(standing)))]
    first = first[first - first[0] < 30]
    refs = []
    for i in first[:: max(1, len(first) // 5)][:5]:
        tmpl = hipreg.make_template(outlines[i], hip[i], shoulder[i], dorsal)
        ang = np.arctan2(*(shoulder[i] - hip[i])[::-1])
        rh = hip[i].copy() if ref_hip_override is None else ref_hip_override[i].copy()
        refs.append((tmpl, rh, ang))
    info["ref_frames"] = [int(i) for i in first[:: max(1, len(first) // 5)][:5]]
    for i in range(n):
        o = outlines[i]
        if o is None:
            continue
        T = float(np.hypot(*(shoulder[i] - hip[i])))
        ang = np.arctan2(*(shoulder[i] - hip[i])[::-1])
        ests, rots, errs = [], [], []
        for tmpl, ref_hip, ref_ang in refs:
            theta0 = rot_gain * _wrap(ang - ref_ang)
            est, r, e = hipreg.register(tmpl, ref_hip, o, hip[i], theta0, T)
            ests.append(est)
            rots.append(r)
            errs.append(e)
        ests = np.array(ests)
        if np.all(np.isfinite(ests)):
            out[i] = np.median(ests, axis=0)
            diag[i] = (np.degrees(np.median(rots)), np.median(errs))
    return out, diag, outlines, info


def thigh_hip(track, masks):
    """Model hip projected onto the thigh's midline from the mask (removes the error across the thigh)."""
    xy = track.xy.astype(np.float64)
    hip, knee = midpoint(xy, "hip"), midpoint(xy, "knee")
    out = np.full((len(track), 2), np.nan)
    for i in range(len(track)):
        if not (np.all(np.isfinite(hip[i])) and np.all(np.isfinite(knee[i]))):
            continue
        line = hipreg.thigh_midline(masks[i], hip[i], knee[i])
        if line is not None:
            out[i] = hipreg.project_on_line(hip[i], *line)
    return out


def consensus(est, diag, track, kin, which):
    """Re-anchor the carried hip on the model's hip averaged in pelvis coordinates over many frames.

    est_i = R_i ref + t_i, so the model hip in reference-pelvis coordinates is ref + R_i^T (model_i - est_i);
    its median over the chosen frames replaces ref."""
    hip = midpoint(track.xy.astype(np.float64), "hip")
    lean = np.asarray(kin["trunk_inclination"], np.float64)
    ok = np.all(np.isfinite(est), axis=1) & np.isfinite(diag[:, 0]) & np.all(np.isfinite(hip), axis=1)
    sel = {"all": ok, "loaded": ok & (lean >= 25), "standing": ok & (lean < 15), "mid": ok & (lean >= 15) & (lean < 45)}[which]
    if sel.sum() < 5:
        return est
    th = np.radians(diag[:, 0])
    c, s = np.cos(th), np.sin(th)
    d = hip - est
    local = np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]], axis=1)  # R^T d
    shift = np.median(local[sel], axis=0)
    return est + np.stack([c * shift[0] - s * shift[1], s * shift[0] + c * shift[1]], axis=1)


#: Gate: an estimate further than this from the model hip (trunk lengths), or with an ICP rms above
#: GATE_RMS × the clip's median, is dropped (the model hip is kept there).
GATE_T = float(os.environ.get("GATE_T", 0.25))
GATE_RMS = float(os.environ.get("GATE_RMS", 1.6))
MEDIAN_FRAMES = 7


def postprocess(est, diag, track):
    """Drop implausible registrations, then median-filter the correction (estimate − model hip) over time."""
    from formcheck.spine import _nan_median_filter

    xy = track.xy.astype(np.float64)
    hip, sh = midpoint(xy, "hip"), midpoint(xy, "shoulder")
    T = np.linalg.norm(sh - hip, axis=1)
    corr = est - hip
    bad = (np.linalg.norm(corr, axis=1) > GATE_T * T) | (diag[:, 1] > GATE_RMS * np.nanmedian(diag[:, 1]))
    corr[bad] = np.nan
    corr = np.stack([_nan_median_filter(corr[:, j], MEDIAN_FRAMES) for j in range(2)], axis=1)
    return hip + corr


def _wrap(a):
    return (a + np.pi) % (2 * np.pi) - np.pi


def with_hip(track: PoseTrack, new_hip: np.ndarray) -> PoseTrack:
    """The track with both hip landmarks moved so their midpoint is ``new_hip`` (NaN keeps the model's)."""
    xy = track.xy.astype(np.float64).copy()
    delta = new_hip - midpoint(xy, "hip")
    delta = np.where(np.isfinite(delta), delta, 0.0)
    for k in (lm.LEFT_HIP, lm.RIGHT_HIP):
        xy[:, k] += delta
    return dataclasses.replace(track, xy=xy.astype(np.float32))


def resampled_edges(masks, hip, shoulder):
    return np.stack([trunk_edges_from_mask(masks[i], hip[i], shoulder[i]) if np.all(np.isfinite(hip[i]))
                     and np.all(np.isfinite(shoulder[i])) else np.full((21, 2, 2), np.nan, np.float32)
                     for i in range(len(hip))])


def clip_rows(path: Path, plots: bool):
    raw = PoseTrack.load(path)
    masks = np.load(path.with_name(path.stem + ".masks.npz"))["masks"]
    truth = SynthTruth.load(path.with_suffix(".mp4"))
    n = min(len(raw), len(truth), len(masks))
    sm = smooth_track(raw)
    kin = compute_kinematics(sm)
    dorsal, why = spine.dorsal_side(sm, kin)
    if dorsal is None:
        print(f"{path.stem}: {why}")
        return None
    import os
    override = None
    if os.environ.get("ORACLE_REF"):
        override = np.full((len(raw), 2), np.nan)
        m = min(len(raw), len(truth))
        override[:m] = midpoint(truth.landmarks_xy[:m].astype(np.float64), "hip")
    if os.environ.get("METHOD") == "thigh":
        est_raw = thigh_hip(raw, masks)
        diag = np.full((len(raw), 2), np.nan)
        outlines = [None] * len(raw)
    else:
        est_raw, diag, outlines, info = silhouette_hip(raw, masks, kin, dorsal, ref_hip_override=override)
        if os.environ.get("REF") and override is None:
            est_raw = consensus(est_raw, diag, raw, kin, os.environ["REF"])
        if os.environ.get("POST"):
            est_raw = postprocess(est_raw, diag, raw)
    # The estimate replaces the hip landmarks before smoothing, as the product's track stage would see it.
    est_sm = midpoint(smooth_track(with_hip(raw, est_raw)).xy.astype(np.float64), "hip")
    xy, txy = sm.xy[:n].astype(np.float64), truth.landmarks_xy[:n].astype(np.float64)
    hip_m, sh_m = midpoint(xy, "hip"), midpoint(xy, "shoulder")
    hip_t = midpoint(txy, "hip")
    hip_e = est_sm[:n]
    edges = sm.trunk_edges[:n, :, dorsal].astype(np.float64)
    edge_r = {}
    for name, h in (("model", hip_m), ("silhouette", hip_e), ("true", hip_t)):
        e = resampled_edges(masks[:n], h, sh_m)[:, :, dorsal].astype(np.float64)
        edge_r[name] = e
    kinks = {
        "model": kink_on_axis(edges, hip_m, sh_m, dorsal),
        "silhouette": kink_on_axis(edges, hip_e, sh_m, dorsal),
        "true": kink_on_axis(edges, hip_t, sh_m, dorsal),
        "model/resampled": kink_on_axis(edge_r["model"], hip_m, sh_m, dorsal),
        "silhouette/resampled": kink_on_axis(edge_r["silhouette"], hip_e, sh_m, dorsal),
        "true/resampled": kink_on_axis(edge_r["true"], hip_t, sh_m, dorsal),
    }
    lean_true = truth.trunk_inclination_deg[:n]
    keep = lean_true >= LOADED
    for k in kinks.values():
        keep &= np.isfinite(k)
    keep &= np.all(np.isfinite(hip_e), axis=1)
    a = sh_m - hip_m
    T = np.linalg.norm(a, axis=1)
    a = a / T[:, None]
    nrm = np.stack([-a[:, 1], a[:, 0]], axis=1) * (1.0 if dorsal == 0 else -1.0)

    def err(h):
        e = h - hip_t
        return np.einsum("nd,nd->n", e, a) / T, np.einsum("nd,nd->n", e, nrm) / T

    standing = lean_true < 10
    rows = {k: v[keep] for k, v in kinks.items()}
    rows["flexion"] = truth.lumbar_flexion_deg[:n][keep]
    rows["ramp"] = np.clip(np.asarray(kin["trunk_inclination"])[:n] / spine.HINGED_LEAN_DEG, 0, 1)[keep]
    for name, h in (("model", hip_m), ("silhouette", hip_e)):
        al, do = err(h)
        rows[f"{name}_along"], rows[f"{name}_dorsal"] = al[keep], do[keep]
        rows[f"{name}_along_stand"], rows[f"{name}_dorsal_stand"] = al[standing], do[standing]
    rows["pelvis_rot"] = diag[:n, 0][keep]
    rows["true_tilt"] = truth.pelvis_tilt_deg[:n][keep]
    rows["icp_rms"] = diag[:n, 1][keep]
    if plots:
        plot_frames(path.stem, path.with_suffix(".mp4"), outlines, {"model": hip_m, "silhouette": hip_e, "true": hip_t},
                    lean_true, masks)
    return rows


def plot_frames(name, video, outlines, hips, lean, masks, count=4):
    import cv2

    from formcheck.source import read_frames

    PLOTS.mkdir(parents=True, exist_ok=True)
    n = len(lean)
    picks = set(int(i) for i in np.linspace(0, n - 1, 40))
    order = sorted(picks, key=lambda i: -lean[i] if np.isfinite(lean[i]) else 0)
    chosen = set(order[:count - 1]) | {min(picks)}
    colors = {"model": (0, 0, 255), "silhouette": (0, 255, 0), "true": (255, 0, 0)}
    for i, (t, frame) in enumerate(read_frames(video, max_side=960)):
        if i not in chosen:
            continue
        img = frame.copy()
        if i < len(outlines) and outlines[i] is not None:
            cv2.polylines(img, [np.round(outlines[i]).astype(np.int32)], False, (0, 255, 255), 1)
        for k, h in hips.items():
            if i < len(h) and np.all(np.isfinite(h[i])):
                cv2.circle(img, tuple(int(round(v)) for v in h[i]), 4, colors[k], -1)
        cv2.putText(img, f"f{i} red=model green=silhouette blue=true", (10, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (255, 255, 255), 1)
        cv2.imwrite(str(PLOTS / f"{name}-f{i:04d}.png"), img)


def fit_table(data):
    design = np.c_[data["flexion"], data["ramp"], np.ones(len(data["flexion"]))]
    print(f"{'hip→shoulder line':<22} {'gain':>6} {'lean slope':>10} {'offset':>7} {'residual ° RMS':>15}")
    for name in ("model", "silhouette", "true", "model/resampled", "silhouette/resampled", "true/resampled"):
        coef, *_ = np.linalg.lstsq(design, data[name], rcond=None)
        res = (data[name] - design @ coef) / coef[0]
        # Also without the lean term (a single neutral): does the estimate need a lean-dependent neutral?
        d2 = np.c_[data["flexion"], np.ones(len(data["flexion"]))]
        c2, *_ = np.linalg.lstsq(d2, data[name], rcond=None)
        res2 = (data[name] - d2 @ c2) / c2[0]
        print(f"{name:<22} {coef[0]:6.3f} {coef[1]:10.2f} {coef[2]:7.2f} {np.sqrt(np.mean(res ** 2)):15.2f}"
              f"   (no lean term: {np.sqrt(np.mean(res2 ** 2)):.2f})")


def main():
    mode = sys.argv[1]
    plots = "--plots" in sys.argv
    only = [a for a in sys.argv[2:] if not a.startswith("--")]
    if mode == "real":
        import real_check
        return real_check.main(plots)
    per_clip = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for p in sorted((DATA / os.environ.get("SET", "synth")).glob("*.npz")):
            if p.name.endswith(".masks.npz") or p.name.endswith(".truth.npz"):
                continue
            if only and not any(o in p.name for o in only):
                continue
            r = clip_rows(p, plots)
            if r is None:
                continue
            per_clip[p.stem] = r
            print(f"{p.stem:28s} loaded {len(r['flexion']):3d}  hip err along model {np.mean(r['model_along']):+.3f}"
                  f"±{np.std(r['model_along']):.3f} sil {np.mean(r['silhouette_along']):+.3f}"
                  f"±{np.std(r['silhouette_along']):.3f} | back model {np.mean(r['model_dorsal']):+.3f}"
                  f"±{np.std(r['model_dorsal']):.3f} sil {np.mean(r['silhouette_dorsal']):+.3f}"
                  f"±{np.std(r['silhouette_dorsal']):.3f}  icp {np.nanmedian(r['icp_rms']):.1f}px", flush=True)
    data = {k: np.concatenate([r[k] for r in per_clip.values()]) for k in next(iter(per_clip.values()))}
    print(f"\n{len(data['flexion'])} loaded frames, {len(per_clip)} clips")
    fit_table(data)
    for name in ("model", "silhouette"):
        print(f"{name:10s} hip error loaded (T): along {np.mean(data[name + '_along']):+.3f} ± "
              f"{np.std(data[name + '_along']):.3f}, back {np.mean(data[name + '_dorsal']):+.3f} ± "
              f"{np.std(data[name + '_dorsal']):.3f};  standing: along {np.nanmean(data[name + '_along_stand']):+.3f} ± "
              f"{np.nanstd(data[name + '_along_stand']):.3f}, back {np.nanmean(data[name + '_dorsal_stand']):+.3f} ± "
              f"{np.nanstd(data[name + '_dorsal_stand']):.3f}")
    groups = {}
    for k, r in per_clip.items():
        groups.setdefault(k.split("-")[0], []).append(r)
    print("\nper condition: residual (° RMS, common fit of all clips) model / silhouette / true")
    design_all = np.c_[data["flexion"], data["ramp"], np.ones(len(data["flexion"]))]
    coefs = {n: np.linalg.lstsq(design_all, data[n], rcond=None)[0] for n in ("model", "silhouette", "true")}
    for g, rs in groups.items():
        d = {k: np.concatenate([r[k] for r in rs]) for k in rs[0]}
        des = np.c_[d["flexion"], d["ramp"], np.ones(len(d["flexion"]))]
        vals = [np.sqrt(np.mean(((d[n] - des @ coefs[n]) / coefs[n][0]) ** 2)) for n in ("model", "silhouette", "true")]
        print(f"  {g:10s} {len(d['flexion']):4d} frames  " + " / ".join(f"{v:5.2f}" for v in vals))


if __name__ == "__main__":
    main()
