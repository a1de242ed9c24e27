"""What every command shares: one error policy, the progress bar, shared option types.

The policy (docs/errors.md): every failure ends in one line on stderr and an
exit status, never a traceback (``--debug`` shows it):

==  =====================================================================
0   done
2   bad input or arguments, or an output folder that cannot be written
3   no person found
4   ``batch``: some videos could not be analysed (each has an error entry)
1   internal error: a bug in formcheck (the only case that prints "internal error")
130 interrupted (Ctrl-C); 143 terminated (SIGTERM)
==  =====================================================================

Python warnings (numpy's "Mean of empty slice" on frames without a person,
…) never reach the user; ``--debug`` shows them.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import re
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Callable

from formcheck.errors import FormcheckError, NoPersonError
from formcheck.io.files import printable

#: Exit statuses (docs/errors.md, ``formcheck --help``).
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_NO_PERSON = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

#: What the system says about files that the user can put right (disk full, permissions, names).
_USER_ERRNOS = {
    errno.ENOSPC: "the disk is full: free some space or choose another --out",
    errno.EDQUOT: "the disk quota is used up: free some space or choose another --out",
    errno.EFBIG: "the file is larger than this system allows: raise the file-size limit (ulimit -f) or choose another --out",
    errno.EROFS: "the file system is read-only: choose another --out",
    errno.EACCES: "permission denied: choose a folder you can write to",
    errno.EPERM: "not permitted: choose a folder you can write to",
    errno.ENAMETOOLONG: "the name is too long: choose a shorter one",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.ELOOP: "too many symbolic links",
    errno.EMFILE: "too many open files",
    errno.EIO: "the disk reported an input/output error",
}


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread so every ``finally`` and staging clean-up runs
    (like KeyboardInterrupt for Ctrl-C; a command may re-raise it with what it keeps)."""


def guarded(call: Callable[[], int], debug: bool = False, interrupted: str = "interrupted") -> int:
    """Run a command; every failure becomes one line on stderr and an exit status
    (3 no person, 2 bad input, 130 interrupted, 143 terminated, 1 a bug), never a traceback."""
    try:
        with _quiet_warnings(debug), _terminate_by_exception():
            return call()
    except NoPersonError as exc:
        _error(f"error: {exc}")
        return EXIT_NO_PERSON
    except FormcheckError as exc:
        _error(f"error: {exc}")
        return EXIT_INPUT
    except KeyboardInterrupt as exc:  # a command may say what an interrupt keeps
        _error(exc.args[0] if exc.args else interrupted)
        return EXIT_INTERRUPTED
    except Terminated as exc:  # as for an interrupt
        _error(exc.args[0] if exc.args else "terminated")
        return EXIT_TERMINATED
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if debug:
            raise
        cause = user_os_error(exc)
        if cause is not None:  # a full disk, a permission: the user's to put right, not a bug
            _error(f"error: {os_error_message(cause)}")
            return EXIT_INPUT
        return _internal(exc)


def user_os_error(exc: BaseException) -> OSError | None:
    """The file-system error the user can put right (disk full, permissions, …) behind ``exc``, if any.

    Writers on threads wrap what the system said (``RuntimeError: encoding
    … failed``); the cause chain still holds it.

    >>> import errno
    >>> try:
    ...     try:
    ...         raise OSError(errno.ENOSPC, "No space left on device")
    ...     except OSError as full:
    ...         raise RuntimeError("encoding failed") from full
    ... except RuntimeError as wrapped:
    ...     user_os_error(wrapped).errno == errno.ENOSPC
    True
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _USER_ERRNOS:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def os_error_message(exc: OSError) -> str:
    """One line for a file-system error the user can put right: what failed, on which file, and what to do.

    >>> import errno
    >>> os_error_message(OSError(errno.ENOSPC, "No space left on device", "out/report.json"))
    'cannot write out/report.json: the disk is full: free some space or choose another --out'
    """
    where = printable(exc.filename) if exc.filename is not None else "a file"
    verb = "read" if exc.errno in (errno.EISDIR, errno.EIO) else "write"
    return f"cannot {verb} {where}: {os_error_advice(exc)}"


def os_error_advice(exc: OSError) -> str:
    """What the system's error means for the user, and what to do."""
    return _USER_ERRNOS.get(exc.errno, exc.strerror or str(exc))


def _error(message: str) -> None:
    """One line on stderr, whatever the message holds (a file name with a newline or bytes that are not UTF-8)."""
    line = _CONTROL.sub(lambda m: repr(m.group())[1:-1], printable(message))
    print(f"formcheck: {line}", file=sys.stderr, flush=True)


def _internal(exc: BaseException) -> int:
    _error(f"internal error: {exc.__class__.__name__}: {exc} (a bug in formcheck; rerun with --debug and report it)")
    return EXIT_INTERNAL


@contextlib.contextmanager
def _quiet_warnings(debug: bool):
    """No Python warnings for users (numpy's on empty slices, libraries' deprecations); all of them with --debug."""
    if debug:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _terminate_by_exception():
    """SIGTERM raises :class:`Terminated` in the main thread (the default would end the
    process without running any clean-up); the previous handler comes back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake said in one line (and where to read more) instead of the usage block."""

    def error(self, message: str):
        self.exit(EXIT_INPUT, f"{self.prog}: error: {printable(message)} (see '{self.prog} --help')\n")


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 rep``, ``2 reps``.

    >>> plural(1, "rep"), plural(3, "rep"), plural(0, "video")
    ('1 rep', '3 reps', '0 videos')
    """
    return f"{count} {word if count == 1 else many or word + 's'}"


def run_with_progress(job, video: Path, quiet: bool, fps: float | None = None):
    """Run ``job(progress_callback)`` with a progress bar on stderr when it is a terminal
    (``fps`` as given for the video, see :func:`formcheck.io.video.read_frames`)."""
    if quiet or not sys.stderr.isatty() or video.suffix.lower() == ".npz":
        return job(None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn  # rich costs start-up time

    from formcheck.io.video import probe

    total = probe(video, fps=fps).frame_count or None
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(), transient=True,
    ) as bar:
        task = bar.add_task(f"analysing {printable(video.name)}", total=total)
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
