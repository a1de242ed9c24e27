"""Bad and unusual inputs, made tiny, and what formcheck must do with each.

Shared by ``tests/test_bad_input.py`` (the kinds that need neither the pose
model nor a signal, run in this process) and ``benchmarks/bad_input_sweep.py``
(every kind, each in its own ``formcheck`` process, the pose model and signals
included).

A *kind* is one :class:`Case`: how to make its input in a fresh work folder,
the command line, and the exit status and words expected. Every case runs
against a work folder whose ``prev/`` holds the complete output set of an
earlier, good analysis; :func:`defects` then checks, beyond the exit status
and the message:

- stderr is one line (two for argparse's usage errors), with no traceback, no
  "internal error" and no Python warning;
- no temporary or staging file is left anywhere in the work folder;
- a failed run left ``prev/`` byte-identical; a run that succeeded into it
  left one complete set (its list names exactly its files).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from conftest import cycle, stick_track

#: A file name whose bytes are not UTF-8 (Latin-1 "café"), as Python hands it over.
CAFE = os.fsdecode(b"caf\xe9 set")
#: Exit statuses (docs/errors.md).
OK, INPUT, NO_PERSON, INTERRUPTED, TERMINATED = 0, 2, 3, 130, 143
#: Names a run must not leave behind (temporary files, staging folders, the writer's part files).
LEFTOVER = re.compile(r"(^\.tmp-|\.formcheck-(new|old)-|\.part\.|^\.annotated\.)")


# ----------------------------------------------------------------------------- tiny inputs
class Inputs:
    """Tiny generated inputs, made once per session folder and shared read-only by the cases."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _once(self, name: str, make: Callable[[Path], None]) -> Path:
        path = self.root / name
        if not path.exists():
            make(path)
        return path

    # one squat rep of a stick figure (640×480, 30 fps) and a video of the same frames
    def legacy_track(self) -> Path:
        """A track as formcheck saved them before it recorded its video's digest."""
        return self._once("legacy.npz", lambda p: one_rep_track().save(p))

    def video(self) -> Path:
        return self._once("set.mp4", lambda p: write_video(p, len(one_rep_track()), (640, 480)))

    def track(self) -> Path:
        """The video's track, recording the video's digest (as ``formcheck analyze`` saves it)."""
        from formcheck.io.files import file_sha256

        video = self.video()
        return self._once("set.npz", lambda p: with_meta(one_rep_track(), source=str(video),
                                                         source_sha256=file_sha256(video)).save(p))

    def other_video(self) -> Path:
        """Same size and frame count as :meth:`video`, other content."""
        return self._once("other.mp4", lambda p: write_video(p, len(one_rep_track()), (640, 480), grey=150))

    def smaller_video(self) -> Path:
        return self._once("small.mp4", lambda p: write_video(p, len(one_rep_track()), (320, 240)))

    def shorter_video(self) -> Path:
        return self._once("short.mp4", lambda p: write_video(p, len(one_rep_track()) // 2, (640, 480)))

    def no_person_track(self) -> Path:
        def make(p: Path) -> None:
            from formcheck.pose.track import PoseFrame, PoseTrack

            PoseTrack.from_frames([PoseFrame.empty(i / 30) for i in range(40)], (640, 480), {"source": "empty"}).save(p)
        return self._once("nobody.npz", make)

    def cafe_video(self) -> Path:
        """The video under a name that is not UTF-8, with its track beside it."""
        return self._once(f"{CAFE}.mp4", lambda p: shutil.copy(self.video(), p))

    def cafe_track(self) -> Path:
        return self._once(f"{CAFE}.npz", lambda p: shutil.copy(self.track(), p))

    def avi(self, rate: int, usec_per_frame: int) -> Path:
        """A 30 fps AVI whose headers are patched to these values (0 = none declared)."""
        def make(p: Path) -> None:
            write_video(p, 30, (64, 48), codec="mpeg4")
            data = bytearray(p.read_bytes())
            avih, strh = data.find(b"avih"), data.find(b"strh")
            struct.pack_into("<I", data, avih + 8, usec_per_frame)
            struct.pack_into("<I", data, strh + 32, rate)
            p.write_bytes(bytes(data))
        return self._once(f"rate{rate}-usec{usec_per_frame}.avi", make)


def one_rep_track():
    """One bodyweight squat of the conftest stick figure: 50 frames, 640×480, 30 fps."""
    return stick_track(cycle(30, 1, 5, 140, stand_frames=10), cycle(30, 1, 5, 110, stand_frames=10), arms_down=False)


def with_meta(track, **meta):
    return replace(track, meta={**track.meta, **meta})


def write_video(path: Path, frames: int, size: tuple[int, int], grey: int = 90, codec: str = "mpeg4") -> None:
    """``frames`` plain frames (a moving bar, so no two are alike) at 30 fps."""
    import av

    width, height = size
    with av.open(os.fsdecode(path), "w") as container:
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = np.full((height, width, 3), grey, np.uint8)
            image[:, (i * 7) % width] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


# ----------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    """One kind of bad or unusual input.

    Attributes
    ----------
    kind : str
        Short name (the test id).
    category : str
        The issue's heading it belongs to.
    argv : callable
        ``(inputs, work) -> list[str]``: makes whatever the case needs in the
        work folder (``work / "prev"`` holds the previous output set) and
        returns the ``formcheck`` arguments.
    code : int
        Expected exit status.
    words : str
        Expected in the message (stderr), or in stdout when the run succeeds.
    check : callable, optional
        ``(work, stdout, stderr) -> list of str``: further defects.
    where : str
        ``"process"``: runs in the test process; ``"workers"``: too, but
        starts batch worker processes (slow tier); ``"subprocess"``: only in a
        ``formcheck`` process of its own (a crash must not take the tests
        down); ``"pose"``: runs the pose model (the sweep only).
    """

    kind: str
    category: str
    argv: Callable[[Inputs, Path], list[str]]
    code: int
    words: str = ""
    check: Callable[[Path, str, str], list[str]] | None = None
    where: str = "process"
    env: dict = field(default_factory=dict)
    file_size_limit: int | None = None  # bytes a file may grow to (RLIMIT_FSIZE): a full disk, mid-write
    progress_on_stderr: bool = False  # the command says what it is doing on stderr (demo)


def analyze_prev(inputs: Inputs, work: Path, *extra: str) -> list[str]:
    return ["analyze", str(inputs.video()), "--landmarks", str(inputs.track()), "--out", str(work / "prev"), *extra]


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _profile(work: Path, text: str) -> str:
    return str(_write(work / "mine.toml", text))


def _npz(work: Path, name: str, **arrays) -> str:
    path = work / name
    np.savez(path, **arrays)
    return str(path)


def _track_with_header(inputs: Inputs, work: Path, edit: Callable[[dict], dict]) -> str:
    with np.load(inputs.track()) as data:
        arrays = {k: data[k] for k in data.files}
    header = edit(json.loads(str(arrays.pop("header"))))
    return _npz(work, "edited.npz", header=np.array(json.dumps(header)), **arrays)


def _fifo(work: Path) -> str:
    path = work / "stream.mp4"
    os.mkfifo(path)
    return str(path)


def _report_edit(work: Path, edit: Callable[[dict], object]) -> list[str]:
    report = work / "prev" / "report.json"
    data = json.loads(report.read_text())
    report.write_text(json.dumps(edit(data)))
    return ["report", str(work / "prev")]


def _batch_tree(inputs: Inputs, work: Path, client: str, name: str = "set.mp4") -> Path:
    """clients/<client>/<name> plus a landmark cache holding its track (no pose model needed)."""
    from formcheck.io.files import file_sha256

    video = work / "clients" / client / name
    video.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(inputs.video(), video)
    cache = work / "cache"
    cache.mkdir(exist_ok=True)
    shutil.copy(inputs.track(), cache / f"{file_sha256(video)}.npz")
    return video


def _batch(inputs: Inputs, work: Path, client: str, name: str = "set.mp4") -> list[str]:
    _batch_tree(inputs, work, client, name)
    return ["batch", str(work / "clients"), "--out", str(work / "coach"), "--cache", str(work / "cache"),
            "--workers", "1", "--no-video", "--quiet"]


def _history_db(work: Path) -> Path:
    import sqlite3

    path = work / "history.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS notes (text TEXT)")
        db.execute("INSERT INTO notes VALUES ('mine')")
    return path


# checks ------------------------------------------------------------------------
def _replaced_whole(work: Path, *absent: str) -> list[str]:
    prev = work / "prev"
    return [f"{name} of the previous run is still in {prev}" for name in absent if (prev / name).exists()]


def _csv_cells_neutral(work: Path) -> list[str]:
    import csv

    problems = []
    for name in ("roster.csv", "sets.csv"):
        path = work / "coach" / name
        if not path.is_file():
            problems.append(f"{name} not written")
            continue
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        cells = [cell for row in rows[1:] for cell in row]
        problems += [f"{name}: cell {cell!r} would run as a formula" for cell in cells
                     if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"[-+]?\d+(\.\d*)?", cell)]
        if not any(cell.startswith("'") for cell in cells):
            problems.append(f"{name}: the formula-like name is not in it")
    return problems


def _batch_outputs_valid_text(work: Path) -> list[str]:
    problems = []
    for name in ("roster.csv", "sets.csv", "index.html"):
        path = work / "coach" / name
        if not path.is_file():
            problems.append(f"{name} not written")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(f"{name} is not valid UTF-8")
            continue
        if name != "roster.csv" and "caf\ufffd" not in text:
            problems.append(f"{name} does not show the name with U+FFFD")
    page = (work / "coach" / "index.html").read_text(encoding="utf-8") if (work / "coach" / "index.html").is_file() else ""
    if "caf%E9" not in page:
        problems.append("index.html does not link the file by its exact bytes (caf%E9)")
    return problems


def _source_round_trips(work: Path, folder: str = "prev") -> list[str]:
    report = json.loads((work / folder / "report.json").read_text(encoding="utf-8"))
    source = os.fsencode(report["source"])
    return [] if b"caf\xe9" in source else [f"report.json source lost the file name's bytes: {source!r}"]


def _has_page(work: Path, folder: str = "prev") -> list[str]:
    page = work / folder / "report.html"
    return [] if page.is_file() and page.read_text(encoding="utf-8") else [f"no report.html in {folder}"]


def _untouched(*names: str) -> Callable[[Path, str, str], list[str]]:
    def check(work: Path, stdout: str, stderr: str) -> list[str]:
        problems = []
        for name in names:
            path = work / name
            if not path.exists() or path.read_bytes() != f"mine: {name}".encode():
                problems.append(f"{name}, a file formcheck did not write, was changed or removed")
        return problems
    return check


def _users_files(work: Path, folder: str, *names: str) -> None:
    for name in names:
        _write(work / folder / name, f"mine: {folder}/{name}")


def _folder_absent(name: str) -> Callable[[Path, str, str], list[str]]:
    def check(work: Path, stdout: str, stderr: str) -> list[str]:
        return [f"{name} was created before the input was checked"] if (work / name).exists() else []
    return check


def _db_unchanged(work: Path, stdout: str, stderr: str) -> list[str]:
    import sqlite3

    with contextlib.closing(sqlite3.connect(work / "history.sqlite")) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return [] if tables == {"notes"} else [f"another program's database was changed: tables {sorted(tables)}"]


def _fps_is(expected: float) -> Callable[[Path, str, str], list[str]]:
    def check(work: Path, stdout: str, stderr: str) -> list[str]:
        fps = json.loads((work / "avi.out" / "report.json").read_text())["video"]["fps"]
        return [] if abs(fps - expected) < 0.1 else [f"fps read as {fps}, not {expected}"]
    return check


def _checks(*checks) -> Callable[[Path, str, str], list[str]]:
    return lambda work, out, err: [problem for check in checks for problem in check(work, out, err)]


def _text_in(path_in_work: str, words: str) -> Callable[[Path, str, str], list[str]]:
    def check(work: Path, stdout: str, stderr: str) -> list[str]:
        path = work / path_in_work
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        return [] if words in text else [f"{path_in_work} does not say {words!r}"]
    return check


SET = "one output set per run"
LANDMARKS = "--landmarks must match the video"
NAMES = "file names as bytes"
CAMERA = "camera indices"
ORDINARY = "ordinary mistakes, not internal errors"
SILENT = "data not taken silently"
COSMETIC = "cosmetic"
VIDEO = "unreadable or odd videos"
TRACK = "landmark tracks"
PROFILE = "profiles"
OUT = "output folders"
REPORT = "formcheck report"
BATCH = "batch, roster, history"
ARGS = "arguments"

CASES: list[Case] = [
    # -- one output set per run ---------------------------------------------------------
    Case("no-person-into-used-out", SET,
         lambda i, w: ["analyze", str(i.no_person_track()), "--out", str(w / "prev")], NO_PERSON, "no person",
         check=lambda w, o, e: _replaced_whole(w, "angles.csv", "annotated.mp4")),
    Case("no-video-into-used-out", SET, lambda i, w: analyze_prev(i, w, "--no-video"), OK, "Results in",
         check=lambda w, o, e: _replaced_whole(w, "annotated.mp4")),
    Case("reanalyse-own-landmarks-in-place", SET,
         lambda i, w: ["analyze", str(w / "prev" / "landmarks.npz"), "--out", str(w / "prev")], OK, "Results in",
         check=lambda w, o, e: _replaced_whole(w, "annotated.mp4")),
    Case("disk-full-mid-run", SET, lambda i, w: analyze_prev(i, w), INPUT, "cannot write the results",
         where="subprocess", file_size_limit=20_000),
    Case("disk-full-writing-the-page", SET, lambda i, w: ["report", str(w / "prev")], INPUT,
         "cannot write the results", where="subprocess", file_size_limit=4_000),
    Case("stale-staging-from-killed-run", SET,
         lambda i, w: (_write(w / ".prev.formcheck-new-999999-0123abcd" / "annotated.mp4", b"half"),
                       analyze_prev(i, w, "--no-video"))[1], OK, "Results in"),
    Case("stale-aside-set-restored", SET,
         lambda i, w: (os.rename(w / "prev", w / ".prev.formcheck-old-999999-0123abcd"),
                       ["report", str(w / "prev")])[1], OK, "report.html"),
    Case("out-holds-users-files", OUT,
         lambda i, w: (_users_files(w, "desktop", "notes.txt", "photo.jpg"),
                       analyze_prev(i, w)[:-1] + [str(w / "desktop")])[1], INPUT, "did not write",
         check=_untouched("desktop/notes.txt", "desktop/photo.jpg")),
    Case("out-set-plus-users-file", OUT,
         lambda i, w: (_users_files(w, "prev", "notes.txt"), analyze_prev(i, w))[1], INPUT, "notes.txt",
         check=_untouched("prev/notes.txt")),
    Case("out-is-a-file", OUT, lambda i, w: analyze_prev(i, w)[:-1] + [str(_write(w / "out.txt", "x"))], INPUT,
         "is a file"),
    Case("out-under-a-file", OUT, lambda i, w: analyze_prev(i, w)[:-1] + [str(_write(w / "f.txt", "x") / "sub")],
         INPUT, "is a file"),
    Case("out-is-the-current-folder", OUT,
         lambda i, w: (os.chdir(w), analyze_prev(i, w)[:-1] + ["."])[1], INPUT, "current folder"),
    Case("out-empty-existing-folder", OUT,
         lambda i, w: ((w / "empty").mkdir(), analyze_prev(i, w)[:-1] + [str(w / "empty")])[1], OK, "Results in"),
    Case("out-symlink-to-folder", OUT,
         lambda i, w: (os.symlink(w / "prev", w / "link"), analyze_prev(i, w)[:-1] + [str(w / "link")])[1], OK,
         "Results in", check=lambda w, o, e: [] if (w / "link").is_symlink() else ["the link was replaced"]),
    Case("out-nested-new-folders", OUT, lambda i, w: analyze_prev(i, w)[:-1] + [str(w / "a" / "b" / "c")], OK,
         "Results in"),
    Case("default-out-name-too-long", OUT,
         lambda i, w: (os.chdir(w), ["analyze", str(shutil.copy(i.video(), w / ("x" * 250 + ".mp4"))),
                                     "--landmarks", str(i.track()), "--no-video"])[1], OK, "Results in"),
    Case("no-out-created-for-missing-video", OUT,
         lambda i, w: ["analyze", str(w / "nope.mp4"), "--out", str(w / "never")], INPUT, "does not exist",
         check=_folder_absent("never")),
    Case("no-out-created-for-bad-profile", OUT,
         lambda i, w: analyze_prev(i, w)[:-1] + [str(w / "never"), "--profile", _profile(w, "[squat")], INPUT,
         "not valid TOML", check=_folder_absent("never")),
    # -- --landmarks must match the video ------------------------------------------------
    Case("landmarks-other-content", LANDMARKS,
         lambda i, w: ["analyze", str(i.other_video()), "--landmarks", str(i.track()), "--out", str(w / "prev")],
         INPUT, "another video"),
    Case("landmarks-other-frame-size", LANDMARKS,
         lambda i, w: ["analyze", str(i.smaller_video()), "--landmarks", str(i.legacy_track()), "--out", str(w / "prev")],
         INPUT, "640×480"),
    Case("landmarks-other-frame-count", LANDMARKS,
         lambda i, w: ["analyze", str(i.shorter_video()), "--landmarks", str(i.legacy_track()), "--out", str(w / "prev")],
         INPUT, "frames"),
    Case("landmarks-legacy-matching", LANDMARKS,
         lambda i, w: ["analyze", str(i.video()), "--landmarks", str(i.legacy_track()), "--out", str(w / "prev")],
         OK, "Results in"),
    Case("landmarks-given-twice", LANDMARKS,
         lambda i, w: ["analyze", str(i.track()), "--landmarks", str(i.track()), "--out", str(w / "prev")],
         INPUT, "landmark track already"),
    # -- landmark tracks that are not tracks ---------------------------------------------
    Case("landmarks-missing", TRACK, lambda i, w: analyze_prev(i, w)[:3] + [str(w / "no.npz"), "--out", str(w / "prev")],
         INPUT, "does not exist"),
    Case("landmarks-folder", TRACK,
         lambda i, w: ((w / "dir.npz").mkdir(), analyze_prev(i, w)[:3] + [str(w / "dir.npz"), "--out", str(w / "prev")])[1],
         INPUT, "is a folder"),
    Case("landmarks-empty", TRACK,
         lambda i, w: analyze_prev(i, w)[:3] + [str(_write(w / "e.npz", b"")), "--out", str(w / "prev")], INPUT, "empty"),
    Case("landmarks-truncated", TRACK,
         lambda i, w: ["analyze", str(_write(w / "cut.npz", i.track().read_bytes()[:3000])), "--out", str(w / "prev")],
         INPUT, "damaged or cut short"),
    Case("landmarks-npy-renamed", TRACK,
         lambda i, w: (np.save(w / "a.npy", np.zeros(3)),
                       ["analyze", str(shutil.move(w / "a.npy", w / "a.npz")), "--out", str(w / "prev")])[1],
         INPUT, ".npy"),
    Case("landmarks-text", TRACK,
         lambda i, w: ["analyze", str(_write(w / "t.npz", "not a track\n")), "--out", str(w / "prev")], INPUT,
         "not a formcheck landmark track"),
    Case("landmarks-other-npz", TRACK,
         lambda i, w: ["analyze", _npz(w, "x.npz", x=np.zeros(2)), "--out", str(w / "prev")], INPUT,
         "not a formcheck landmark track"),
    Case("landmarks-future-version", TRACK,
         lambda i, w: ["analyze", _track_with_header(i, w, lambda h: {**h, "version": 99}), "--out", str(w / "prev")],
         INPUT, "version 99"),
    Case("landmarks-bad-frame-size", TRACK,
         lambda i, w: ["analyze", _track_with_header(i, w, lambda h: {**h, "frame_size": "big"}), "--out", str(w / "prev")],
         INPUT, "frame_size"),
    Case("landmarks-header-not-json", TRACK,
         lambda i, w: ["analyze", _npz(w, "h.npz", header=np.array("{broken")), "--out", str(w / "prev")], INPUT,
         "header is damaged"),
    Case("landmarks-wrong-shapes", TRACK,
         lambda i, w: ["analyze", _npz(w, "s.npz", header=np.array(json.dumps(
             {"format": "formcheck.PoseTrack", "version": 1, "frame_size": [640, 480], "meta": {}})),
             time_s=np.arange(3.0), xy=np.zeros((3, 2)), z=np.zeros(3), visibility=np.zeros(3), presence=np.zeros(3),
             world=np.zeros(3), trunk_edges=np.zeros(3)), "--out", str(w / "prev")], INPUT, "damaged landmark track"),
    Case("landmarks-text-arrays", TRACK,
         lambda i, w: ["analyze", _npz(w, "u.npz", header=np.array(json.dumps(
             {"format": "formcheck.PoseTrack", "version": 1, "frame_size": [640, 480], "meta": {}})),
             time_s=np.array(["a", "b"]), xy=np.zeros((2, 33, 2)), z=np.zeros((2, 33)), visibility=np.zeros((2, 33)),
             presence=np.zeros((2, 33)), world=np.zeros((2, 33, 3)), trunk_edges=np.zeros((2, 21, 2, 2))),
             "--out", str(w / "prev")], INPUT, "not numbers"),
    # -- file names as bytes ------------------------------------------------------------
    Case("non-utf8-video-name", NAMES,
         lambda i, w: ["analyze", str(i.cafe_video()), "--landmarks", str(i.cafe_track()), "--out", str(w / "prev")],
         OK, "Results in", check=lambda w, o, e: _source_round_trips(w) + _has_page(w)),
    Case("non-utf8-out-name", NAMES, lambda i, w: analyze_prev(i, w)[:-1] + [str(w / CAFE)], OK, "caf\ufffd",
         check=lambda w, o, e: _has_page(w, CAFE)),
    Case("non-utf8-default-out", NAMES,
         lambda i, w: (os.chdir(w), ["analyze", str(i.cafe_video()), "--landmarks", str(i.cafe_track()),
                                     "--no-video"])[1], OK, "caf\ufffd",
         check=lambda w, o, e: _has_page(w, f"{CAFE}.formcheck")),
    Case("non-utf8-missing-file", NAMES, lambda i, w: ["analyze", str(w / f"{CAFE}.mp4")], INPUT, "caf\ufffd set.mp4"),
    Case("newline-in-file-name", NAMES, lambda i, w: ["analyze", str(w / "two\nlines.mp4")], INPUT, "does not exist"),
    Case("non-utf8-batch", NAMES, lambda i, w: _batch(i, w, "anna", f"{CAFE}.mp4"), OK, "Batch done",
         check=lambda w, o, e: _batch_outputs_valid_text(w), where="workers"),
    Case("non-utf8-batch-client", NAMES, lambda i, w: _batch(i, w, CAFE), OK, "Batch done",
         check=_text_in("coach/roster.csv", "caf\ufffd set"), where="workers"),
    Case("non-utf8-report-folder", NAMES,
         lambda i, w: (os.rename(w / "prev", w / CAFE), ["report", str(w / CAFE)])[1], OK, "report.html"),
    # -- camera indices -------------------------------------------------------------------
    Case("camera-negative", CAMERA, lambda i, w: ["live", "--camera", "-1", "--headless"], INPUT, "negative",
         where="subprocess"),
    Case("camera-absurd", CAMERA, lambda i, w: ["live", "--camera", "99999999999", "--headless"], INPUT,
         "not a camera number", where="subprocess"),
    Case("camera-absent", CAMERA, lambda i, w: ["live", "--camera", "7", "--headless"], INPUT, "no camera at index 7",
         where="subprocess"),
    Case("camera-not-a-number", CAMERA, lambda i, w: ["live", "--camera", "front", "--headless"], INPUT,
         "invalid int value"),
    Case("live-source-pipe", CAMERA, lambda i, w: ["live", "--source", _fifo(w), "--headless"], INPUT, "is a pipe"),
    Case("live-record-into-users-folder", CAMERA,
         lambda i, w: (_users_files(w, "desktop", "notes.txt"),
                       ["live", "--source", str(i.video()), "--headless", "--record", str(w / "desktop")])[1],
         INPUT, "did not write", check=_untouched("desktop/notes.txt")),
    Case("live-record-into-a-file", CAMERA,
         lambda i, w: ["live", "--source", str(i.video()), "--headless", "--record", str(_write(w / "r.txt", "x"))],
         INPUT, "is a file"),
    Case("live-no-pace-without-source", ARGS, lambda i, w: ["live", "--no-pace", "--headless"], INPUT, "--no-pace"),
    # -- ordinary mistakes -----------------------------------------------------------------
    Case("report-json-wrong-types", ORDINARY,
         lambda i, w: _report_edit(w, lambda d: {**d, "reps": [{"index": "one"}]}), INPUT, "reps[0]"),
    Case("report-json-a-list", ORDINARY, lambda i, w: _report_edit(w, lambda d: [1, 2]), INPUT, "not a formcheck report"),
    Case("report-json-not-json", ORDINARY,
         lambda i, w: (_write(w / "prev" / "report.json", "{oops"), ["report", str(w / "prev")])[1], INPUT,
         "not a readable report"),
    Case("report-angles-csv-garbage", ORDINARY,
         lambda i, w: (_write(w / "prev" / "angles.csv", b"\xff\xfe\x00garbage"), ["report", str(w / "prev")])[1],
         INPUT, "angles.csv"),
    Case("report-folder-missing", REPORT, lambda i, w: ["report", str(w / "nowhere")], INPUT, "does not exist"),
    Case("report-folder-is-a-file", REPORT, lambda i, w: ["report", str(w / "prev" / "report.json")], INPUT,
         "not a folder"),
    Case("report-folder-with-users-file", REPORT,
         lambda i, w: (_users_files(w, "prev", "notes.txt"), ["report", str(w / "prev")])[1], INPUT, "notes.txt",
         check=_untouched("prev/notes.txt")),
    Case("report-video-is-another", REPORT,
         lambda i, w: ["report", str(w / "prev"), "--video", str(i.other_video())], INPUT, "not the video"),
    Case("report-video-missing", REPORT, lambda i, w: ["report", str(w / "prev"), "--video", str(w / "gone.mp4")],
         INPUT, "does not exist"),
    Case("history-plot-is-a-folder", ORDINARY,
         lambda i, w: (_run_quietly(_batch(i, w, "anna")),
                       ["history", "anna", "--db", str(w / "coach"), "--plot", str(w / "coach")])[1], INPUT,
         "is a folder", where="workers"),
    Case("history-plot-bad-suffix", ORDINARY,
         lambda i, w: (_run_quietly(_batch(i, w, "anna")),
                       ["history", "anna", "--db", str(w / "coach"), "--plot", str(w / "plot.txt")])[1], INPUT,
         "ending in", where="workers"),
    Case("history-no-database", BATCH, lambda i, w: ["history", "anna", "--db", str(w)], INPUT, "no history database"),
    Case("history-not-sqlite", BATCH,
         lambda i, w: ["history", "anna", "--db", str(_write(w / "h.sqlite", "plain text " * 100))], INPUT,
         "not a usable formcheck history database"),
    Case("history-another-programs-sqlite", BATCH, lambda i, w: ["history", "anna", "--db", str(_history_db(w))],
         INPUT, "not a formcheck history database", check=_db_unchanged),
    Case("history-unknown-client", BATCH,
         lambda i, w: (_run_quietly(_batch(i, w, "anna")), ["history", "anan", "--db", str(w / "coach")])[1], INPUT,
         "did you mean anna", where="workers"),
    # -- data not taken silently -------------------------------------------------------------
    Case("avi-without-frame-rate", SILENT,
         lambda i, w: ["analyze", str(i.avi(0, 0)), "--out", str(w / "prev")], INPUT, "--fps"),
    Case("avi-stream-rate-zero-main-header-ok", SILENT,
         lambda i, w: ["analyze", str(i.avi(0, 33333)), "--out", str(w / "avi.out"), "--no-video"], NO_PERSON,
         "no person", check=_fps_is(30.0), where="pose"),
    Case("avi-without-rate-given-fps", SILENT,
         lambda i, w: ["analyze", str(i.avi(0, 0)), "--fps", "30", "--out", str(w / "avi.out"), "--no-video"],
         NO_PERSON, "no person", check=_fps_is(30.0), where="pose"),
    Case("fps-negative", SILENT, lambda i, w: analyze_prev(i, w, "--fps", "-5"), INPUT, "not plausible"),
    Case("fps-nan", SILENT, lambda i, w: analyze_prev(i, w, "--fps", "nan"), INPUT, "not plausible"),
    Case("profile-negative-threshold", PROFILE,
         lambda i, w: analyze_prev(i, w, "--profile", _profile(w, "[squat.butt_wink]\ncaution = -5\nfault = 2\n")),
         INPUT, "must not be negative"),
    Case("profile-absurd-threshold", PROFILE,
         lambda i, w: analyze_prev(i, w, "--profile", _profile(w, "[deadlift.lumbar_flexion]\ncaution = 25\nfault = 9000\n")),
         INPUT, "not plausible"),
    Case("profile-negative-tempo", PROFILE,
         lambda i, w: analyze_prev(i, w, "--profile", _profile(w, "[squat.tempo]\ncaution = -0.3\nfault = -0.5\n")),
         INPUT, "must not be negative"),
    Case("profile-levels-swapped", PROFILE,
         lambda i, w: analyze_prev(i, w, "--profile", _profile(w, "[squat.butt_wink]\ncaution = 30\nfault = 20\n")),
         INPUT, "caution must be at most"),
    Case("profile-not-a-number", PROFILE,
         lambda i, w: analyze_prev(i, w, "--profile", _profile(w, "[squat.butt_wink]\ncaution = \"low\"\n")),
         INPUT, "must be a number"),
    Case("profile-unknown-exercise", PROFILE,
         lambda i, w: analyze_prev(i, w, "--profile", _profile(w, "[bench.arch]\ncaution = 1\n")), INPUT,
         "unknown exercise"),
    Case("profile-missing", PROFILE, lambda i, w: analyze_prev(i, w, "--profile", str(w / "none.toml")), INPUT,
         "does not exist"),
    Case("profile-a-folder", PROFILE, lambda i, w: analyze_prev(i, w, "--profile", str(w)), INPUT, "is a folder"),
    Case("profile-binary", PROFILE,
         lambda i, w: analyze_prev(i, w, "--profile", str(_write(w / "p.toml", b"\xff\xfe\x00\x01"))), INPUT,
         "not a text file"),
    Case("formula-client-names", SILENT, lambda i, w: _batch(i, w, "=HYPERLINK(\"http://x\")"), OK, "Batch done",
         check=lambda w, o, e: _csv_cells_neutral(w), where="workers"),
    Case("formula-manifest-client", SILENT,
         lambda i, w: (_batch_tree(i, w, "anna"),
                       _write(w / "manifest.csv", f"video,client\n{w / 'clients' / 'anna' / 'set.mp4'},@SUM(A1:A9)\n"),
                       _batch(i, w, "anna") + ["--manifest", str(w / "manifest.csv")])[2], OK, "Batch done",
         check=lambda w, o, e: _csv_cells_neutral(w), where="workers"),
    # -- cosmetic --------------------------------------------------------------------------
    Case("no-warnings-on-no-person", COSMETIC,
         lambda i, w: ["analyze", str(i.no_person_track()), "--out", str(w / "nobody.out")], NO_PERSON, "no person"),
    Case("one-rep-singular", COSMETIC, lambda i, w: analyze_prev(i, w, "--no-video"), OK, "· 1 rep\n"),
    Case("video-is-a-pipe", COSMETIC, lambda i, w: ["analyze", _fifo(w), "--out", str(w / "prev")], INPUT, "is a pipe"),
    Case("video-is-a-device", COSMETIC, lambda i, w: ["analyze", "/dev/zero", "--out", str(w / "prev")], INPUT,
         "is a device"),
    Case("video-is-a-folder", COSMETIC, lambda i, w: ["analyze", str(w), "--out", str(w / "prev")], INPUT, "is a folder"),
    # -- unreadable or odd videos ------------------------------------------------------------
    Case("video-missing", VIDEO, lambda i, w: ["analyze", str(w / "nope.mp4"), "--out", str(w / "prev")], INPUT,
         "does not exist"),
    Case("video-empty", VIDEO, lambda i, w: ["analyze", str(_write(w / "e.mp4", b"")), "--out", str(w / "prev")],
         INPUT, "empty"),
    Case("video-is-text", VIDEO,
         lambda i, w: ["analyze", str(_write(w / "notes.mp4", "not a video\n" * 50)), "--out", str(w / "prev")], INPUT,
         "notes.mp4"),
    Case("video-is-random-bytes", VIDEO,
         lambda i, w: ["analyze", str(_write(w / "noise.mp4", np.random.default_rng(0).bytes(8192))),
                       "--out", str(w / "prev")], INPUT, "noise.mp4"),
    Case("video-is-an-image", VIDEO, lambda i, w: ["analyze", _png(w), "--out", str(w / "prev")], INPUT, "still image"),
    Case("video-audio-only", VIDEO, lambda i, w: ["analyze", _audio_only(w), "--out", str(w / "prev")], INPUT,
         "no video stream"),
    Case("video-header-only", VIDEO,
         lambda i, w: ["analyze", str(_write(w / "cut.mp4", i.video().read_bytes()[:48])), "--out", str(w / "prev")],
         INPUT, "cut.mp4"),
    # -- arguments -------------------------------------------------------------------------
    Case("unknown-exercise", ARGS, lambda i, w: analyze_prev(i, w, "--exercise", "bench"), INPUT, "invalid choice"),
    Case("unknown-option", ARGS, lambda i, w: analyze_prev(i, w, "--fast"), INPUT, "unrecognized arguments"),
    Case("batch-no-inputs", BATCH, lambda i, w: ["batch", "--out", str(w / "coach")], INPUT, "at least one"),
    Case("batch-workers-zero", BATCH, lambda i, w: ["batch", str(w), "--out", str(w / "coach"), "--workers", "0"],
         INPUT, "--workers"),
    Case("batch-no-videos", BATCH,
         lambda i, w: ["batch", str(_write(w / "in" / "readme.txt", "x").parent), "--out", str(w / "coach")], INPUT,
         "no videos found"),
    Case("batch-manifest-missing", BATCH,
         lambda i, w: ["batch", "--manifest", str(w / "m.csv"), "--out", str(w / "coach")], INPUT, "manifest not found"),
    Case("batch-manifest-bad-date", BATCH,
         lambda i, w: ["batch", "--manifest", str(_write(w / "m.csv", "video,date\nx.mp4,yesterday\n")),
                       "--out", str(w / "coach")], INPUT, "not YYYY-MM-DD"),
    Case("batch-out-is-a-file", BATCH,
         lambda i, w: (_batch_tree(i, w, "anna"), ["batch", str(w / "clients"), "--out", str(_write(w / "c.txt", "x"))])[1],
         INPUT, "is a file"),
    Case("batch-profile-negative", BATCH,
         lambda i, w: _batch(i, w, "anna") + ["--profile", _profile(w, "[squat.heel_rise]\ncaution = -1\nfault = 7\n")],
         INPUT, "must not be negative"),
]


def _run_quietly(argv: list[str]) -> None:
    """A set-up step that runs formcheck itself (e.g. a batch before ``history``)."""
    code, _, err = run_in_process(argv)
    assert code == 0, err


def _png(work: Path) -> str:
    import cv2

    path = work / "photo.mp4"
    cv2.imwrite(str(work / "photo.png"), np.full((48, 64, 3), 90, np.uint8))
    shutil.move(work / "photo.png", path)
    return str(path)


def _audio_only(work: Path) -> str:
    import av

    path = work / "voice.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return str(path)


# ----------------------------------------------------------------------------- running a case
def prepare_previous_set(inputs: Inputs, folder: Path) -> Path:
    """The good output set every case starts from (made once, copied into each work folder)."""
    if not (folder / "report.json").is_file():
        code, _, err = run_in_process(["analyze", str(inputs.video()), "--landmarks", str(inputs.track()),
                                       "--out", str(folder)])
        assert code == 0, err
    return folder


def new_work(previous: Path, work: Path) -> Path:
    work.mkdir(parents=True)
    shutil.copytree(previous, work / "prev", copy_function=shutil.copy2)
    return work


def run_in_process(argv: list[str], cwd: Path | None = None) -> tuple[int, str, str]:
    """``formcheck ARGV`` in this process: (exit status, stdout, stderr)."""
    from formcheck.apps.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(cwd or os.getcwd()):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def run_in_subprocess(argv: list[str], cwd: Path, env: dict | None = None, timeout: float = 600,
                      preexec: Callable[[], None] | None = None) -> tuple[int, str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "formcheck", *argv], capture_output=True, cwd=cwd, timeout=timeout,
        env={**os.environ, **(env or {})}, preexec_fn=preexec,
    )
    return result.returncode, result.stdout.decode("utf-8", "replace"), result.stderr.decode("utf-8", "replace")


def run_case(case: Case, inputs: Inputs, previous: Path, work: Path, subprocess_mode: bool) -> list[str]:
    """Run one case in a fresh work folder; returns its defects (empty: handled well)."""
    new_work(previous, work)
    here = os.getcwd()
    try:
        argv = case.argv(inputs, work)
        cwd = Path(os.getcwd())
    finally:
        os.chdir(here)
    snapshot = snapshot_of(work / "prev")  # as the case's set-up left it
    if subprocess_mode:
        code, stdout, stderr = run_in_subprocess(argv, cwd, case.env, preexec=_file_size_limit(case.file_size_limit))
    else:
        code, stdout, stderr = run_in_process(argv, cwd)
    return defects(case, work, snapshot, code, stdout, stderr)


def _file_size_limit(limit: int | None) -> Callable[[], None] | None:
    """In the child: writing past ``limit`` bytes fails with EFBIG (like a full disk) instead of killing it."""
    if limit is None:
        return None

    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def snapshot_of(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative name → bytes), hidden ones included."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(root: Path) -> list[str]:
    found = [p.relative_to(root).as_posix() for p in root.rglob("*") if LEFTOVER.search(p.name)]
    found += [f"{p.relative_to(root).as_posix()}/*" for p in root.rglob(".work") if p.is_dir() and any(p.iterdir())]
    return sorted(found)


def defects(case: Case, work: Path, snapshot: dict[str, bytes], code: int, stdout: str, stderr: str) -> list[str]:
    """What went wrong in one run of ``case`` (empty when it was handled well)."""
    found = []
    if code != case.code:
        found.append(f"exit status {code}, expected {case.code}")
    lines = [line for line in stderr.splitlines() if line.strip()]
    if case.code != OK:
        if len(lines) != 1:
            found.append(f"{len(lines)} lines on stderr, expected one: {' | '.join(lines)[-300:]!r}")
        if case.words and case.words not in stderr:
            found.append(f"message does not say {case.words!r}")
    elif case.words and case.words not in stdout:
        found.append(f"output does not say {case.words!r}")
    elif lines and not case.progress_on_stderr:
        found.append(f"stderr not empty on success: {lines[0][:120]!r}")
    for bad in ("Traceback", "internal error", "Warning", "warnings.warn", "Segmentation fault"):
        if bad in stderr:
            found.append(f"stderr shows {bad!r}")
    if code < 0:
        found.append(f"killed by signal {signal.Signals(-code).name}")
    found += [f"left behind: {name}" for name in leftovers(work)]
    prev = work / "prev"
    if code not in (OK, NO_PERSON) and snapshot and snapshot_of(prev) != snapshot:
        found.append("the previous output set was changed by a failed run")
    if code in (OK, NO_PERSON) and prev.is_dir() and snapshot_of(prev) != snapshot:
        found += _whole_set(prev)
    if case.check is not None and code == case.code:
        try:
            found += case.check(work, stdout, stderr)
        except Exception as exc:  # a check that cannot run is a defect of the run it checks
            found.append(f"check failed: {exc.__class__.__name__}: {exc}")
    return [f"{case.kind}: {problem}" for problem in found]


def _whole_set(folder: Path) -> list[str]:
    from formcheck.apps.outputs import MARKER, set_files

    listed = set_files(folder)
    if listed is None:
        return [f"{folder.name} has no list of its files ({MARKER})"]
    present = {p.name for p in folder.iterdir()} - {MARKER}
    return [] if present == listed else [f"{folder.name} holds {sorted(present)}, its list names {sorted(listed)}"]
