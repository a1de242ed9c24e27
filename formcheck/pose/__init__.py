"""Pose stage: frames → the lifter's landmarks over time (a :class:`~formcheck.pose.track.PoseTrack`).

Modules (import them directly; this package imports none of them, so using
a saved track never loads MediaPipe):

- :mod:`formcheck.pose.estimator` — :func:`~formcheck.pose.estimator.estimate_track`
  and :func:`~formcheck.pose.estimator.iter_poses` run the bundled MediaPipe
  model (:class:`~formcheck.pose.estimator.PoseEstimator`,
  :class:`~formcheck.pose.estimator.PoseOptions`) over frames.
- :mod:`formcheck.pose.lifter` — :class:`~formcheck.pose.lifter.LifterSelector`
  follows one person when several are in view.
- :mod:`formcheck.pose.timestamps` — the strictly increasing milliseconds
  MediaPipe's VIDEO mode needs.
- :mod:`formcheck.pose.track` — :class:`~formcheck.pose.track.PoseTrack` /
  :class:`~formcheck.pose.track.PoseFrame`, the data type every later stage
  reads, saved as ``.npz``.
- :mod:`formcheck.pose.silhouette` — trunk edges and outlines from a person mask.
- :mod:`formcheck.pose.filters` — outlier rejection, gap filling and zero-lag
  smoothing (:func:`~formcheck.pose.filters.smooth_track`), One Euro filter for live use.
- :mod:`formcheck.pose.landmarks` — BlazePose landmark indices, names and edges.
"""
