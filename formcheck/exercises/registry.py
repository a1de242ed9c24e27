"""The one registry of exercise plug-ins.

Everything that lists exercises takes them from here: ``--exercise`` in
``formcheck analyze``, ``live`` and ``batch``, auto-detection, profiles
(the default profile is the registered plug-ins' own thresholds), the fault
catalogue (a plug-in's new fault codes), the report and ``formcheck eval``.

>>> from formcheck.exercises import get_exercise
>>> get_exercise("Back squat").name, get_exercise("romanian").name
('squat', 'rdl')
"""

from __future__ import annotations

from formcheck.exercises.base import Exercise
from formcheck.faults.catalogue import add_entry

#: Registered plug-ins by name, in registration order.
EXERCISES: dict[str, Exercise] = {}


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def register(exercise: Exercise) -> Exercise:
    """Add a plug-in (its name and aliases must be new) and its fault codes' catalogue entries."""
    taken = {_key(n) for ex in EXERCISES.values() for n in (ex.name, *ex.aliases)} | {"auto", "unknown"}
    clash = [n for n in (exercise.name, *exercise.aliases) if _key(n) in taken]
    if clash:
        raise ValueError(f"exercise {exercise.name}: the name(s) {', '.join(clash)} are already taken")
    for check in exercise.checks:
        if check.entry is not None:
            add_entry(check.entry)
    EXERCISES[exercise.name] = exercise
    return exercise


def unregister(name: str) -> None:
    """Remove a plug-in (its catalogue entries stay: reports may name them)."""
    EXERCISES.pop(name, None)


def get_exercise(name: str) -> Exercise:
    """The plug-in called ``name`` or one of its aliases (case, spaces and dashes ignored).

    Raises
    ------
    ValueError
        No plug-in has that name.
    """
    key = _key(name)
    for exercise in EXERCISES.values():
        if key == exercise.name or key in {_key(a) for a in exercise.aliases}:
            return exercise
    raise ValueError(f"unknown exercise {name!r}; choose from {', '.join(EXERCISES)} or auto")


def exercise_choices() -> tuple[str, ...]:
    """What ``--exercise`` accepts: ``auto`` and every registered name."""
    return ("auto", *EXERCISES)


def by_recognise_order() -> list[Exercise]:
    """The plug-ins in the order they are asked to recognise a posture or a label."""
    return sorted(EXERCISES.values(), key=lambda e: e.recognise_order)


def exercise_named_in(label: str) -> str:
    """The plug-in a free-text exercise label names (``"kettlebell deadlift"`` →
    ``"deadlift"``), or ``"unknown"``.

    >>> exercise_named_in("Romanian deadlift (partial)"), exercise_named_in("row")
    ('rdl', 'unknown')
    """
    label = label.lower()
    for exercise in by_recognise_order():
        if any(word in label for word in exercise.label_words):
            return exercise.name
    return "unknown"
