"""``formcheck live`` on the command line: options, opening the source, the run, the recording's files.

``python -m formcheck.apps.live`` runs it too. See ``docs/live.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from formcheck.apps.common import PLATE_DIAMETER_HELP, Parser, guarded, plate_diameter_kwargs, plate_diameter_option, plural
from formcheck.apps.live.display import Window, display_problem
from formcheck.apps.live.recorder import SessionRecorder
from formcheck.apps.live.result import LiveResult
from formcheck.apps.live.session import LiveOptions, LiveSession
from formcheck.apps.live.voice import Voice
from formcheck.errors import InputError, NoPersonError
from formcheck.exercises import exercise_choices
from formcheck.apps.outputs import check_output_folder
from formcheck.io.camera import CameraSource, LatestFrameSource, PacedFileSource, check_camera_index
from formcheck.io.files import printable, require_file
from formcheck.pose.estimator import MODEL_FILE, LifterFollower, PoseOptions, native_stderr_silenced

#: ``formcheck live``'s description.
DESCRIPTION = (
    "Check a squat or deadlift set live from a camera (or a video played like one): skeleton, depth and "
    "back gauges, rep counter and one cue per rep, spoken with --voice. Keys in the window: q quits, "
    "r resets the count, space pauses."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``formcheck live``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--camera", type=int, metavar="N", help="camera index (default: 0)")
    where.add_argument(
        "--source", metavar="VIDEO_OR_URL",
        help="a video file (played at its own frame rate, like a camera) or a stream URL",
    )
    parser.add_argument("--exercise", choices=exercise_choices(), default="auto", help="skip auto-detection")
    parser.add_argument("--voice", action="store_true", help="speak each rep's count and cue (offline: espeak-ng or pyttsx3)")
    parser.add_argument(
        "--record", metavar="OUT_DIR",
        help="save the annotated session and report.json, angles.csv, landmarks.npz (as analyze does)",
    )
    parser.add_argument("--headless", action="store_true", help="no window: print reps and cues to the terminal")
    parser.add_argument("--plate-diameter", type=plate_diameter_option, metavar="MM", help=PLATE_DIAMETER_HELP)
    parser.add_argument(
        "--no-pace", action="store_true",
        help="with --source VIDEO: hand over every frame as soon as the last is done instead of at the "
        "video's own rate (nothing dropped; for testing)",
    )
    parser.add_argument(
        "--one-person", action="store_true",
        help="when choosing whom to follow, look for one person only (slightly faster; a bystander may be "
        "taken for the lifter)",
    )


def run(args: argparse.Namespace) -> int:
    """``formcheck live``; raises FormcheckError subclasses for user errors."""
    options = LiveOptions(
        exercise=args.exercise,
        voice=args.voice,
        record_dir=Path(args.record) if args.record else None,
        pace=not args.no_pace,
        pose=replace(PoseOptions(), num_poses=1) if args.one_person else PoseOptions(),
        **plate_diameter_kwargs(args),
    )
    if args.no_pace and not args.source:
        raise InputError("--no-pace only applies to --source VIDEO")
    check_sources(args)  # before the pose model loads or a camera opens
    if not args.headless:
        problem = display_problem()
        if problem is not None:
            raise InputError(
                f"{problem}; run with --headless (add --record DIR to keep the session), or from a desktop session"
            )

    def warn(message: str) -> None:
        print(f"formcheck: warning: {message}", file=sys.stderr, flush=True)

    estimator = LifterFollower(options.pose)
    source = voice = recorder = display = session = None
    label = "the camera"
    try:
        source, label, fps = _open_source(args, options)
        if options.voice:
            voice = Voice.open(warn)
        if options.record_dir is not None:
            recorder = SessionRecorder(options.record_dir, fps)
        if args.headless:
            print(f"Live (headless) from {label}: Ctrl-C stops.", flush=True)
        else:
            display = Window()
        session = LiveSession(
            source, options, estimator, display=display, voice=voice, recorder=recorder,
            say=lambda line: print(line, flush=True), fps=fps,
        )
        result = session.run()
    except BaseException as exc:
        if recorder is not None:
            if session is not None and recorder.poses:
                # Keep what was recorded: the video so far and its report.
                try:
                    _finish_recording(recorder, session.summarise(), label, options, f"the session stopped on an error: {exc}")
                except Exception:  # noqa: BLE001 - the original error is the one to report
                    recorder.abort()
            else:
                recorder.abort()
        raise
    finally:
        if display is not None:
            display.close()
        if source is not None:
            source.close()
        estimator.close()
        if voice is not None:
            voice.close(finish=session is not None and not session.result.quit_by_user)
    if isinstance(source, CameraSource) and not result.quit_by_user:
        warn(f"{label} stopped sending frames")
    print(result.summary())
    if recorder is not None:
        _finish_recording(recorder, result, label, options)
        print(f"Recorded session in {printable(recorder.out_dir)}{os.sep} "
              f"(report: {plural(result.report.rep_count, 'rep')})")
    if not result.person_seen and result.processed:
        raise NoPersonError(f"no person was seen in {label}")
    return 0


def check_sources(args: argparse.Namespace) -> None:
    """The camera index, the video file and the recording folder, checked before anything opens them."""
    if args.source is None:
        try:
            check_camera_index(args.camera if args.camera is not None else 0)
        except InputError as exc:
            raise InputError(f"{exc}: plug one in, choose another with --camera N, or use --source VIDEO") from None
    elif "://" not in args.source:
        require_file(Path(args.source), "video file")
    if args.record:
        check_output_folder(args.record)


def _finish_recording(
    recorder: SessionRecorder, result: LiveResult, label: str, options: LiveOptions, problem: str | None = None
) -> None:
    """Write the recording's files, with a note on how the live session went."""
    notes = [
        f"recorded live from {label}: {result.processed} frames analysed, "
        f"{result.dropped} dropped to keep up; the live count was {len(result.reps)} rep(s)"
    ]
    if problem:
        notes.append(problem)
    meta = {"source": label, "live": True, "frames_dropped": result.dropped,
            "model": MODEL_FILE, "num_poses": options.pose.num_poses, "max_side": options.pose.max_side}
    result.report = recorder.finish(options.exercise, meta, notes, {"source": label, **result.to_dict()},
                                    plate_diameter_m=options.plate_diameter_m)


def _open_source(args, options: LiveOptions) -> tuple[LatestFrameSource, str, float]:
    """The frame source named on the command line, its label and frame rate."""
    if args.source is not None and "://" not in args.source:
        path = Path(args.source)
        source = PacedFileSource(path, realtime=options.pace)
        return source, str(path), source.info.fps or 30.0
    target: int | str = args.source if args.source is not None else (args.camera or 0)
    with native_stderr_silenced():  # OpenCV/FFmpeg print several lines per failed attempt
        try:
            source = CameraSource(target)
        except InputError as exc:
            hint = (
                "check the URL" if isinstance(target, str)
                else "plug one in, choose another with --camera N, or use --source VIDEO"
            )
            raise InputError(f"{exc}: {hint}") from None
    label = f"camera {target}" if isinstance(target, int) else str(target)
    return source, label, source.fps or 30.0


def main(argv: list[str] | None = None) -> int:
    """``python -m formcheck.apps.live`` (same as ``formcheck live``)."""
    parser = Parser(prog="formcheck live", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return guarded(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
