"""A real squat, time-normalised: the shape that synthetic squats follow.

Provenance: mean of 4 bodyweight squats (both legs) from the OpenCap example
``Moco/exampleSquat/squats1_videoAndMocap.mot`` of stanfordnmbl/opencap-processing
(commit dd0b30c, Apache-2.0), derived by ``benchmarks/derive_opencap_cycle.py``
(which reads the file by path; it is not part of the package). Descent (movement
onset → deepest point) and ascent (deepest point → standing) were normalised
separately, 13 samples each, so sample 12 is the bottom. Across squats the
standard deviation stays below 3° at every sample.

Signs are formcheck.synth's: pelvis tilt + anterior, hip + flexion, knee +
flexion, ankle + dorsiflexion, lumbar + flexion (OpenCap's single lumbar joint
carries the whole torso relative to the pelvis, so its lumbar curve is used for
timing only, never as a spine angle).
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator

# Pasted from `python benchmarks/derive_opencap_cycle.py` output.
REFERENCE_CYCLE_DEG: dict[str, tuple[float, ...]] = {
    "pelvis_tilt": (2.7, 5.3, 11.1, 17.9, 23.5, 28.4, 32.5, 35.4, 38.1, 39.5, 40.2, 40.3, 40.0, 39.2, 38.3, 36.3, 33.7, 30.0, 25.9, 21.0, 17.1, 13.1, 9.0, 6.2, 4.3),
    "hip_flexion": (3.8, 10.5, 22.7, 36.4, 47.6, 58.0, 67.8, 76.3, 85.2, 91.4, 96.0, 98.8, 99.7, 98.2, 94.6, 87.6, 79.4, 69.2, 57.8, 44.6, 33.6, 22.8, 12.5, 6.3, 2.7),
    "knee_flexion": (8.9, 13.6, 20.6, 27.7, 33.5, 39.8, 47.0, 54.5, 62.7, 69.5, 74.8, 78.2, 79.8, 78.9, 75.3, 69.0, 61.3, 52.6, 42.7, 31.7, 22.5, 14.2, 7.1, 4.1, 3.4),
    "ankle_dorsiflexion": (9.8, 11.5, 13.9, 15.2, 15.7, 16.6, 18.1, 20.2, 22.5, 24.6, 25.7, 26.3, 26.5, 25.9, 24.6, 22.9, 20.7, 18.7, 15.9, 12.8, 9.8, 7.0, 3.8, 3.0, 3.9),
    "lumbar_flexion": (6.0, 9.5, 13.2, 17.0, 20.5, 24.4, 28.2, 32.0, 35.2, 38.4, 41.5, 43.9, 45.0, 45.8, 45.2, 44.4, 42.2, 38.5, 33.8, 28.5, 22.2, 16.2, 11.9, 8.3, 5.4),
}
REFERENCE_DESCENT_S = 0.66
REFERENCE_ASCENT_S = 0.69
#: Index of the deepest sample.
BOTTOM_INDEX = 12


def normalised_shape(name: str, phase: np.ndarray) -> np.ndarray:
    """Progress of one coordinate through a squat, 0 standing → 1 at the bottom.

    Parameters
    ----------
    name : str
        A key of :data:`REFERENCE_CYCLE_DEG`.
    phase : ndarray
        Cycle phase in [0, 1]: 0 onset, 0.5 bottom, 1 back to standing.

    Returns
    -------
    ndarray
        Same shape as ``phase``. Each half is scaled so its own standing end is
        0 and the bottom is 1, which keeps the real inter-joint timing (the
        pelvis tilts early, the knee and ankle late) while the generator sets
        the amplitudes.
    """
    values = np.asarray(REFERENCE_CYCLE_DEG[name], float)
    bottom = values[BOTTOM_INDEX]
    descent = (values[: BOTTOM_INDEX + 1] - values[0]) / (bottom - values[0])
    ascent = (values[BOTTOM_INDEX:] - values[-1]) / (bottom - values[-1])
    shape = np.concatenate([descent, ascent[1:]])
    knots = np.linspace(0.0, 1.0, len(shape))
    # PCHIP: no overshoot beyond the samples, so 0 and 1 stay the extremes.
    return PchipInterpolator(knots, shape)(np.clip(phase, 0.0, 1.0))
