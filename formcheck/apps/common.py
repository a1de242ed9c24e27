"""What every command shares: one error policy, the progress bar, shared option types."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from formcheck.errors import FormcheckError, NoPersonError

#: Exit statuses (docs: README, ``formcheck --help``).
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_NO_PERSON = 3
EXIT_INTERRUPTED = 130


def guarded(call: Callable[[], int], debug: bool = False, interrupted: str = "interrupted") -> int:
    """Run a command; every failure becomes one line on stderr and an exit status
    (3 no person, 2 bad input, 130 interrupted, 1 unexpected), never a traceback."""
    try:
        return call()
    except NoPersonError as exc:
        print(f"formcheck: error: {exc}", file=sys.stderr)
        return EXIT_NO_PERSON
    except FormcheckError as exc:
        print(f"formcheck: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:  # a command may say what an interrupt keeps
        print(f"formcheck: {exc.args[0] if exc.args else interrupted}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if debug:
            raise
        print(f"formcheck: internal error: {exc.__class__.__name__}: {exc} (rerun with --debug)", file=sys.stderr)
        return EXIT_INTERNAL


def run_with_progress(job, video: Path, quiet: bool):
    """Run ``job(progress_callback)`` with a progress bar on stderr when it is a terminal."""
    if quiet or not sys.stderr.isatty() or video.suffix.lower() == ".npz":
        return job(None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn  # rich costs start-up time

    from formcheck.io.video import probe

    total = probe(video).frame_count or None
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(), transient=True,
    ) as bar:
        task = bar.add_task(f"analysing {video.name}", total=total)
        return job(lambda n: bar.update(task, completed=n))


def plate_diameter_option(text: str) -> float:
    """``--plate-diameter MM`` (argparse type): the plates' diameter in metres, or a usage error."""
    from formcheck.measure.bar import plate_diameter_m

    try:
        return plate_diameter_m(float(text))
    except ValueError as exc:
        message = str(exc) if "plate" in str(exc) else f"expected millimetres, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None


PLATE_DIAMETER_HELP = ("diameter of the barbell's plates in mm (default 450, a standard plate): "
                       "the scale of the bar's path and speed")


def plate_diameter_kwargs(args: argparse.Namespace) -> dict:
    """``{"plate_diameter_m": …}`` when ``--plate-diameter`` was given (else the analysis's default)."""
    value = getattr(args, "plate_diameter", None)
    return {"plate_diameter_m": value} if value is not None else {}
