"""Analysis stage: one analyser for offline and live use, and the report it produces.

:func:`~formcheck.analysis.offline.analyze_track` analyses a whole track
(zero-lag smoothing); :class:`~formcheck.analysis.streaming.StreamingAnalyzer`
runs the same exercises, rep rules and checks causally, one frame at a time
(live mode and the annotated video); both grade reps with
:func:`~formcheck.analysis.offline.assess_rep`. :class:`~formcheck.analysis.report.Report`
is what they return and what report.json holds.
"""
