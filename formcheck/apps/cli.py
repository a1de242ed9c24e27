"""``formcheck`` command line.

Every failure the user can cause ends in one line on stderr and a non-zero
exit status (2 for bad input, 1 for anything unexpected), never a traceback
(``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from formcheck.io.provenance import FORMCHECK_VERSION
from formcheck.errors import FormcheckError, NoPersonError
from formcheck.exercises import exercise_choices


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="formcheck",
        description="Check squat and deadlift form from video: reps, phases, faults and one cue per rep.",
    )
    parser.add_argument("--version", action="version", version=f"formcheck {FORMCHECK_VERSION}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    analyze = sub.add_parser(
        "analyze",
        help="analyse a video of a set",
        description="Analyse a video of a squat or deadlift set: writes report.json, angles.csv, "
        "landmarks.npz and annotated.mp4 to --out and prints a summary.",
    )
    analyze.add_argument("video", help="video file (mp4, mov, …) or a landmarks.npz saved by an earlier run")
    analyze.add_argument("--out", help="output folder (default: ./<video name>.formcheck)")
    analyze.add_argument("--exercise", choices=exercise_choices(), default="auto", help="skip auto-detection")
    analyze.add_argument("--landmarks", help="re-use a saved landmarks.npz instead of running the pose model")
    analyze.add_argument(
        "--profile", metavar="FILE", help="thresholds: default, beginner, strict or a TOML file (docs/faults.md)"
    )
    analyze.add_argument("--no-video", action="store_true", help="do not write annotated.mp4")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")

    demo = sub.add_parser(
        "demo",
        help="render a synthetic squat set and analyse it (needs nothing else)",
        description="Render a short synthetic squat set (the project's own mannequin, no third-party "
        "video; the third rep is shallow on purpose) and analyse it end to end.",
    )
    demo.add_argument("--out", default="formcheck-demo", help="output folder (default: ./formcheck-demo)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")

    evaluate = sub.add_parser(
        "eval",
        help="evaluate against a labelled clip set",
        description="Run the analysis over every clip in a LABELS.csv (columns clip, exercise, view, "
        "rep_count, …; clip paths relative to the CSV) and print per-clip results and totals.",
    )
    evaluate.add_argument("labels", help="LABELS.csv")
    evaluate.add_argument("--cache", help="folder to cache landmark tracks in (re-runs skip the pose model)")
    evaluate.add_argument("--only", action="append", default=[], help="only clips whose path contains this")

    from formcheck.apps.coach import batch as batch_cmd
    from formcheck.apps.coach import history as history_cmd
    from formcheck.render import html as html_report
    from formcheck.apps.live import session as live_cmd

    batch = sub.add_parser("batch", help=batch_cmd.HELP, description=batch_cmd.DESCRIPTION)
    batch_cmd.add_arguments(batch)
    history = sub.add_parser("history", help=history_cmd.HELP, description=history_cmd.DESCRIPTION)
    history_cmd.add_arguments(history)

    live = sub.add_parser("live", help=live_cmd.HELP, description=live_cmd.DESCRIPTION)
    live_cmd.add_arguments(live)

    report = sub.add_parser(
        "report",
        help="write report.html again for an analysis folder",
        description="(Re)write DIR/report.html: one self-contained page (verdict, rep table, key frames, "
        "plots) that opens offline in any browser.",
    )
    html_report.add_arguments(report)

    synth = sub.add_parser("synth", help="render a synthetic lift with ground truth", add_help=False)
    synth.add_argument("synth_args", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
    return guarded(lambda: _dispatch(args), debug=args.debug)


def guarded(call, debug: bool = False, interrupted: str = "interrupted") -> int:
    """Run a command; every failure becomes one line on stderr and an exit status
    (3 no person, 2 bad input, 130 interrupted, 1 unexpected), never a traceback."""
    try:
        return call()
    except NoPersonError as exc:
        print(f"formcheck: error: {exc}", file=sys.stderr)
        return 3
    except FormcheckError as exc:
        print(f"formcheck: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"formcheck: {interrupted}", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if debug:
            raise
        print(f"formcheck: internal error: {exc.__class__.__name__}: {exc} (rerun with --debug)", file=sys.stderr)
        return 1


def _dispatch(args) -> int:
    if args.command == "analyze":
        return _cmd_analyze(args)
    if args.command == "demo":
        return _cmd_demo(args)
    if args.command == "eval":
        from formcheck.apps.evaluate import run_eval

        return run_eval(Path(args.labels), cache=args.cache, only=args.only)
    if args.command == "batch":
        from formcheck.apps.coach import batch

        return batch.run(args)
    if args.command == "history":
        from formcheck.apps.coach import history

        return history.run(args)
    if args.command == "live":
        from formcheck.apps.live import session as live

        return live.run(args)
    if args.command == "report":
        from formcheck.render import html as html_report

        return html_report.run(args)
    if args.command == "synth":
        from formcheck.synth.__main__ import main as synth_main

        return synth_main(args.synth_args)
    raise AssertionError(args.command)


def _cmd_analyze(args) -> int:
    from formcheck.apps.analyze import analyze_video

    video = Path(args.video)
    if not video.exists():
        raise FormcheckError(f"{video} does not exist")
    out = Path(args.out) if args.out else Path.cwd() / f"{video.stem}.formcheck"
    thresholds = None
    if args.profile:
        from formcheck.exercises.profiles import load_profile

        thresholds = load_profile(args.profile)  # a bad value is an InputError naming the key
    report = _run_with_progress(
        lambda progress: analyze_video(
            video,
            out,
            exercise=args.exercise,
            landmarks=args.landmarks,
            video=not args.no_video,
            thresholds=thresholds,
            progress=progress,
        ),
        video,
        quiet=args.quiet,
    )
    print(report.summary())
    print(f"Results in {out}{os.sep}")
    if report.pose_detected_fraction == 0:
        raise NoPersonError(f"no person was found in {video} (report written to {out}{os.sep})")
    return 0


def _cmd_demo(args) -> int:
    from formcheck.apps.analyze import analyze_video
    from formcheck.synth import SynthSpec, write_clip

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clip = out / "demo_squat.mp4"
    print(f"Rendering a synthetic squat set to {clip} …", file=sys.stderr)
    truth = write_clip(clip, SynthSpec("squat", reps=3, faults={"shallow_depth": 1.0}, fault_reps=(2,)))
    report = _run_with_progress(lambda progress: analyze_video(clip, out, progress=progress), clip, quiet=args.quiet)
    print(report.summary())
    print(f"Rendered: {truth.rep_count} reps, the last one shallow. Results in {out}{os.sep}")
    return 0


def _run_with_progress(job, video: Path, quiet: bool):
    """Run ``job(progress_callback)`` with a progress bar on stderr when it is a terminal."""
    if quiet or not sys.stderr.isatty() or video.suffix.lower() == ".npz":
        return job(None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from formcheck.io.video import probe

    total = probe(video).frame_count or None
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(), transient=True,
    ) as bar:
        task = bar.add_task(f"analysing {video.name}", total=total)
        return job(lambda n: bar.update(task, completed=n))


if __name__ == "__main__":
    sys.exit(main())
