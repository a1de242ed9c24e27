"""Fault codes the synthetic lifter can show, with their severity knobs.

A severity of 0 means "not injected". A rep counts as showing the fault (in
the ground truth) when its severity reaches ``present_at`` — except
``shallow_depth``, which is judged on the realised geometry (hip joint centre
not below the knee joint centre at the bottom).
"""

from __future__ import annotations

from dataclasses import dataclass

EXERCISES = ("squat", "deadlift", "rdl", "good_morning", "kettlebell_swing")
#: Accepted alternative spellings of exercise names.
EXERCISE_ALIASES = {
    "romanian_deadlift": "rdl", "conventional_deadlift": "deadlift", "swing": "kettlebell_swing",
    "kb_swing": "kettlebell_swing", "goodmorning": "good_morning",
}


@dataclass(frozen=True)
class FaultInfo:
    """One fault knob.

    Attributes
    ----------
    code : str
    exercises : tuple of str
        Exercises that can show it.
    unit : str
        Unit of the severity ("deg", "cm" or "fraction" in [0, 1]).
    max_severity : float
        Largest accepted severity.
    present_at : float
        Severity from which a rep is labelled with the fault.
    description : str
    """

    code: str
    exercises: tuple[str, ...]
    unit: str
    max_severity: float
    present_at: float
    description: str


_HINGES = ("deadlift", "rdl", "good_morning", "kettlebell_swing")

FAULTS: dict[str, FaultInfo] = {f.code: f for f in (
    FaultInfo("shallow_depth", ("squat",), "fraction", 1.0, 0.0,
              "squat depth reduced by up to 70 % (judged on geometry: hip not below knee)"),
    FaultInfo("butt_wink", ("squat",), "deg", 45.0, 10.0,
              "lumbar flexion appearing near the bottom of the squat"),
    FaultInfo("lumbar_hyperextension", ("squat",), "deg", 15.0, 8.0,
              "lower back over-arched (lumbar extension) through the squat"),
    FaultInfo("excessive_forward_lean", ("squat",), "deg", 40.0, 10.0,
              "extra trunk lean at the bottom of the squat"),
    FaultInfo("heel_rise", ("squat",), "deg", 25.0, 5.0,
              "heels leave the floor near the bottom (foot turns about the ball)"),
    FaultInfo("lumbar_flexion", _HINGES, "deg", 45.0, 10.0,
              "rounded lower back (lumbar flexion) while the trunk is inclined"),
    FaultInfo("hips_rise_early", ("deadlift",), "fraction", 1.0, 0.3,
              "knees straighten before the bar leaves the floor; the trunk tips over"),
    FaultInfo("squatted_start", ("deadlift",), "deg", 45.0, 15.0,
              "extra knee flexion at the start: hips too low"),
    FaultInfo("bar_drift", ("deadlift", "rdl"), "cm", 25.0, 5.0,
              "bar swings forward away from the mid-foot line"),
    FaultInfo("lockout_hyperextension", ("deadlift", "rdl", "kettlebell_swing"), "deg", 25.0, 8.0,
              "leaning back / over-arching at lockout (trunk behind vertical)"),
    FaultInfo("knees_too_bent", ("rdl", "good_morning"), "deg", 60.0, 15.0,
              "extra knee flexion turns the hinge into a squat"),
    FaultInfo("insufficient_hinge", ("rdl", "good_morning", "kettlebell_swing"), "fraction", 1.0, 0.3,
              "hip hinge range reduced"),
    FaultInfo("squatting_the_swing", ("kettlebell_swing",), "fraction", 1.0, 0.3,
              "swing driven by the knees: deep knee bend, upright trunk"),
)}


def canonical_exercise(name: str) -> str:
    """Normalise an exercise name; raises ValueError for unknown ones."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = EXERCISE_ALIASES.get(key, key)
    if key not in EXERCISES:
        raise ValueError(f"unknown exercise {name!r} (choose from {', '.join(EXERCISES)})")
    return key


def validate_faults(exercise: str, faults: dict[str, float]) -> dict[str, float]:
    """Check fault codes and severities for ``exercise``; returns a clean float dict."""
    clean = {}
    for code, value in dict(faults or {}).items():
        info = FAULTS.get(code)
        if info is None:
            raise ValueError(f"unknown fault {code!r} (choose from {', '.join(FAULTS)})")
        if exercise not in info.exercises:
            raise ValueError(f"fault {code!r} does not apply to {exercise} (it applies to {', '.join(info.exercises)})")
        value = float(value)
        if not 0.0 <= value <= info.max_severity:
            raise ValueError(f"severity of {code} must be within 0–{info.max_severity:g} {info.unit}, got {value:g}")
        clean[code] = value
    return clean
