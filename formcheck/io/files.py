"""Files: atomic writing (readers see the old file or the new one, never half of one), safe names,
names that are not valid text, spreadsheet-safe cells and content digests."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from formcheck.errors import InputError


def default_file_mode() -> int:
    """0o666 less the process umask: what ``open()`` would have given the file
    (``mkstemp`` creates files readable by the owner only)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it once the block finishes.

    Write the file at the yielded path (any writer that takes a path); on
    success it gets the permissions ``open()`` would have given it and is
    moved over ``path`` in one step, on an exception it is deleted. The
    temporary file keeps ``path``'s suffix (or ``suffix``), which some
    writers use to choose the format.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix if suffix is None else suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces ``path`` once the block finishes (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        yield fh


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write a text file via a temporary file in the same folder and ``os.replace``."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write a file via a temporary file in the same folder and ``os.replace``."""
    with atomic_file(path) as fh:
        fh.write(data)
    return Path(path)


def safe_name(name: str) -> str:
    """A safe single path component: no separators, no leading dots (no ``..``).

    >>> safe_name("../../etc/passwd"), safe_name("Anna B."), safe_name("..")
    ('_.._etc_passwd', 'Anna B', '_')
    """
    cleaned = re.sub(r"[^\w.\- ]+", "_", name).strip(" .")
    return cleaned or "_"


def printable(name: str | os.PathLike) -> str:
    """A file name as valid text, for pages, CSV cells, databases and the terminal.

    Python hands over a name holding bytes that are not UTF-8 (``caf\\xe9.mp4``
    from an old phone or a USB stick) as text with *surrogate* escapes, which
    cannot be written to a UTF-8 file. Here each such byte becomes U+FFFD
    (``�``); the name itself is never changed on disk, and ``report.json``
    keeps the exact name (JSON escapes the surrogates).

    >>> import os
    >>> printable(os.fsdecode(b"caf\\xe9 set.mp4")), printable("café.mp4")
    ('caf\ufffd set.mp4', 'café.mp4')
    """
    text = os.fspath(name)
    if isinstance(text, bytes):
        return text.decode("utf-8", "replace")
    try:
        return os.fsencode(text).decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that did not come from a file name
        return text.encode("utf-8", "replace").decode("utf-8")


#: A spreadsheet reads a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell a spreadsheet will not run as a formula: text starting with ``= + - @``,
    a tab or a carriage return gets a leading apostrophe; numbers pass unchanged.

    Names come from folder names and manifests, which anyone who sends a video controls.

    >>> spreadsheet_safe("=1+1"), spreadsheet_safe("@SUM(A1)"), spreadsheet_safe("-0.25"), spreadsheet_safe("anna")
    ("'=1+1", "'@SUM(A1)", '-0.25', 'anna')
    """
    if isinstance(value, str):
        value = printable(value)
        if value.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):  # a number is no formula
            return "'" + value
    return value


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's content (hex), remembered for the file's size and modification time.

    Phone videos are large: a run that needs the digest twice (the track's source,
    the report's check of its video) reads the file once.
    """
    stat = os.stat(path)
    return _sha256_of(os.path.realpath(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def require_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``path`` if it is a regular file that can be read, else :class:`~formcheck.errors.InputError`
    naming what it is instead (missing, a folder, a pipe, a device, empty, unreadable).

    A pipe or device is refused before anything opens it: reading one could
    wait forever, and its size says nothing.

    >>> require_file("/dev/null", "landmark track")
    Traceback (most recent call last):
    formcheck.errors.InputError: /dev/null is a device, not a landmark track
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except NotADirectoryError:
        raise InputError(f"{path} does not exist (a part of the path is a file, not a folder)") from None
    except PermissionError:
        raise InputError(f"{path} cannot be read (permission denied)") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be opened: {exc.strerror or exc}") from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise InputError(f"{path} is a folder, not a {what}")
    if stat.S_ISFIFO(mode):
        raise InputError(f"{path} is a pipe, not a {what}: save what it carries to a file first")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        hint = " (for a camera, use formcheck live --camera N)" if what.startswith("video") else ""
        raise InputError(f"{path} is a device, not a {what}{hint}")
    if not stat.S_ISREG(mode):
        raise InputError(f"{path} is not a regular file, so not a {what}")
    if info.st_size == 0:
        raise InputError(f"{path} is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path} cannot be read (permission denied)")
    return path
