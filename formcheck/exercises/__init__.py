"""Exercise plug-ins, their registry and automatic exercise detection.

Each plug-in is one module with an ``EXERCISE`` object
(:class:`~formcheck.exercises.base.Exercise`): its depth signal, rep rule,
fault checks with their default thresholds, the posture that recognises it,
and its names. The built-in plug-ins are registered here, in one place;
another plug-in registers itself with :func:`register` (see
docs/adding-an-exercise.md).
"""

from formcheck.exercises import deadlift, good_morning, kettlebell_swing, rdl, squat
from formcheck.exercises.base import Exercise, Posture
from formcheck.exercises.recognise import detect_exercise, posture_vote
from formcheck.exercises.registry import (
    EXERCISES,
    exercise_choices,
    exercise_named_in,
    get_exercise,
    register,
    unregister,
)

for _plugin in (squat, deadlift, rdl, good_morning, kettlebell_swing):
    register(_plugin.EXERCISE)

__all__ = [
    "EXERCISES", "Exercise", "Posture", "detect_exercise", "exercise_choices", "exercise_named_in", "get_exercise",
    "posture_vote", "register", "unregister",
]
