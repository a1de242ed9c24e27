"""Render a subset of the synthetic grid (or read real clips), run the real pose model with masks,
store per clip: the PoseTrack, the model's person masks (uint8) and the truth.

Usage:
    nice -n 19 python benchmarks/hip_registration/collect.py synth      # ≈ 17 clips → $TMPDIR/formcheck-hipres/data/synth/
    nice -n 19 python benchmarks/hip_registration/collect.py real       # 4 real deadlifts → $TMPDIR/formcheck-hipres/data/real/
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from formcheck.pose import PoseOptions, iter_poses  # noqa: E402
from formcheck.source import read_frames  # noqa: E402
from formcheck.track import PoseTrack  # noqa: E402

OUT = Path(tempfile.gettempdir()) / "formcheck-hipres" / "data"
REAL = ["bichraix_good008", "bichraix_bad005", "studio_deadlift_male", "bichraix_good019"]
WANT = {  # condition -> levels (replicate 0 unless the level repeats)
    "nominal": [(0, 0), (0, 1), (10, 0), (20, 0), (30, 0), (40, 0)],
    "no_plates": [(0, 0), (0, 1), (20, 0), (40, 0)],
    "h450": [(0, 0), (20, 0), (40, 0)],
    "yaw15": [(0, 0), (20, 0), (40, 0)],
}


HOLDOUT = {
    "nominal": [(5, 0), (15, 0), (25, 0), (35, 0)],
    "h450": [(0, 1), (10, 0), (30, 0)],
    "yaw15": [(0, 1), (10, 0), (30, 0)],
    "loose50": [(0, 0), (20, 0), (40, 0)],
}


def run_pose(path: Path, max_side: int | None, out_stem: Path) -> None:
    frames, masks = [], []
    for frame, pose in iter_poses(read_frames(path, max_side=max_side), PoseOptions(), keep_mask=True):
        frames.append(pose)
        m = pose.mask if pose.mask is not None else np.zeros(frame.shape[:2], np.float32)
        masks.append(np.clip(m * 255 + 0.5, 0, 255).astype(np.uint8))
        size = (frame.shape[1], frame.shape[0])
    track = PoseTrack.from_frames(frames, size, {"source": str(path)})
    track.save(out_stem.with_suffix(".npz"))
    np.savez_compressed(out_stem.with_name(out_stem.name + ".masks.npz"), masks=np.stack(masks))


def synth(want=WANT, folder="synth") -> None:
    import synthetic_grid as sg
    from formcheck.synth import SynthSpec, write_clip

    cases = [c for c in sg.build_cases(sg.CONDITIONS) if (c.level, c.replicate) in want.get(c.condition, [])]
    (OUT / folder).mkdir(parents=True, exist_ok=True)
    for i, case in enumerate(cases):
        stem = OUT / folder / case.name
        if stem.with_name(stem.name + ".masks.npz").exists():
            continue
        t0 = time.time()
        kw = dict(case.spec_kwargs)
        if "image_size" in kw:
            kw["image_size"] = tuple(kw["image_size"])
        clip = OUT / folder / f"{case.name}.mp4"
        write_clip(clip, SynthSpec(**kw))
        run_pose(clip, None, stem)
        print(f"[{i + 1}/{len(cases)}] {case.name} {time.time() - t0:.0f}s", flush=True)


def real() -> None:
    (OUT / "real").mkdir(parents=True, exist_ok=True)
    for name in REAL:
        stem = OUT / "real" / name
        if stem.with_name(stem.name + ".masks.npz").exists():
            continue
        t0 = time.time()
        run_pose(Path(__file__).resolve().parents[3] / "shared" / "clips" / "deadlift" / f"{name}.mp4", 960, stem)
        print(f"{name} {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    {"synth": synth, "real": real, "holdout": lambda: synth(HOLDOUT, "holdout")}[sys.argv[1]]()
