"""Reps stage: cut a normalised depth signal into reps and phases.

The same causal state machine (:class:`RepCounter`) serves live analysis one
sample at a time and offline analysis (:func:`segment_reps`), which adds the
phases of each rep.
"""

from formcheck.reps.counter import PHASES, Rep, RepCounter, RepEvent, RepRule, rep_with_phases, segment_reps

__all__ = ["PHASES", "Rep", "RepCounter", "RepEvent", "RepRule", "rep_with_phases", "segment_reps"]
