"""One output set per run: written beside the output folder, then swapped in whole.

``analyze``, ``report``, ``demo`` and ``live --record`` write every file of a
run into a private *staging folder* beside the output folder
(``.<name>.formcheck-new-<pid>-<random>``). Only once all of them are written
is the staging folder exchanged with the output folder, in one step (Linux
``renameat2(RENAME_EXCHANGE)``; where that is missing, two renames that the
next run repairs if a crash falls between them). So the output folder holds
the complete set of one run: the previous run's until the new one is whole,
never a mix of two videos.

- A run that fails or is interrupted (an error, Ctrl-C, SIGTERM) deletes its
  staging folder: the previous set stays as it was, byte for byte.
- A run killed outright (SIGKILL, a power cut) leaves its staging folder; the
  next run for the same output folder deletes it. The staging folder of a
  run still going is locked (``flock``), so a concurrent run leaves it alone.
- Each set lists its files in ``.formcheck.json``. formcheck replaces an
  output folder only when every file in it is one it wrote: a folder that
  holds anything else (a Desktop, say) is refused with a message, and nothing
  in it is touched. A folder of an older formcheck (its usual file names, no
  list) counts as formcheck's.

The batch keeps its own staging folders (:mod:`formcheck.apps.coach.video`)
and lists each finished folder with :func:`seal`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from formcheck.apps.common import os_error_advice, user_os_error
from formcheck.errors import InputError
from formcheck.io.files import printable, write_text_atomic
from formcheck.io.provenance import FORMCHECK_VERSION

#: The list of a set's files, written last into every set.
MARKER = ".formcheck.json"
MARKER_FORMAT = "formcheck.output-set"
#: Names an older formcheck wrote into output folders (before sets carried a list).
_LEGACY_NAME = re.compile(
    r"(report\.(json|html)|angles\.csv|landmarks\.npz|annotated\.mp4|live\.json|batch\.json|rep\d+\.jpg"
    r"|demo_squat\.(mp4|truth\.json|truth\.npz)|\.tmp-.*|\.annotated\..*\.part\.mp4)"
)
#: Longest part of the output folder's name kept in a staging folder's name (bytes; names may hold 255).
_NAME_PART_BYTES = 160
#: Without flock (not POSIX), a staging folder is taken as abandoned after this long.
_STALE_WITHOUT_LOCKS_S = 6 * 3600
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


# ----------------------------------------------------------------------------- the staged set
class StagedOutput:
    """A staging folder for one run's outputs, swapped in place of ``out`` by :meth:`commit`.

    Opening it (:meth:`open`, or entering a ``with`` block) checks the output
    folder (:func:`check_output_folder`), removes what killed runs left
    beside it, and makes the staging folder. A ``with`` block commits when it
    succeeds and discards otherwise. SIGTERM and Ctrl-C are held while a
    staging folder is made, swapped in or removed, so an interrupt never
    leaves half of one behind.

    Parameters
    ----------
    out : path-like
        The output folder (``--out``). Missing parent folders are made (and
        removed again if the run fails).
    keep : iterable of str
        Files of the current set to carry over into the new one (hard links),
        e.g. everything but ``report.html`` for ``formcheck report``.

    Attributes
    ----------
    path : Path
        The staging folder: write the run's files here.
    out : Path
        The output folder (symbolic links resolved).

    Raises
    ------
    InputError
        (on opening) The output folder cannot take a new set: a file,
        read-only, holding files formcheck did not write, or its parent
        cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with StagedOutput(Path(tmp) / "results") as stage:
    ...         _ = (stage.path / "report.json").write_text("{}")
    ...     sorted(p.name for p in Path(tmp).iterdir()), sorted(p.name for p in stage.out.iterdir())
    (['results'], ['.formcheck.json', 'report.json'])
    """

    def __init__(self, out: str | os.PathLike, keep: Iterable[str] = ()) -> None:
        self._given = out
        self._keep = tuple(keep)
        self.out = Path(os.path.realpath(out))
        self.path: Path | None = None
        self._lock: int | None = None
        self._created: list[Path] = []
        self.done = False

    def open(self) -> "StagedOutput":
        """Check the output folder and make the staging folder (what ``with`` does on entry)."""
        try:
            with _signals_held():  # a SIGTERM now would leave a half-made staging folder nobody knows of
                remove_abandoned(self.out)  # first: a set a crash left aside comes back
                self.out = check_output_folder(self._given)
                self._created = _make_parents(self.out.parent)
                self.path, self._lock = _new_staging(self.out)
                for name in self._keep:
                    _link_or_copy(self.out / name, self.path / name)
        except BaseException:  # a signal held above is raised as the block ends: still ours to clean
            self.discard()
            raise
        return self

    def commit(self) -> Path:
        """List the staged files and swap them in place of the output folder's set; returns ``out``."""
        try:
            with _signals_held():  # the swap and the removal of the previous set are one step
                seal(self.path)
                _swap_in(self.path, self.out)
                self._unlock()
                self.done = True
        except OSError as exc:
            self.discard()
            raise InputError(f"cannot write the results to {printable(self.out)}: {_reason(exc)}") from None
        except BaseException:
            if not self.done:
                self.discard()
            raise
        return self.out

    def discard(self) -> None:
        """Delete the staging folder (and the parents this run made); the output folder is untouched."""
        with _signals_held():
            if self.path is not None and not self.done:
                shutil.rmtree(self.path, ignore_errors=True)
            self._unlock()
            for folder in reversed(self._created):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            self._created = []

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def __enter__(self) -> "StagedOutput":
        return self.open()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
            return
        self.discard()
        cause = user_os_error(exc)
        if cause is not None and (cause.filename is None or _inside(cause.filename, self.path)):
            # Said of the output folder the user named, not of the staging folder they never saw.
            raise InputError(
                f"cannot write the results to {printable(self.out)}: {os_error_advice(cause)}"
            ) from None


# ----------------------------------------------------------------------------- checks
def check_output_folder(out: str | os.PathLike) -> Path:
    """The output folder (symbolic links resolved) if a new set may replace what is there.

    Raises
    ------
    InputError
        ``out`` is a file, read-only, the current folder (or one above it),
        holds files formcheck did not write, or the folder it would be made in
        is a file.
    """
    given = Path(out)
    out = Path(os.path.realpath(given))
    shown = printable(given)
    if out == Path(out.anchor) or Path.cwd().resolve().is_relative_to(out):
        raise InputError(f"the output folder {shown} is the current folder or one above it; give a folder for the results")
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise InputError(f"the output folder {shown} is a file; give a folder for the results")
        if not os.access(out, os.W_OK | os.X_OK):
            raise InputError(f"the output folder {shown} is read-only; give a folder you can write to")
        foreign = foreign_files(out)
        if foreign:
            listed = ", ".join(printable(name) for name in foreign[:3]) + (", …" if len(foreign) > 3 else "")
            raise InputError(
                f"the output folder {shown} holds files formcheck did not write ({listed}); formcheck replaces its whole "
                "output folder, so give a new or empty folder"
            )
        return out
    ancestor = out.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"the output folder {shown} cannot be made: {printable(ancestor)} is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"the output folder {shown} cannot be made: {printable(ancestor)} is read-only")
    return out


def foreign_files(folder: Path) -> list[str]:
    """Names in ``folder`` that are not part of a formcheck output set (sorted; empty for a set)."""
    names = sorted(os.listdir(folder))
    listed = set_files(folder)
    if listed is not None:
        return [name for name in names if name != MARKER and name not in listed]
    if not names:
        return []
    if _is_formcheck_report(folder / "report.json"):
        return [name for name in names if not _LEGACY_NAME.fullmatch(name)]
    return names  # no list and no report of formcheck's: nothing shows formcheck made it


def _is_formcheck_report(path: Path) -> bool:
    """A ``report.json`` formcheck wrote (it carries formcheck's schema version)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "schema_version" in data and "reps" in data


def set_files(folder: Path) -> set[str] | None:
    """The files a set's list names, or None when ``folder`` has no readable list."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MARKER_FORMAT or not isinstance(data.get("files"), list):
        return None
    return {name for name in data["files"] if isinstance(name, str)}


def is_output_set(folder: str | os.PathLike) -> bool:
    """True for a folder formcheck wrote (with a report) and that holds nothing else."""
    folder = Path(folder)
    return folder.is_dir() and (folder / "report.json").is_file() and not foreign_files(folder)


def seal(folder: Path) -> Path:
    """Write the list of ``folder``'s files (the set) into it; returns the list's path."""
    names = sorted(name for name in os.listdir(folder) if name != MARKER)
    listing = {"format": MARKER_FORMAT, "version": 1, "formcheck_version": FORMCHECK_VERSION, "files": names}
    return write_text_atomic(folder / MARKER, json.dumps(listing, indent=1) + "\n")


# ----------------------------------------------------------------------------- staging folders
def _staging_prefix(out: Path) -> str:
    return f".{os.fsdecode(os.fsencode(out.name)[:_NAME_PART_BYTES])}.formcheck-"


def _staging_pattern(out: Path) -> re.Pattern:
    return re.compile(re.escape(_staging_prefix(out)) + r"(new|old)-\d+-[0-9a-f]{8}")


def _new_staging(out: Path, kind: str = "new") -> tuple[Path, int | None]:
    staging = out.parent / f"{_staging_prefix(out)}{kind}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        staging.mkdir()
    except OSError as exc:
        raise InputError(f"cannot write the results beside {printable(out)}: {_reason(exc)}") from None
    return staging, _lock(staging)


def _lock(folder: Path) -> int | None:
    """An exclusive lock on ``folder`` held while the file descriptor is open (None without flock)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        return None
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


def _abandoned(folder: Path) -> bool:
    """True when no running formcheck holds ``folder`` (its lock is free)."""
    try:
        import fcntl
    except ImportError:
        return time.time() - folder.stat().st_mtime > _STALE_WITHOUT_LOCKS_S
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def remove_abandoned(out: str | os.PathLike) -> int:
    """Remove the staging folders killed runs left beside ``out``; returns how many.

    A previous set that a crash left renamed aside (only where the swap takes
    two renames) is put back first when the output folder is missing.
    """
    out = Path(out)
    if not out.parent.is_dir():
        return 0
    pattern = _staging_pattern(out)
    removed = 0
    for entry in sorted(os.listdir(out.parent)):
        match = pattern.fullmatch(entry)
        folder = out.parent / entry
        if not match or not folder.is_dir() or not _abandoned(folder):
            continue
        if match.group(1) == "old" and not out.exists():
            with contextlib.suppress(OSError):
                os.rename(folder, out)
                continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _make_parents(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; returns those made, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    made = []
    try:
        for path in reversed(missing):
            path.mkdir()
            made.append(path)
    except OSError as exc:
        for path in reversed(made):
            with contextlib.suppress(OSError):
                path.rmdir()
        raise InputError(f"cannot make the folder {printable(path)}: {_reason(exc)}") from None
    return made


def _link_or_copy(source: Path, target: Path) -> None:
    """Carry a file of the current set into the new one (files are replaced, never edited: a link is safe)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


# ----------------------------------------------------------------------------- the swap
def _swap_in(staging: Path, out: Path) -> None:
    """Put the staging folder in place of ``out`` (whose old set is deleted)."""
    if not out.exists():
        try:
            os.rename(staging, out)
            return
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):  # else it appeared meanwhile: exchange
                raise
    if _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # now the previous set
        return
    # No atomic exchange here: two renames. A crash between them leaves the previous set
    # beside the folder, and the next run puts it back (remove_abandoned).
    old = staging.with_name(staging.name.replace(".formcheck-new-", ".formcheck-old-", 1))
    os.rename(out, old)
    os.rename(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where the system or file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _inside(filename, folder: Path) -> bool:
    if filename is None:
        return False
    try:
        return Path(os.fsdecode(filename)).resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _signals_held():
    """Hold SIGTERM and SIGINT until the block ends; one that arrived meanwhile is handled then.

    Only the main thread receives Python's signal handlers, and only POSIX can
    hold signals; elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
