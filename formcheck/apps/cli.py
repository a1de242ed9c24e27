"""``formcheck`` command line.

Every failure the user can cause ends in one line on stderr and a non-zero
exit status (2 for bad input, 3 for no person found, 130 interrupted, 1 for
anything unexpected), never a traceback (``--debug`` shows it).

Start-up stays light: the command list below is plain text, and a
sub-command's module (with the heavy libraries it needs) is imported only
when that command runs or its own ``--help`` is asked for.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from formcheck.apps.common import PLATE_DIAMETER_HELP, Parser, guarded, plate_diameter_kwargs, plate_diameter_option
from formcheck.errors import FormcheckError, NoPersonError
from formcheck.io.provenance import FORMCHECK_VERSION

#: Sub-commands in the order ``formcheck --help`` lists them, with their one-line help.
COMMANDS = {
    "analyze": "analyse a video of a set",
    "demo": "render a synthetic squat set and analyse it (needs nothing else)",
    "live": "check a set live from a camera: reps and one cue per rep as you lift",
    "serve": "start the local web app: upload from a phone, progress, reports, coach view, live check",
    "batch": "analyse folders of client videos in parallel (resumable): roster, index, client history",
    "history": "print and plot a client's progress from the batch history database",
    "report": "write report.html again for an analysis folder",
    "eval": "evaluate against a labelled clip set",
    "synth": "render a synthetic lift with ground truth",
}

EPILOG = (
    "exit status: 0 done, 2 bad input or arguments (or an output folder that cannot be written), "
    "3 no person found, 4 some batch videos failed, 130 interrupted, 143 terminated, 1 internal error "
    "(a bug). docs/errors.md says what to do. Run 'formcheck COMMAND --help' for a command's options."
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with the options of ``command`` only (the others are listed, not loaded)."""
    parser = Parser(
        prog="formcheck",
        description="Check squat and deadlift form from video: reps, phases, faults and one cue per rep.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"formcheck {FORMCHECK_VERSION}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        if name == "synth":  # hands its arguments to its own parser
            synth = sub.add_parser(name, help=help_text, add_help=False)
            synth.add_argument("synth_args", nargs=argparse.REMAINDER)
            continue
        if name != command:
            sub.add_parser(name, help=help_text, add_help=False)
            continue
        description, add_arguments, _ = _command(name)
        add_arguments(sub.add_parser(name, help=help_text, description=description))
    return parser


def _command(name: str):
    """``(description, add_arguments, run)`` of a sub-command, importing its module now."""
    if name == "analyze":
        return ANALYZE_DESCRIPTION, add_analyze_arguments, run_analyze
    if name == "demo":
        return DEMO_DESCRIPTION, add_demo_arguments, run_demo
    if name == "eval":
        return EVAL_DESCRIPTION, add_eval_arguments, run_eval_command
    if name == "batch":
        from formcheck.apps.coach import batch as module
    elif name == "history":
        from formcheck.apps.coach import history as module
    elif name == "live":
        from formcheck.apps.live import command as module
    elif name == "report":
        from formcheck.apps import report as module
    elif name == "serve":
        from formcheck.apps.serve import command as module
    else:
        raise AssertionError(name)
    return module.DESCRIPTION, module.add_arguments, module.run


def _requested_command(argv: list[str]) -> str | None:
    """The first argument naming a sub-command (options before it take no values)."""
    for arg in argv:
        if arg in COMMANDS:
            return arg
        if not arg.startswith("-"):
            return None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    _never_fail_printing()
    # Building the parser imports the command's module (and its libraries): an interrupt
    # then is one line too. Usage mistakes and --help end with argparse's SystemExit.
    return guarded(lambda: _parse_and_run(argv), debug="--debug" in argv)


def _parse_and_run(argv: list[str]) -> int:
    command = _requested_command(argv)
    parser = build_parser(command)
    # ``synth`` hands its arguments to its own parser; argparse's REMAINDER
    # drops them when the first one is an option (``formcheck synth --help``).
    args, extra = parser.parse_known_args(argv)
    if args.command == "synth":
        args.synth_args = [*args.synth_args, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 2
    return _dispatch(args)


def _never_fail_printing() -> None:
    """Text that cannot be encoded for the terminal (a file name with bytes that are not UTF-8,
    a terminal in ASCII) is printed escaped rather than ending the run."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _dispatch(args) -> int:
    if args.command == "synth":
        from formcheck.synth.__main__ import main as synth_main

        return synth_main(args.synth_args)
    return _command(args.command)[2](args)


# ---------------------------------------------------------------- analyze, demo, eval
ANALYZE_DESCRIPTION = (
    "Analyse a video of a squat or deadlift set: writes report.json, angles.csv, "
    "landmarks.npz and annotated.mp4 to --out and prints a summary."
)
DEMO_DESCRIPTION = (
    "Render a short synthetic squat set (the project's own mannequin, no third-party "
    "video; the third rep is shallow on purpose) and analyse it end to end."
)
EVAL_DESCRIPTION = (
    "Run the analysis over every clip in a LABELS.csv (columns clip, exercise, view, "
    "rep_count, …; clip paths relative to the CSV) and print per-clip results and totals."
)


def add_analyze_arguments(analyze: argparse.ArgumentParser) -> None:
    from formcheck.exercises import exercise_choices  # the registry: every plug-in's name

    analyze.add_argument("video", help="video file (mp4, mov, …) or a landmarks.npz saved by an earlier run")
    analyze.add_argument("--out", help="output folder (default: ./<video name>.formcheck)")
    analyze.add_argument("--exercise", choices=exercise_choices(), default="auto", help="skip auto-detection")
    analyze.add_argument("--landmarks", help="re-use a saved landmarks.npz instead of running the pose model")
    analyze.add_argument(
        "--profile", metavar="FILE", help="thresholds: default, beginner, strict or a TOML file (docs/faults.md)"
    )
    analyze.add_argument(
        "--analysis-fps", type=_analysis_fps, default=30.0, metavar="HZ",
        help="run the pose model on about this many frames per second (default 30: a 60 fps video every "
        "second frame; 0: every frame). annotated.mp4 keeps the video's own rate",
    )
    analyze.add_argument(
        "--fps", type=float, metavar="N",
        help="the video's frame rate, for a file whose header has none or a wrong one (frame i is at i/N s)",
    )
    analyze.add_argument("--no-video", action="store_true", help="do not write annotated.mp4")
    analyze.add_argument("--plate-diameter", type=plate_diameter_option, metavar="MM", help=PLATE_DIAMETER_HELP)
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")


def add_demo_arguments(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--out", default="formcheck-demo", help="output folder (default: ./formcheck-demo)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")


def add_eval_arguments(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument("labels", help="LABELS.csv")
    evaluate.add_argument("--cache", help="folder to cache landmark tracks in (re-runs skip the pose model)")
    evaluate.add_argument("--only", action="append", default=[], help="only clips whose path contains this")


def _analysis_fps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of frames per second, got {text!r}") from None
    if not (value == 0 or 5.0 <= value <= 240.0):
        raise argparse.ArgumentTypeError(f"must be 0 (every frame) or between 5 and 240, got {text}")
    return value


def run_analyze(args) -> int:
    from formcheck.apps.analyze import analyze_video
    from formcheck.apps.common import run_with_progress
    from formcheck.pose.estimator import PoseOptions
    from formcheck.io.files import printable, require_file

    video = require_file(Path(args.video), "video file")
    out = Path(args.out) if args.out else default_out_dir(video)
    thresholds = None
    if args.profile:
        from formcheck.exercises.profiles import load_profile

        thresholds = load_profile(args.profile)  # a bad value is an InputError naming the key
    report = run_with_progress(
        lambda progress: analyze_video(
            video,
            out,
            exercise=args.exercise,
            landmarks=args.landmarks,
            video=not args.no_video,
            thresholds=thresholds,
            pose_options=PoseOptions(analysis_fps=args.analysis_fps),
            progress=progress,
            fps=args.fps,
            **plate_diameter_kwargs(args),
        ),
        video,
        quiet=args.quiet,
        fps=args.fps,
    )
    print(report.summary())
    print(f"Results in {printable(out)}{os.sep}")
    if report.pose_detected_fraction == 0:
        raise NoPersonError(f"no person was found in {video} (report written to {out}{os.sep})")
    return 0


#: Longest file name most file systems take (bytes).
NAME_MAX = 255


def default_out_dir(video: Path) -> Path:
    """``./<video name>.formcheck``, the name shortened to what the file system takes.

    >>> default_out_dir(Path("clips/set 1.mp4")).name
    'set 1.formcheck'
    >>> len(os.fsencode(default_out_dir(Path("x" * 250 + ".mp4")).name))
    255
    """
    suffix = ".formcheck"
    stem = os.fsencode(video.stem)[: NAME_MAX - len(suffix)]
    return Path.cwd() / (os.fsdecode(stem) + suffix)


def run_demo(args) -> int:
    from dataclasses import replace

    from formcheck.apps.analyze import analyze_into
    from formcheck.apps.common import run_with_progress
    from formcheck.apps.outputs import StagedOutput
    from formcheck.io.files import printable
    from formcheck.pose.track import PoseTrack
    from formcheck.render.html import write_html_report
    from formcheck.synth import SynthSpec, write_clip

    # The clip is part of the demo's output set: rendered into the staging folder, named
    # by where it will be once the set is swapped in.
    with StagedOutput(args.out) as stage:
        clip = stage.path / "demo_squat.mp4"
        final_clip = stage.out / clip.name
        print(f"Rendering a synthetic squat set to {printable(final_clip)} …", file=sys.stderr)
        truth = write_clip(clip, SynthSpec("squat", reps=3, faults={"shallow_depth": 1.0}, fault_reps=(2,)))
        report = run_with_progress(
            lambda progress: analyze_into(clip, stage.path, html=False, progress=progress), clip, quiet=args.quiet
        )
        report = replace(report, source=str(final_clip))
        report.write_json(stage.path / "report.json")
        track = PoseTrack.load(stage.path / "landmarks.npz")
        track = replace(track, meta={**track.meta, "source": str(final_clip)})
        track.save(stage.path / "landmarks.npz")
        write_html_report(stage.path, clip, track=track)
    print(report.summary())
    print(f"Rendered: {truth.rep_count} reps, the last one shallow. Results in {printable(stage.out)}{os.sep}")
    return 0


def run_eval_command(args) -> int:
    from formcheck.apps.evaluate import run_eval

    return run_eval(Path(args.labels), cache=args.cache, only=args.only)


if __name__ == "__main__":
    sys.exit(main())
