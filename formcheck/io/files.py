"""Files: atomic writing (readers see the old file or the new one, never half of one) and safe names."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


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
