"""Property tests of the two readers of files a user can hand formcheck: ``PoseTrack.load`` and
``Report.load``. Whatever the bytes, they return a value or raise the one-line error the CLI prints
with exit status 2 (``InputError``), never anything else; and what formcheck writes reads back equal."""

from __future__ import annotations

import copy
import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from formcheck.analysis.offline import analyze_track
from formcheck.analysis.report import Report
from formcheck.errors import InputError
from formcheck.pose.track import OUTLINE_POINTS, TRUNK_STATIONS, PoseTrack, TrackFileError
from formcheck.synth import SynthSpec, make_track

#: Each example writes a file: keep the runs short, and never share state between examples.
# derandomize: the same examples on every run, so CI cannot go red on a draw no one can replay.
FILES = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
#: Text as file names come: any code point, and surrogate escapes for bytes that are not UTF-8.
names = st.text(max_size=20) | st.binary(max_size=20).map(os.fsdecode)


# ----------------------------------------------------------------------------- PoseTrack.load
@st.composite
def tracks(draw) -> PoseTrack:
    n = draw(st.integers(0, 6))
    floats = st.floats(-1e4, 1e4, width=32) | st.just(float("nan"))

    def field(*shape):
        return draw(arrays(np.float32, (n, *shape), elements=floats))

    steps = draw(arrays(np.float64, n, elements=st.floats(1e-3, 1.0)))
    return PoseTrack(
        time_s=np.cumsum(steps), xy=field(33, 2), z=field(33), visibility=field(33), presence=field(33),
        world=field(33, 3), trunk_edges=field(TRUNK_STATIONS, 2, 2), trunk_outlines=field(2, OUTLINE_POINTS, 2),
        frame_size=(draw(st.integers(0, 5000)), draw(st.integers(0, 5000))),
        meta={"source": draw(names), "extra": draw(json_values)},
    )


@FILES
@given(track=tracks())
def test_a_saved_track_loads_back_equal(tmp_path_factory, track):
    path = track.save(tmp_path_factory.mktemp("t") / "landmarks.npz")
    loaded = PoseTrack.load(path)
    assert loaded.frame_size == track.frame_size and loaded.meta == track.meta
    for name in ("time_s", "xy", "z", "visibility", "presence", "world", "trunk_edges", "trunk_outlines"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(track, name))


def _loads_or_refuses(path) -> None:
    try:
        track = PoseTrack.load(path)
    except TrackFileError as exc:
        assert "\n" not in str(exc) and isinstance(exc, InputError)
    else:
        assert isinstance(track, PoseTrack)


@FILES
@given(data=st.binary(max_size=3000))
def test_any_bytes_are_a_track_or_a_one_line_refusal(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("t") / "x.npz"
    path.write_bytes(data)
    _loads_or_refuses(path)


@FILES
@given(track=tracks(), cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4))
def test_a_damaged_track_file_is_refused_in_one_line(tmp_path_factory, track, cut, flips):
    path = track.save(tmp_path_factory.mktemp("t") / "landmarks.npz")
    data = bytearray(path.read_bytes())
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    path.write_bytes(bytes(data[: max(1, int(cut * len(data)))]))
    _loads_or_refuses(path)


@st.composite
def archives(draw) -> bytes:
    """An .npz of arrays under the track's names (or others), with some header (or none)."""
    entries = {}
    if draw(st.booleans()):
        header = draw(st.fixed_dictionaries(
            {"format": st.sampled_from(["formcheck.PoseTrack", "other"]), "version": st.sampled_from([1, 2, "1"])},
            optional={"frame_size": json_values, "meta": json_values},
        ))
        entries["header"] = np.array(json.dumps(header))
    keys = st.sampled_from(["time_s", "xy", "z", "visibility", "presence", "world", "trunk_edges",
                            "trunk_outlines", "derived.hip", "placed_hip", "other"])
    for key in draw(st.lists(keys, max_size=9, unique=True)):
        dtype = draw(st.sampled_from([np.float32, np.float64, np.int16, np.bool_, "U3"]))
        shape = draw(st.lists(st.integers(0, 4), max_size=4))
        entries[key] = np.zeros(shape, dtype)
    buffer = io.BytesIO()
    np.savez(buffer, **entries)
    return buffer.getvalue()


@FILES
@given(data=archives())
def test_any_archive_of_arrays_is_a_track_or_a_one_line_refusal(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("t") / "x.npz"
    path.write_bytes(data)
    _loads_or_refuses(path)


def test_a_zip_that_is_no_npz_is_refused(tmp_path):
    path = tmp_path / "x.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("header.npy", b"not an array")
    with pytest.raises(TrackFileError, match="not a formcheck landmark track"):
        PoseTrack.load(path)


# ----------------------------------------------------------------------------- Report.load
@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A real report as formcheck writes it: report.json (as a dict) and angles.csv (as text)."""
    report = analyze_track(make_track(SynthSpec("squat", reps=2, faults={"shallow_depth": 1.0}, fault_reps=(1,))))
    folder = tmp_path_factory.mktemp("report")
    report.write_json(folder / "report.json")
    report.write_angles_csv(folder / "angles.csv")
    return json.loads((folder / "report.json").read_text()), (folder / "angles.csv").read_text()


def _report_loads_or_refuses(folder) -> Report | None:
    try:
        report = Report.load(folder)
    except InputError as exc:
        assert "\n" not in str(exc)
        return None
    assert isinstance(report, Report)
    report.summary()  # a loaded report can be shown
    return report


def _paths(value, prefix=()):
    """Every path to a value inside nested dicts and lists."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@FILES
@given(data=st.data())
def test_a_hand_edited_report_loads_or_is_refused_in_one_line(tmp_path_factory, written, data):
    report, table = written
    edited = copy.deepcopy(report)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(sorted(_paths(edited), key=repr)))
        if not path:
            edited = data.draw(json_values)
            break
        parent = edited
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = data.draw(json_values)
    folder = tmp_path_factory.mktemp("r")
    (folder / "report.json").write_text(json.dumps(edited))
    (folder / "angles.csv").write_text(table)
    loaded = _report_loads_or_refuses(folder)
    if loaded is not None:  # what loads, writes and loads again the same
        again = tmp_path_factory.mktemp("r2")
        loaded.write_json(again / "report.json")
        # Compared as written (NaN, never equal to itself, is written as null).
        assert json.loads(Report.load(again, frames=False).to_json())["reps"] == json.loads(loaded.to_json())["reps"]


@FILES
@given(text=st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_any_report_json_or_angles_csv_loads_or_is_refused_in_one_line(tmp_path_factory, written, text):
    report, table = written
    folder = tmp_path_factory.mktemp("r")
    (folder / "report.json").write_text(text, encoding="utf-8", errors="surrogateescape")
    _report_loads_or_refuses(folder)
    (folder / "report.json").write_text(json.dumps(report))
    (folder / "angles.csv").write_text(text, encoding="utf-8", errors="surrogateescape")
    _report_loads_or_refuses(folder)


@FILES
@given(data=st.binary(max_size=400))
def test_any_bytes_as_angles_csv_load_or_are_refused(tmp_path_factory, written, data):
    report, _ = written
    folder = tmp_path_factory.mktemp("r")
    (folder / "report.json").write_text(json.dumps(report))
    (folder / "angles.csv").write_bytes(data)
    _report_loads_or_refuses(folder)
