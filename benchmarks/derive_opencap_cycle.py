"""Derive the mean squat cycle used by ``formcheck/synth/reference_cycle.py``.

Reads the OpenCap squat kinematics (OpenSim ``.mot``; opencap-processing,
Apache-2.0) *by path* — the shared reference folder is never copied into the
project — cuts it into squats, time-normalises the descent (movement onset →
deepest point) and the ascent (deepest point → standing) separately, averages
across squats and legs and prints a Python snippet to paste into
``reference_cycle.py``.

Usage::

    python benchmarks/derive_opencap_cycle.py [path/to/opencap_squat_kinematics.mot]

Sign conventions of the output (those of formcheck.synth, not OpenSim):
pelvis tilt + anterior, hip + flexion, knee + flexion, ankle + dorsiflexion,
lumbar + flexion.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.signal import find_peaks

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared" / "reference" / "opencap_squat_kinematics.mot"
#: Samples per half cycle (including both ends); the full cycle has 2*N-1.
SAMPLES_PER_HALF = 13
#: Movement onset/offset: this fraction of the rep's hip-flexion range above standing.
ONSET_FRACTION = 0.03


def read_mot(path: Path) -> dict[str, np.ndarray]:
    """Columns of an OpenSim ``.mot`` file (tab-separated after ``endheader``)."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "endheader")
    names = lines[start + 1].split("\t")
    rows = [[float(v) for v in line.split()] for line in lines[start + 2:] if line.strip()]
    data = np.asarray(rows)
    return {name.strip(): data[:, i] for i, name in enumerate(names)}


def coordinates(mot: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The sagittal coordinates in formcheck.synth's sign conventions."""
    mean = lambda a, b: 0.5 * (mot[a] + mot[b])  # noqa: E731 - left/right mean
    return {
        # OpenSim pelvis_tilt is + posterior; lumbar_extension is + extension.
        "pelvis_tilt": -mot["pelvis_tilt"],
        "hip_flexion": mean("hip_flexion_l", "hip_flexion_r"),
        "knee_flexion": mean("knee_angle_l", "knee_angle_r"),
        "ankle_dorsiflexion": mean("ankle_angle_l", "ankle_angle_r"),
        "lumbar_flexion": -mot["lumbar_extension"],
    }


def squat_windows(hip: np.ndarray) -> list[tuple[int, int, int]]:
    """(onset, bottom, offset) sample indices of each complete squat."""
    bottoms, _ = find_peaks(hip, height=60.0, distance=80)
    tops, _ = find_peaks(-hip, distance=80)
    windows = []
    for b in bottoms:
        before, after = tops[tops < b], tops[tops > b]
        if len(before) == 0 or len(after) == 0:
            continue  # incomplete squat at the start or end of the recording
        t0, t1 = before[-1], after[0]
        level = hip[t0] + ONSET_FRACTION * (hip[b] - hip[t0])
        onset = t0 + int(np.argmax(hip[t0:b] > level))
        level = hip[t1] + ONSET_FRACTION * (hip[b] - hip[t1])
        offset = b + int(np.argmax(hip[b:t1 + 1] < level))
        windows.append((onset, b, offset))
    return windows


def resample(x: np.ndarray, n: int) -> np.ndarray:
    return np.interp(np.linspace(0.0, 1.0, n), np.linspace(0.0, 1.0, len(x)), x)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else DEFAULT_PATH
    mot = read_mot(path)
    coords = coordinates(mot)
    time = mot["time"]
    windows = squat_windows(coords["hip_flexion"])
    durations = [(time[b] - time[a], time[c] - time[b]) for a, b, c in windows]
    print(f"# {len(windows)} squats; descent {np.mean([d for d, _ in durations]):.2f} s, "
          f"ascent {np.mean([u for _, u in durations]):.2f} s (mean)")
    print("REFERENCE_CYCLE_DEG = {")
    for name, x in coords.items():
        cycles = np.array([
            np.concatenate([resample(x[a:b + 1], SAMPLES_PER_HALF), resample(x[b:c + 1], SAMPLES_PER_HALF)[1:]])
            for a, b, c in windows
        ])
        mean, sd = cycles.mean(axis=0), cycles.std(axis=0)
        print(f"    # sd across squats: max {sd.max():.1f} deg")
        print(f'    "{name}": (' + ", ".join(f"{v:.1f}" for v in mean) + "),")
    print("}")
    print(f"REFERENCE_DESCENT_S = {np.mean([d for d, _ in durations]):.2f}")
    print(f"REFERENCE_ASCENT_S = {np.mean([u for _, u in durations]):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
