"""``formcheck live --record``: the annotated frames and, at the end, the report files.

The recording is one output set (:mod:`formcheck.apps.outputs`): written into a
staging folder beside the recording folder and swapped in whole at the end, so
a session that fails before it has anything to keep leaves the folder as it was.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from formcheck.analysis.offline import AnalysisOptions, analyze_track
from formcheck.analysis.report import Report
from formcheck.apps.analyze import OutputPaths
from formcheck.apps.outputs import StagedOutput
from formcheck.io.files import write_text_atomic
from formcheck.io.writer import VideoWriter
from formcheck.measure.bar import DEFAULT_PLATE_DIAMETER_M
from formcheck.pose.plate.finder import with_plate_path
from formcheck.pose.track import PoseFrame, PoseTrack

#: Written beside report.json by ``--record``: the reps as counted and cued live.
LIVE_JSON = "live.json"


class SessionRecorder:
    """Saves a live session: the annotated frames and, at the end, the report files.

    The report is :func:`~formcheck.analysis.offline.analyze_track` (the offline
    analyser, zero-lag smoothing) over the raw poses seen live, so
    ``report.json``, ``angles.csv`` and ``landmarks.npz`` are the files
    ``formcheck analyze`` writes and ``analyze --landmarks`` can re-run them.
    ``live.json`` keeps what was counted and cued live (:meth:`LiveResult.to_dict`).
    """

    def __init__(self, out_dir: Path, fps: float) -> None:
        self._stage = StagedOutput(out_dir).open()  # InputError for a folder that cannot take the recording
        self.out_dir = self._stage.out
        self.paths = OutputPaths.in_dir(self._stage.path)
        self.fps = fps if fps and fps > 0 else 30.0
        self.poses: list[PoseFrame] = []
        self.frame_size = (0, 0)
        self._writer: VideoWriter | None = None

    def add(self, canvas: np.ndarray, pose: PoseFrame, frame_size: tuple[int, int]) -> None:
        self.frame_size = frame_size
        self.poses.append(replace(pose, mask=None))
        if self._writer is None:
            self._writer = VideoWriter(self.paths.video, self.fps, (canvas.shape[1], canvas.shape[0]))
        self._writer.write(canvas, pose.time_s)

    def add_gap(self, empty: PoseFrame) -> None:
        """Mark a stretch with nothing seen (a pause) in the track, without a video frame."""
        self.poses.append(empty)

    def finish(self, exercise: str, meta: dict, notes: list[str], live: dict | None = None,
               plate_diameter_m: float = DEFAULT_PLATE_DIAMETER_M) -> Report:
        """Close the video, write the report files (and ``live.json``) and swap the set in; returns the report."""
        try:
            if self._writer is not None:
                if self._writer.frames_written or self.poses:
                    self._writer.close()
                else:
                    self._writer.abort()
            # The plate's path over the whole session replaces the live (causal) estimates, as offline.
            track = with_plate_path(PoseTrack.from_frames(self.poses, self.frame_size, meta))
            report = analyze_track(track, AnalysisOptions(exercise=exercise, plate_diameter_m=plate_diameter_m))
            report = replace(report, notes=report.notes + tuple(notes))
            track.save(self.paths.landmarks)
            if report.frames:
                report.write_angles_csv(self.paths.angles)
            report.write_json(self.paths.report)
            if live is not None:
                write_text_atomic(self.paths.report.parent / LIVE_JSON, json.dumps(live, indent=2, allow_nan=False) + "\n")
        except BaseException:
            self.abort()
            raise
        self._stage.commit()
        return report

    def abort(self) -> None:
        """Drop the recording: the folder keeps what it held before."""
        if self._writer is not None:
            self._writer.abort()
        self._stage.discard()
