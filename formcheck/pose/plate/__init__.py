"""The barbell's near plate, found and followed by the pose stage.

Modules (import them directly; this package imports none of them):

- :mod:`formcheck.pose.plate.detect` — per-frame candidates of the near plate
  from the frame and the lifter's pose (size prior, search box, Hough
  circles, ellipse fits, plate evidence).
- :mod:`formcheck.pose.plate.path` — the clip's radius and the best path
  through the candidates (Viterbi), gap filling, and the refusals (no scale,
  no path) when the lock or the radius is doubtful or the view is oblique.
- :mod:`formcheck.pose.plate.finder` — :class:`~formcheck.pose.plate.finder.PlateFinder`,
  the one object the pose loop calls per frame (candidates and a causal
  estimate for drawing live), and :func:`~formcheck.pose.plate.finder.with_plate_path`,
  which stores the followed plate in a :class:`~formcheck.pose.track.PoseTrack`.

The metric bar (scale from the plate's diameter, path, speed, rep events) is
the measure stage's: :mod:`formcheck.measure.bar`.
"""
