"""Measurements stage: pure functions from a smoothed pose track to signals.

:mod:`~formcheck.measure.kinematics` (joint and segment angles with documented
signs, heights in leg lengths, the camera view), :mod:`~formcheck.measure.signals`
(frontal-plane and foot signals, squat depth) and :mod:`~formcheck.measure.held`
(levels held over time: a fault is a level kept for a while, never one frame).
"""
