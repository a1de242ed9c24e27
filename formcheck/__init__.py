"""formcheck: tells a hip hinge from a rounded lower back, and flags squat and
deadlift faults, from video.

>>> import formcheck
>>> report = formcheck.analyze("deadlift.mp4")      # doctest: +SKIP
>>> report.rep_count, [f.code for f in report.faults]  # doctest: +SKIP
"""

from formcheck.io.provenance import FORMCHECK_VERSION as __version__


def analyze(path, out_dir=None, **kwargs):
    """Analyse a video file (or a saved ``.npz`` landmark track); see
    :func:`formcheck.apps.analyze.analyze_video`."""
    from formcheck.apps.analyze import analyze_video  # the whole pipeline, imported when used

    return analyze_video(path, out_dir=out_dir, **kwargs)


__all__ = ["analyze", "__version__"]
