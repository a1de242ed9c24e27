"""Stability and plausibility of the silhouette hip on real side-view deadlifts (no truth)."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import cv2
import numpy as np

import evaluate as ev
from formcheck import spine
from formcheck.filters import smooth_track
from formcheck.kinematics import compute_kinematics, midpoint
from formcheck.source import read_frames
from formcheck.track import PoseTrack

CLIPS = Path(__file__).resolve().parents[3] / "shared" / "clips" / "deadlift"


def jitter(p):
    """Median and 95th percentile of |second difference| (px): noise, not motion."""
    ok = np.all(np.isfinite(p), axis=1)
    acc = np.linalg.norm(p[2:] - 2 * p[1:-1] + p[:-2], axis=1)
    acc = acc[ok[2:] & ok[1:-1] & ok[:-2]]
    step = np.linalg.norm(np.diff(p, axis=0), axis=1)
    step = step[ok[1:] & ok[:-1]]
    return np.median(acc), np.percentile(acc, 95), np.max(step) if len(step) else np.nan


def main(plots: bool):
    warnings.simplefilter("ignore", RuntimeWarning)
    print(f"{'clip':24s} {'frames':>6} {'cover':>6} {'T px':>5} | {'2nd-diff med/p95 px: model':>26} {'silhouette':>12} "
          f"| {'max step px: model/sil':>22} | sil−model (T) along / back | icp rms px")
    for p in sorted((ev.DATA / "real").glob("*.npz")):
        if p.name.endswith(".masks.npz"):
            continue
        raw = PoseTrack.load(p)
        masks = np.load(p.with_name(p.stem + ".masks.npz"))["masks"]
        sm = smooth_track(raw)
        kin = compute_kinematics(sm)
        dorsal, why = spine.dorsal_side(sm, kin)
        if dorsal is None:
            print(p.stem, why)
            continue
        est, diag, outlines, info = ev.silhouette_hip(raw, masks, kin, dorsal)
        est = ev.consensus(est, diag, raw, kin, os.environ.get("REF", "mid"))
        if os.environ.get("POST"):
            est = ev.postprocess(est, diag, raw)
        hip = midpoint(raw.xy.astype(np.float64), "hip")
        sh = midpoint(raw.xy.astype(np.float64), "shoulder")
        a = sh - hip
        T = np.linalg.norm(a, axis=1)
        a = a / T[:, None]
        nrm = np.stack([-a[:, 1], a[:, 0]], axis=1) * (1.0 if dorsal == 0 else -1.0)
        d = est - hip
        lean = np.asarray(kin["trunk_inclination"])
        cover = np.mean(np.all(np.isfinite(est), axis=1))
        jm, js = jitter(hip), jitter(est)
        al, bk = np.einsum("nd,nd->n", d, a) / T, np.einsum("nd,nd->n", d, nrm) / T
        loaded = lean >= 25
        print(f"{p.stem:24s} {len(raw):6d} {cover:6.2f} {np.nanmedian(T):5.0f} | {jm[0]:6.2f}/{jm[1]:5.2f}"
              f"{'':>14} {js[0]:5.2f}/{js[1]:5.2f} | {jm[2]:10.1f}/{js[2]:5.1f} | loaded {np.nanmean(al[loaded]):+.3f}"
              f"±{np.nanstd(al[loaded]):.3f} / {np.nanmean(bk[loaded]):+.3f}±{np.nanstd(bk[loaded]):.3f} "
              f"| {np.nanmedian(diag[:, 1]):.2f} (ref frames {info.get('ref_frames')})")
        if plots:
            draw(p.stem, raw, est, hip, outlines, lean)


def draw(name, raw, est, hip, outlines, lean):
    finite = np.isfinite(lean)
    picks = {int(np.nanargmax(np.where(finite, lean, -1)))}
    for target in (5, 35):
        cand = np.nonzero(finite & (np.abs(lean - target) < 8))[0]
        if len(cand):
            picks.add(int(cand[len(cand) // 2]))
    ev.PLOTS.mkdir(parents=True, exist_ok=True)
    for i, (t, frame) in enumerate(read_frames(CLIPS / f"{name}.mp4", max_side=960)):
        if i not in picks:
            continue
        img = frame.copy()
        if outlines[i] is not None:
            cv2.polylines(img, [np.round(outlines[i]).astype(np.int32)], False, (0, 255, 255), 1)
        for h, col in ((hip, (0, 0, 255)), (est, (0, 255, 0))):
            if np.all(np.isfinite(h[i])):
                cv2.circle(img, tuple(int(round(v)) for v in h[i]), 5, col, -1)
        cv2.putText(img, f"{name} f{i} lean {lean[i]:.0f} red=model green=silhouette", (10, 25),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2)
        cv2.imwrite(str(ev.PLOTS / f"real-{name}-f{i:04d}.png"), img)
        if i >= max(picks):
            break
