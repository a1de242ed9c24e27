"""Receiving an upload: the multipart body streamed to disk, never held in memory.

``POST /api/analyses`` carries the video in the multipart field ``video``
(and optionally ``client`` and ``exercise``). The body is parsed as it
arrives (python-multipart's streaming parser): the video's bytes go straight
into a temporary file beside their final place, counted and hashed on the
way. Past the size limit the transfer stops at once and the partial file is
deleted, so an oversized upload is refused at the limit without being
stored; a ``Content-Length`` above the limit is refused before a byte is
read. A complete upload is renamed into place (atomic), so the uploads
folder never holds half a video under a real name.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator

from python_multipart.multipart import MultipartParser, parse_options_header

from formcheck.apps.serve.store import Analysis, AnalysisStore

#: Room for the multipart framing and the small fields on top of the video's own limit.
FORM_OVERHEAD = 64 * 1024
MAX_FIELD_BYTES = 1024
MAX_FIELDS = 16


class UploadError(Exception):
    """A request the server refuses, with its HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)
    headers: dict[bytes, bytes] = field(default_factory=dict)


class _VideoSink:
    """The video part's bytes: into a temporary file in the uploads folder, counted and hashed."""

    def __init__(self, folder: Path, limit: int):
        import tempfile

        fd, name = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".upload")
        self.path = Path(name)
        self.file = os.fdopen(fd, "wb")
        self.limit = limit
        self.size = 0
        self.digest = hashlib.sha256()
        self.too_large = False

    def write(self, data: bytes) -> None:
        if self.too_large:
            return
        self.size += len(data)
        if self.size > self.limit:
            self.too_large = True
            return
        self.digest.update(data)
        self.file.write(data)

    def finish(self, final: Path) -> None:
        """Flush to disk and rename into place."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        from formcheck.io.files import default_file_mode

        os.chmod(self.path, default_file_mode())
        os.replace(self.path, final)

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        self.path.unlink(missing_ok=True)


class UploadReceiver:
    """Parses one upload request's body (see the module docstring).

    Parameters
    ----------
    store : AnalysisStore
    content_type : str
        The request's ``Content-Type`` header.
    max_bytes : int
        Largest video accepted.
    exercises : collection of str
        Accepted values of the ``exercise`` field.
    """

    def __init__(self, store: AnalysisStore, content_type: str, max_bytes: int, exercises):
        kind, options = parse_options_header(content_type or "")
        if kind != b"multipart/form-data" or not options.get(b"boundary"):
            raise UploadError(400, "send the video as multipart/form-data in the field 'video'")
        self.store = store
        self.max_bytes = max_bytes
        self.exercises = set(exercises)
        self.fields: dict[str, str] = {}
        self.part = _Part()
        self.header_name = b""
        self.header_value = b""
        self.sink: _VideoSink | None = None
        self.video_name: str | None = None
        self.problem: UploadError | None = None
        self.parser = MultipartParser(
            options[b"boundary"],
            {
                "on_part_begin": self._part_begin,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
            },
        )

    async def receive(self, chunks: AsyncIterator[bytes], content_length: int | None) -> Analysis:
        """Read the body and return the analysis (state ``uploading``, video in place).

        Raises
        ------
        UploadError
            413 past the size limit (nothing kept), 400 for a malformed form
            or a missing video.
        """
        if content_length is not None and content_length > self.max_bytes + FORM_OVERHEAD:
            raise UploadError(413, self._too_large())
        try:
            async for chunk in chunks:
                self.parser.write(chunk)
                if self.problem is not None:
                    raise self.problem
                if self.sink is not None and self.sink.too_large:
                    raise UploadError(413, self._too_large())
            self.parser.finalize()
        except UploadError:
            self._discard()
            raise
        except BaseException as exc:  # a malformed body or a client that went away: keep nothing
            self._discard()
            from python_multipart.exceptions import FormParserError

            if isinstance(exc, FormParserError):
                raise UploadError(400, "the upload is not a well-formed multipart form") from None
            raise
        if self.sink is None or self.video_name is None:
            raise UploadError(400, "no video in the upload (multipart field 'video')")
        return self._store()

    # ------------------------------------------------------------------ the stored analysis
    def _store(self) -> Analysis:
        exercise = self.fields.get("exercise", "auto").strip().lower() or "auto"
        if exercise not in self.exercises:
            self._discard()
            raise UploadError(400, f"unknown exercise {exercise!r}: one of {', '.join(sorted(self.exercises))}")
        analysis = self.store.create(self.video_name, self.fields.get("client"), exercise)
        try:
            self.sink.finish(self.store.upload_path(analysis))
        except BaseException:
            self.sink.discard()
            self.store.delete(analysis)
            raise
        return self.store.update(analysis, size=self.sink.size, sha256=self.sink.digest.hexdigest())

    def _discard(self) -> None:
        if self.sink is not None:
            self.sink.discard()

    def _too_large(self) -> str:
        return f"the video is larger than the limit of {self.max_bytes / 1024 / 1024:.0f} MB (--max-upload-mb)"

    # ------------------------------------------------------------------ parser callbacks
    def _part_begin(self) -> None:
        self.part = _Part()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def _header_end(self) -> None:
        self.part.headers[self.header_name.lower()] = self.header_value
        self.header_name, self.header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            # Browsers (and httpx) send '"', CR and LF in file names as %22, %0D, %0A (WHATWG multipart rule).
            name = options[b"filename"].decode("utf-8", "replace")
            self.part.filename = name.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")
        if self.part.name == "video" and self.part.filename is not None:
            if self.sink is not None:
                self.problem = UploadError(400, "one video per upload")
                return
            self.sink = _VideoSink(self.store.uploads, self.max_bytes)
            self.video_name = self.part.filename or "video"

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.name == "video" and self.part.filename is not None and self.sink is not None:
            self.sink.write(data[start:end])
        elif self.part.filename is None:  # a small text field
            self.part.data += data[start:end]
            if len(self.part.data) > MAX_FIELD_BYTES:
                self.problem = UploadError(400, f"the field {self.part.name!r} is too long")
        # any other file part is ignored, not stored

    def _part_end(self) -> None:
        if self.part.filename is None and self.part.name:
            if len(self.fields) >= MAX_FIELDS:
                self.problem = UploadError(400, "too many form fields")
                return
            self.fields[self.part.name] = bytes(self.part.data).decode("utf-8", "replace")
