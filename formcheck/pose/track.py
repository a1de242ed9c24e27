"""The pose track: the one data type handed between pipeline stages.

A :class:`PoseTrack` holds the pose of one person over a clip as numpy arrays
whose first axis is the frame, in the spirit of ``supervision.KeyPoints``:
build it with a ``from_*`` constructor, slice it like an array, save it to an
``.npz`` and load it back to re-run the analysis without the pose model.

Coordinates
-----------
``xy`` are image pixels of the *displayed* (rotation-corrected) frame, x to
the right, y down. ``world`` are the model's metric 3D landmarks (metres,
origin between the hips). Frames without a detection hold NaN.

``trunk_edges`` are points of the person's silhouette (segmentation mask)
along the trunk: at ``TRUNK_STATIONS`` evenly spaced stations on the line from
the hip midpoint (station 0) to the shoulder midpoint (last station), the
first mask boundary met walking perpendicular to that line on each side.
Side 0 is the +normal side, where the normal is the hip→shoulder direction
turned 90° clockwise on screen; side 1 the opposite side. The spine stage
decides which side is the back.

``trunk_outlines`` follow the silhouette's contour on the same two sides, from
shoulder level down past the hip (``OUTLINE_POINTS`` points per side, see
:func:`formcheck.pose.silhouette.trunk_outlines_from_mask`); on the back they cover
the sacrum and buttock, which the spine stage uses to place the hip. Tracks
saved before this field existed load with NaN outlines.

``plate_candidates`` are the pose stage's per-frame candidates of the near
barbell plate (rows of :data:`formcheck.pose.plate.detect.FIELDS`, best first,
NaN rows where fewer were found), and ``plate`` the plate followed through
them: centre x, y, radius (px) and confidence per frame, NaN where it was not
seen or where the whole path was refused (``meta["plate"]`` says why; see
:mod:`formcheck.pose.plate`). Tracks saved before these fields existed load
with NaN.

``derived`` holds per-frame arrays that a later stage computed from this
track alone and keeps with the landmarks, so that a re-analysis need not
redo them (the spine stores the hip it placed from the outlines there). The
track knows only their names and shapes; the stage that wrote one records
its method's version in ``meta["derived"][name]`` and checks it on reading.
"""

from __future__ import annotations

import dataclasses
import json
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from formcheck.errors import InputError
from formcheck.io.files import atomic_file, printable
from formcheck.pose.landmarks import NUM_LANDMARKS
from formcheck.pose.plate.detect import FIELDS as PLATE_FIELDS
from formcheck.pose.plate.detect import MAX_CANDIDATES as PLATE_CANDIDATES

#: Version of the ``.npz`` track format; bump on incompatible change.
TRACK_FORMAT_VERSION = 1
#: Number of stations along the hip→shoulder line where mask edges are sampled.
TRUNK_STATIONS = 21
#: Points per side in ``trunk_outlines``.
OUTLINE_POINTS = 64

#: Columns of ``plate``: centre x, y, radius (px) and confidence.
PLATE_COLUMNS = ("x", "y", "radius", "confidence")

_FRAME_FIELDS = ("time_s", "xy", "z", "visibility", "presence", "world", "trunk_edges", "trunk_outlines",
                 "plate_candidates", "plate")
_ARRAY_FIELDS = (*_FRAME_FIELDS, "source_index")
#: Arrays a track saved by an older formcheck may lack (NaN, or every frame, when absent).
_OPTIONAL_FIELDS = ("trunk_outlines", "plate_candidates", "plate", "source_index")
#: Per-frame shape of each optional array (filled with NaN when not given).
_OPTIONAL_SHAPES = {
    "trunk_outlines": (2, OUTLINE_POINTS, 2),
    "plate_candidates": (PLATE_CANDIDATES, len(PLATE_FIELDS)),
    "plate": (len(PLATE_COLUMNS),),
}
#: Prefix of the derived arrays in a saved ``.npz``.
_DERIVED_PREFIX = "derived."
#: Tracks saved before ``derived`` existed kept the placed hip here (and its version in ``meta``).
_LEGACY_DERIVED = {"hip_from_outline": "placed_hip"}
#: ``meta`` key of the SHA-256 of the video a track was made from (``formcheck.io.files.file_sha256``).
SOURCE_DIGEST = "source_sha256"
#: Largest frame side a track may claim (pixels): a bigger one is a damaged header.
_MAX_FRAME_SIDE = 1 << 16
#: What reading a damaged or foreign file can raise, inside numpy, zipfile and json.
_UNREADABLE = (
    OSError, EOFError, ValueError, KeyError, TypeError, IndexError, AttributeError, NotImplementedError,
    OverflowError, RecursionError, zipfile.BadZipFile, zlib.error, struct.error,
)


class TrackFileError(InputError, ValueError):
    """A file that is not a usable formcheck landmark track; the message names the file and why.

    Also a ValueError, as :meth:`PoseTrack.load` raised before.
    """


@dataclass(frozen=True)
class PoseFrame:
    """The pose of one person in one frame.

    Attributes
    ----------
    time_s : float
        Presentation time of the frame in seconds.
    xy : ndarray, shape (33, 2)
        Image landmarks in pixels (NaN if no person was detected).
    z : ndarray, shape (33,)
        Model's relative depth, in the same scale as x (smaller is nearer).
    visibility, presence : ndarray, shape (33,)
        Model scores in [0, 1].
    world : ndarray, shape (33, 3)
        Metric landmarks, metres, hip-centred.
    trunk_edges : ndarray, shape (TRUNK_STATIONS, 2, 2)
        Silhouette edge points along the trunk (see module docstring).
    mask : ndarray or None
        Person segmentation mask (H, W) float32 in [0, 1] at frame resolution,
        only kept for live drawing; never stored in a track.
    trunk_outlines : ndarray, shape (2, OUTLINE_POINTS, 2)
        Silhouette contour on each side of the trunk (see module docstring);
        NaN when not given.
    plate_candidates : ndarray, shape (PLATE_CANDIDATES, len(PLATE_FIELDS))
        Candidates of the near plate in this frame; NaN when not given.
    plate : ndarray, shape (4,)
        The plate followed so far (x, y, radius, confidence; causal while the
        video is read); NaN when not given.
    """

    time_s: float
    xy: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray
    trunk_edges: np.ndarray
    mask: np.ndarray | None = None
    trunk_outlines: np.ndarray | None = None
    plate_candidates: np.ndarray | None = None
    plate: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name, shape in _OPTIONAL_SHAPES.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.full(shape, np.nan, np.float32))

    @property
    def detected(self) -> bool:
        return bool(np.isfinite(self.xy[0, 0]))

    @classmethod
    def empty(cls, time_s: float) -> "PoseFrame":
        """A frame in which no person was found."""
        nan = np.float32(np.nan)
        return cls(
            time_s=float(time_s),
            xy=np.full((NUM_LANDMARKS, 2), nan, np.float32),
            z=np.full(NUM_LANDMARKS, nan, np.float32),
            visibility=np.zeros(NUM_LANDMARKS, np.float32),
            presence=np.zeros(NUM_LANDMARKS, np.float32),
            world=np.full((NUM_LANDMARKS, 3), nan, np.float32),
            trunk_edges=np.full((TRUNK_STATIONS, 2, 2), nan, np.float32),
        )


def interpolate_pose(before: PoseFrame, after: PoseFrame, time_s: float) -> PoseFrame:
    """The pose between two analysed frames, linearly in time (for drawing only).

    Where either frame has no person, the nearer frame's pose is used as is.

    >>> a = PoseFrame.empty(0.0); b = PoseFrame.empty(0.1)
    >>> a = dataclasses.replace(a, xy=np.zeros_like(a.xy)); b = dataclasses.replace(b, xy=np.full_like(b.xy, 10.0))
    >>> mid = interpolate_pose(a, b, 0.025)
    >>> float(mid.xy[0, 0]), mid.time_s
    (2.5, 0.025)
    """
    span = after.time_s - before.time_s
    share = float(np.clip((time_s - before.time_s) / span, 0.0, 1.0)) if span > 0 else 0.0
    if not (before.detected and after.detected):
        nearest = before if share < 0.5 else after
        return dataclasses.replace(nearest, time_s=float(time_s), mask=None)

    def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a + share * (b - a)).astype(np.float32)

    return PoseFrame(
        time_s=float(time_s),
        xy=mix(before.xy, after.xy),
        z=mix(before.z, after.z),
        visibility=np.minimum(before.visibility, after.visibility),
        presence=np.minimum(before.presence, after.presence),
        world=mix(before.world, after.world),
        trunk_edges=mix(before.trunk_edges, after.trunk_edges),
        trunk_outlines=mix(before.trunk_outlines, after.trunk_outlines),
        plate=mix(before.plate, after.plate),
    )


@dataclass(frozen=True, eq=False)
class PoseTrack:
    """Pose of one person over ``n`` frames (see module docstring).

    Attributes
    ----------
    time_s : ndarray, shape (n,)
        Strictly increasing presentation times in seconds.
    xy : ndarray, shape (n, 33, 2)
    z : ndarray, shape (n, 33)
    visibility : ndarray, shape (n, 33)
    presence : ndarray, shape (n, 33)
    world : ndarray, shape (n, 33, 3)
    trunk_edges : ndarray, shape (n, TRUNK_STATIONS, 2, 2)
    frame_size : tuple of int
        (width, height) of the displayed frame in pixels.
    meta : dict
        JSON-serialisable facts about where the track came from (source
        path, rotation, model, …).
    trunk_outlines : ndarray, shape (n, 2, OUTLINE_POINTS, 2)
        Silhouette contours beside the trunk (see module docstring); NaN when
        not given.
    plate_candidates : ndarray, shape (n, PLATE_CANDIDATES, len(PLATE_FIELDS))
        Per-frame candidates of the near plate (see module docstring); NaN when not given.
    plate : ndarray, shape (n, 4)
        The near plate followed through the clip (``PLATE_COLUMNS``); NaN where
        not seen, refused or not given.
    derived : dict of str → ndarray
        Per-frame arrays (first axis n) a later stage computed from this track
        and keeps with it (see module docstring).
    source_index : ndarray of int, shape (n,)
        Which frame of the source video each entry is (0-based): every frame
        by default; every second frame of a 60 fps video analysed at 30 Hz.
    """

    time_s: np.ndarray
    xy: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray
    trunk_edges: np.ndarray
    frame_size: tuple[int, int]
    meta: dict[str, Any] = field(default_factory=dict)
    trunk_outlines: np.ndarray | None = None
    derived: dict[str, np.ndarray] = field(default_factory=dict)
    plate_candidates: np.ndarray | None = None
    plate: np.ndarray | None = None
    source_index: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.time_s)
        for name, shape in _OPTIONAL_SHAPES.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.full((n, *shape), np.nan, np.float32))
        if self.source_index is None:
            object.__setattr__(self, "source_index", np.arange(n, dtype=np.int64))
        for name, values in self.derived.items():
            if len(values) != n:
                raise ValueError(f"PoseTrack.derived[{name!r}] has {len(values)} frames, expected {n}")
        shapes = {
            "xy": (n, NUM_LANDMARKS, 2),
            "z": (n, NUM_LANDMARKS),
            "visibility": (n, NUM_LANDMARKS),
            "presence": (n, NUM_LANDMARKS),
            "world": (n, NUM_LANDMARKS, 3),
            "trunk_edges": (n, TRUNK_STATIONS, 2, 2),
            **{name: (n, *shape) for name, shape in _OPTIONAL_SHAPES.items()},
            "source_index": (n,),
        }
        for name, shape in shapes.items():
            actual = getattr(self, name).shape
            if actual != shape:
                raise ValueError(f"PoseTrack.{name} has shape {actual}, expected {shape}")
        if n > 1 and not np.all(np.diff(self.time_s) > 0):
            raise ValueError("PoseTrack.time_s must be strictly increasing")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_frames(
        cls, frames: Iterable[PoseFrame], frame_size: tuple[int, int], meta: dict | None = None
    ) -> "PoseTrack":
        """Stack per-frame poses into a track."""
        frames = list(frames)
        if not frames:
            return cls.empty(frame_size, meta)
        return cls(
            time_s=np.array([f.time_s for f in frames], np.float64),
            xy=np.stack([f.xy for f in frames]).astype(np.float32),
            z=np.stack([f.z for f in frames]).astype(np.float32),
            visibility=np.stack([f.visibility for f in frames]).astype(np.float32),
            presence=np.stack([f.presence for f in frames]).astype(np.float32),
            world=np.stack([f.world for f in frames]).astype(np.float32),
            trunk_edges=np.stack([f.trunk_edges for f in frames]).astype(np.float32),
            trunk_outlines=np.stack([f.trunk_outlines for f in frames]).astype(np.float32),
            plate_candidates=np.stack([f.plate_candidates for f in frames]).astype(np.float32),
            plate=np.stack([f.plate for f in frames]).astype(np.float32),
            frame_size=(int(frame_size[0]), int(frame_size[1])),
            meta=dict(meta or {}),
        )

    @classmethod
    def empty(cls, frame_size: tuple[int, int], meta: dict | None = None) -> "PoseTrack":
        """A track with no frames."""
        return cls(
            time_s=np.zeros(0),
            xy=np.zeros((0, NUM_LANDMARKS, 2), np.float32),
            z=np.zeros((0, NUM_LANDMARKS), np.float32),
            visibility=np.zeros((0, NUM_LANDMARKS), np.float32),
            presence=np.zeros((0, NUM_LANDMARKS), np.float32),
            world=np.zeros((0, NUM_LANDMARKS, 3), np.float32),
            trunk_edges=np.zeros((0, TRUNK_STATIONS, 2, 2), np.float32),
            frame_size=(int(frame_size[0]), int(frame_size[1])),
            meta=dict(meta or {}),
        )

    # ------------------------------------------------------------------ array protocol
    def __len__(self) -> int:
        return len(self.time_s)

    def __getitem__(self, index):
        """``track[i]`` is a :class:`PoseFrame`; a slice, boolean mask or index
        array gives a new :class:`PoseTrack`."""
        if isinstance(index, (int, np.integer)):
            return PoseFrame(**{name: _scalar_or_array(getattr(self, name)[index]) for name in _FRAME_FIELDS})
        return dataclasses.replace(
            self,
            **{name: getattr(self, name)[index] for name in _ARRAY_FIELDS},
            derived={name: values[index] for name, values in self.derived.items()},
        )

    def with_derived(self, name: str, values: np.ndarray, version: int) -> "PoseTrack":
        """A copy keeping a later stage's per-frame ``values`` under ``name``, made by
        that stage's method ``version`` (:meth:`derived_values` checks it)."""
        versions = {**self.meta.get("derived", {}), name: version}
        return dataclasses.replace(
            self, derived={**self.derived, name: np.asarray(values)}, meta={**self.meta, "derived": versions}
        )

    def derived_values(self, name: str, version: int) -> np.ndarray | None:
        """The derived array ``name`` if it was made by method ``version``, else None."""
        if name in self.derived and self.meta.get("derived", {}).get(name) == version:
            return self.derived[name]
        return None

    def with_landmarks(self, xy: np.ndarray, world: np.ndarray | None = None) -> "PoseTrack":
        """A copy with replaced (e.g. filtered) landmark coordinates."""
        changes = {"xy": np.asarray(xy, np.float32)}
        if world is not None:
            changes["world"] = np.asarray(world, np.float32)
        return dataclasses.replace(self, **changes)

    @property
    def detected(self) -> np.ndarray:
        """(n,) bool: a person was found in the frame."""
        return np.isfinite(self.xy[:, 0, 0])

    @property
    def fps(self) -> float:
        """Median frame rate of the timestamps (0 for fewer than two frames)."""
        if len(self) < 2:
            return 0.0
        return float(1.0 / np.median(np.diff(self.time_s)))

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write the track to a compressed ``.npz`` file, atomically."""
        path = Path(path)
        arrays = {name: getattr(self, name) for name in _ARRAY_FIELDS}
        arrays.update({_DERIVED_PREFIX + name: values for name, values in self.derived.items()})
        header = {
            "format": "formcheck.PoseTrack",
            "version": TRACK_FORMAT_VERSION,
            "frame_size": list(self.frame_size),
            "meta": self.meta,
        }
        with atomic_file(path) as fh:
            np.savez_compressed(fh, header=np.array(json.dumps(header)), **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "PoseTrack":
        """Read a track written by :meth:`save`.

        Raises
        ------
        TrackFileError
            (an InputError and a ValueError) If the file cannot be read, is not
            a formcheck track (another ``.npz``, an ``.npy`` renamed, a
            truncated download, …), has an unsupported version, or holds
            arrays of the wrong shape or kind; the message is one line naming
            the file.
        """
        shown = printable(path)
        try:
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):  # one array: an .npy renamed
                raise _NotAnArchive()
            with data:
                header = json.loads(str(data["header"]))
                # Tracks saved by an older formcheck lack the optional arrays (NaN).
                arrays = {name: data[name] for name in _ARRAY_FIELDS if name in data or name not in _OPTIONAL_FIELDS}
                derived = {key[len(_DERIVED_PREFIX):]: data[key] for key in data.files if key.startswith(_DERIVED_PREFIX)}
                legacy = {new: data[old] for old, new in _LEGACY_DERIVED.items() if old in data.files}
        except (*_UNREADABLE, _NotAnArchive) as exc:
            if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
                raise TrackFileError(f"{shown} cannot be read ({exc.strerror or exc})") from None
            raise TrackFileError(f"{shown}: not a formcheck landmark track ({_why_unreadable(exc)})") from None
        if not isinstance(header, dict) or header.get("format") != "formcheck.PoseTrack":
            raise TrackFileError(f"{shown}: not a formcheck landmark track")
        if header.get("version") != TRACK_FORMAT_VERSION:
            raise TrackFileError(
                f"{shown}: landmark track format version {header.get('version')!r} is not supported "
                f"(this formcheck reads version {TRACK_FORMAT_VERSION})"
            )
        meta = header.get("meta", {})
        if not isinstance(meta, dict):
            raise TrackFileError(f"{shown}: damaged landmark track (its meta is not a table)")
        meta = dict(meta)
        frame_size = _frame_size(header.get("frame_size"), shown)
        for name, values in [*arrays.items(), *derived.items(), *legacy.items()]:
            if values.dtype.kind not in "fiub":
                raise TrackFileError(f"{shown}: damaged landmark track ({name} holds {values.dtype} values, not numbers)")
        for old, new in _LEGACY_DERIVED.items():
            if new in legacy and old in meta:
                derived.setdefault(new, legacy[new])
                meta["derived"] = {**(meta.get("derived") if isinstance(meta.get("derived"), dict) else {}), new: meta.pop(old)}
        if meta.get("derived") is not None and not isinstance(meta.get("derived"), dict):
            raise TrackFileError(f"{shown}: damaged landmark track (meta.derived is not a table)")
        try:
            return cls(frame_size=frame_size, meta=meta, derived=derived, **arrays)
        except (ValueError, TypeError) as exc:
            raise TrackFileError(f"{shown}: damaged landmark track ({exc})") from None

    @property
    def source_digest(self) -> str | None:
        """SHA-256 of the video this track was made from, when the track records it."""
        value = self.meta.get(SOURCE_DIGEST)
        return value if isinstance(value, str) and value else None

    def source_mismatch(self, frame_size: tuple[int, int], frame_count: int, digest: str | None) -> str | None:
        """Why this track cannot be the pose track of a video, or None if it can be.

        Parameters
        ----------
        frame_size : (int, int)
            The video's displayed (width, height).
        frame_count : int
            Its number of frames (0 if unknown).
        digest : str or None
            SHA-256 of its content. When the track records its source's
            digest, that decides; tracks saved before formcheck recorded it
            are matched on frame size and frame count.

        Examples
        --------
        >>> track = PoseTrack.empty((640, 480), {"source_sha256": "ab12"})
        >>> track.source_mismatch((640, 480), 0, "ab12") is None
        True
        >>> track.source_mismatch((640, 480), 0, "cd34")
        'it was made from another video (the content differs)'
        """
        recorded = self.source_digest
        if recorded is not None and digest is not None:
            return None if recorded == digest else "it was made from another video (the content differs)"
        if tuple(frame_size) != tuple(self.frame_size):
            return (f"it was made from a {self.frame_size[0]}×{self.frame_size[1]} video, "
                    f"this one is {frame_size[0]}×{frame_size[1]}")
        # A decoded track can be a little shorter than the container's count (duplicate
        # timestamps dropped, a damaged tail), never much shorter or at all longer.
        if frame_count and not (frame_count * 0.97 - 2 <= len(self) <= frame_count + 1):
            return f"it has {len(self)} frames, this video has {frame_count}"
        return None

class TrackBuilder:
    """Collects poses frame by frame into growing arrays, then makes the track.

    A long video's poses are kept as a few numpy arrays (a few kB per frame)
    rather than one object per frame, so memory grows by the data alone.

    >>> builder = TrackBuilder()
    >>> for t in (0.0, 0.033, 0.067):
    ...     builder.append(PoseFrame.empty(t), source_index=int(round(t * 30)) * 2)
    >>> track = builder.build((640, 480), {"source": "x"})
    >>> len(track), track.source_index.tolist()
    (3, [0, 2, 4])
    """

    def __init__(self, capacity: int = 256):
        self._arrays: dict[str, np.ndarray] = {}
        self._source: np.ndarray = np.zeros(capacity, np.int64)
        self._capacity = capacity
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, pose: PoseFrame, source_index: int | None = None) -> None:
        if self._n == self._capacity:
            self._capacity *= 2
            self._arrays = {k: _grown(v, self._capacity) for k, v in self._arrays.items()}
            self._source = _grown(self._source, self._capacity)
        for name in _FRAME_FIELDS:
            value = np.asarray(getattr(pose, name), np.float64 if name == "time_s" else np.float32)
            if name not in self._arrays:
                self._arrays[name] = np.empty((self._capacity, *value.shape), value.dtype)
            self._arrays[name][self._n] = value
        self._source[self._n] = self._n if source_index is None else source_index
        self._n += 1

    def build(self, frame_size: tuple[int, int], meta: dict | None = None) -> "PoseTrack":
        if self._n == 0:
            return PoseTrack.empty(frame_size, meta)
        n = self._n
        return PoseTrack(
            **{name: values[:n].copy() for name, values in self._arrays.items()},
            frame_size=(int(frame_size[0]), int(frame_size[1])),
            meta=dict(meta or {}),
            source_index=self._source[:n].copy(),
        )


def _grown(values: np.ndarray, capacity: int) -> np.ndarray:
    out = np.empty((capacity, *values.shape[1:]), values.dtype)
    out[: len(values)] = values
    return out


def _scalar_or_array(value):
    return float(value) if np.ndim(value) == 0 else value


def _frame_size(value: Any, shown: str) -> tuple[int, int]:
    """``(width, height)`` from a track's header, or TrackFileError."""
    if (
        not isinstance(value, list) or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= _MAX_FRAME_SIDE for v in value)
    ):
        raise TrackFileError(f"{shown}: damaged landmark track (frame_size {value!r} is not a width and height)")
    return int(value[0]), int(value[1])


class _NotAnArchive(Exception):
    """``np.load`` read a single array (an ``.npy``), not an ``.npz`` archive."""


def _why_unreadable(exc: BaseException) -> str:
    """A few words on why a file is not a track."""
    if isinstance(exc, _NotAnArchive):
        return "it is a single-array .npy file, not an .npz"
    if isinstance(exc, zipfile.BadZipFile | EOFError | zlib.error | struct.error):
        return "the file is damaged or cut short"
    if isinstance(exc, KeyError):
        return "it has no formcheck header"
    if isinstance(exc, json.JSONDecodeError | RecursionError):
        return "its header is damaged"
    return "it is not an .npz file"
