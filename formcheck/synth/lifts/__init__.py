"""Lift builders: the joint-angle curves of each exercise, one module per kind of lift.

:data:`BUILDERS` maps each exercise of :data:`formcheck.synth.faults.EXERCISES`
to its builder; :func:`formcheck.synth.motion.generate` drives it. The
shared scaffolding (the set's :class:`~formcheck.synth.lifts.base.Context`,
the top-start lift, arms and implements) is in :mod:`.base`.
"""

from __future__ import annotations

from formcheck.synth.lifts.base import Builder
from formcheck.synth.lifts.deadlift import DeadliftBuilder
from formcheck.synth.lifts.hinge import GoodMorningBuilder, RDLBuilder
from formcheck.synth.lifts.squat import SquatBuilder
from formcheck.synth.lifts.swing import SwingBuilder

BUILDERS: dict[str, Builder] = {
    "squat": SquatBuilder(), "deadlift": DeadliftBuilder(), "rdl": RDLBuilder(), "good_morning": GoodMorningBuilder(),
    "kettlebell_swing": SwingBuilder(),
}
