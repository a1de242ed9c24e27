"""The web app's analyses: one small JSON state file each, written atomically.

An analysis goes ``uploading → queued → running → done`` (or ``error`` at any
step, with the reason). The state file lives in ``DATA/.serve/analyses/<id>.json``,
the upload in ``DATA/uploads/<id><suffix>`` and, once done, the results in the
batch layout ``DATA/<client>/upload-<id>/``. Only the server process writes
state files; a restarted server finds every analysis where it was (see
:meth:`AnalysisStore.recover`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from formcheck.io.files import safe_name, write_text_atomic

STATUSES = ("uploading", "queued", "running", "done", "error")
#: Analyses are named by 16 hex digits: nothing else is ever taken as an id (no paths).
ID_PATTERN = re.compile(r"[0-9a-f]{16}")
#: Client of uploads that name none.
UNASSIGNED = "unassigned"
UPLOADS = "uploads"
STATE_DIR = Path(".serve") / "analyses"
#: Suffixes kept on stored uploads (the content is probed; the suffix only helps people who open the folder).
KEPT_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp", ".mts"})


@dataclass(frozen=True)
class Analysis:
    """One uploaded video and what became of it.

    Attributes
    ----------
    id : str
        16 hex digits.
    status : str
        One of :data:`STATUSES`.
    progress : float
        0–1.
    error : str or None
        Why it failed, in words (file names as the user gave them).
    name : str
        The upload's file name as given (shown escaped, never used as a path).
    client, exercise : str
    upload : str
        Stored file name inside ``DATA/uploads``.
    set_id : str
        Results folder below DATA (batch layout).
    size : int
        Bytes uploaded.
    sha256 : str or None
        Content hash, computed while receiving.
    created_at, updated_at : str
        ISO times.
    """

    id: str
    status: str
    name: str
    client: str
    exercise: str
    upload: str
    set_id: str
    progress: float = 0.0
    error: str | None = None
    size: int = 0
    sha256: str | None = None
    created_at: str = ""
    updated_at: str = ""

    def public(self) -> dict:
        """The API's view (``GET /api/analyses/{id}`` without the report)."""
        return {
            "id": self.id, "status": self.status, "progress": round(self.progress, 3), "error": self.error,
            "name": self.name, "client": self.client, "exercise": self.exercise, "set_id": self.set_id,
            "size": self.size, "created_at": self.created_at,
        }


def new_id() -> str:
    """A fresh analysis id.

    >>> bool(ID_PATTERN.fullmatch(new_id()))
    True
    """
    return secrets.token_hex(8)


def stored_suffix(name: str) -> str:
    """The suffix a stored upload gets: the given one if it is a known video suffix, else ``.video``.

    >>> stored_suffix("Squat.MOV"), stored_suffix("../../x"), stored_suffix("<script>.mp4")
    ('.mov', '.video', '.mp4')
    """
    suffix = Path(name.replace("\\", "/")).suffix.lower()
    return suffix if suffix in KEPT_SUFFIXES else ".video"


def shown_name(name: str) -> str:
    """The upload's name as given, without a browser's fake path and control characters (at most 200 characters).

    >>> shown_name("C:\\\\fakepath\\\\set 1.mp4"), shown_name("a\\x00b.mp4")
    ('set 1.mp4', 'ab.mp4')
    """
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:200] or "video"


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="microseconds")


class AnalysisStore:
    """The analyses of a data folder.

    Parameters
    ----------
    data : Path
        The data folder.
    """

    def __init__(self, data: Path):
        self.data = Path(data)
        self.states = self.data / STATE_DIR
        self.uploads = self.data / UPLOADS
        self.states.mkdir(parents=True, exist_ok=True)
        self.uploads.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ paths
    def upload_path(self, analysis: Analysis) -> Path:
        return self.uploads / analysis.upload

    def result_dir(self, analysis: Analysis) -> Path:
        return self.data / analysis.set_id

    def _state_path(self, analysis_id: str) -> Path:
        if not ID_PATTERN.fullmatch(analysis_id):
            raise KeyError(analysis_id)
        return self.states / f"{analysis_id}.json"

    # ------------------------------------------------------------------ reading
    def get(self, analysis_id: str) -> Analysis | None:
        """The analysis, or None (unknown, or not an id at all)."""
        try:
            text = self._state_path(analysis_id).read_text(encoding="utf-8")
            return Analysis(**json.loads(text))
        except (KeyError, OSError, ValueError, TypeError):
            return None

    def all(self) -> list[Analysis]:
        """Every analysis, newest first."""
        found = [self.get(p.stem) for p in self.states.glob("*.json")]
        return sorted((a for a in found if a is not None), key=lambda a: (a.created_at, a.id), reverse=True)

    # ------------------------------------------------------------------ writing
    def create(self, name: str, client: str | None, exercise: str) -> Analysis:
        """A new analysis in state ``uploading`` (before a byte of the video is stored)."""
        analysis_id = new_id()
        client = (client or "").strip()[:100] or UNASSIGNED
        stamp = now()
        analysis = Analysis(
            id=analysis_id, status="uploading", name=shown_name(name), client=client, exercise=exercise,
            upload=f"{analysis_id}{stored_suffix(name)}", set_id=f"{safe_name(client)}/upload-{analysis_id}",
            created_at=stamp, updated_at=stamp,
        )
        return self.save(analysis)

    def save(self, analysis: Analysis) -> Analysis:
        write_text_atomic(self._state_path(analysis.id), json.dumps(asdict(analysis), indent=1) + "\n")
        return analysis

    def update(self, analysis: Analysis, **changes) -> Analysis:
        """Save ``analysis`` with ``changes`` (and the time)."""
        return self.save(replace(analysis, **changes, updated_at=now()))

    def delete(self, analysis: Analysis) -> None:
        """Remove the state file and the upload (the caller removes the results)."""
        self.upload_path(analysis).unlink(missing_ok=True)
        self._state_path(analysis.id).unlink(missing_ok=True)

    def recover(self) -> list[Analysis]:
        """After a (re)start: what to queue again, oldest first.

        A server stopped mid-analysis (even by ``kill -9``) left it ``running``
        or ``queued``: it is queued again from the start (the batch job's
        staging folder makes a half-done analysis invisible). An upload that
        was still arriving left ``uploading``: kept as queued if the file was
        completely stored (it is renamed into place only when complete),
        otherwise dropped. Half-received files (``.tmp-*``) are removed.
        """
        for partial in self.uploads.glob(".tmp-*"):
            partial.unlink(missing_ok=True)
        again = []
        for analysis in sorted(self.all(), key=lambda a: (a.created_at, a.id)):
            if analysis.status == "uploading":
                if not self.upload_path(analysis).is_file():
                    self.delete(analysis)
                    continue
            if analysis.status in ("uploading", "queued", "running"):
                again.append(self.update(analysis, status="queued", progress=0.0))
        return again
