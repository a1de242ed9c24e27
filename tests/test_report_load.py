"""Report.load: report.json and angles.csv read back into a Report, and what a bad file gives."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from formcheck.analysis.offline import analyze_track
from formcheck.analysis.report import Report
from formcheck.errors import InputError
from formcheck.faults import Fault
from formcheck.synth import SynthSpec, make_track


@pytest.fixture(scope="module")
def deadlift_report() -> Report:
    """A deadlift set whose hips rise early in the second rep: faults, metrics, a spine column, notes."""
    report = analyze_track(make_track(SynthSpec("deadlift", reps=3, faults={"hips_rise_early": 1.0}, fault_reps=(1,))))
    assert report.faults, "the fixture should find the faulty rep"
    return dataclasses.replace(report, notes=report.notes + ("a note <with> 'quotes'",))


def write(report: Report, folder):
    folder.mkdir(parents=True, exist_ok=True)
    report.write_json(folder / "report.json")
    report.write_angles_csv(folder / "angles.csv")
    return folder


def test_a_written_report_loads_back_equal(tmp_path, deadlift_report):
    folder = write(deadlift_report, tmp_path / "out")
    loaded = Report.load(folder)
    assert isinstance(loaded, Report)
    # Everything report.json holds is the same, to its 3 decimals.
    assert loaded.to_dict() == deadlift_report.to_dict()
    assert loaded.notes == deadlift_report.notes and loaded.not_assessable == deadlift_report.not_assessable
    assert [r.index for r in loaded.reps] == [r.index for r in deadlift_report.reps]
    for got, want in zip(loaded.reps, deadlift_report.reps):
        assert all(isinstance(f, Fault) for f in got.faults)
        assert [f.code for f in got.faults] == [f.code for f in want.faults]
        assert got.metrics.keys() == want.metrics.keys()
        for name, value in want.metrics.items():
            assert got.metrics[name] == pytest.approx(value, abs=6e-4, nan_ok=True)
        assert (got.start_frame, got.bottom_frame, got.end_frame) == (want.start_frame, want.bottom_frame, want.end_frame)
        assert got.duration_s == pytest.approx(want.duration_s, abs=6e-4)
    # The per-frame table: the same columns under the same names, to angles.csv's precision.
    assert list(loaded.frames) == list(deadlift_report.frames)
    assert {name: loaded.units.get(name, "") for name in loaded.frames} == {
        name: deadlift_report.units.get(name, "") for name in deadlift_report.frames
    }
    for name, want in deadlift_report.frames.items():
        got = loaded.frames[name]
        assert len(got) == len(want)
        if np.asarray(want).dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=6e-4, atol=1e-6, equal_nan=True, err_msg=name)
        else:
            assert list(got) == list(want), name
    # Written again, the files are the same bytes.
    again = write(loaded, tmp_path / "again")
    for name in ("report.json", "angles.csv"):
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name


def test_load_takes_the_file_or_its_folder_and_can_skip_the_table(tmp_path, deadlift_report):
    folder = write(deadlift_report, tmp_path / "out")
    by_file = Report.load(folder / "report.json", frames=False)
    assert by_file.frames == {} and by_file.rep_count == deadlift_report.rep_count
    (folder / "angles.csv").unlink()
    assert Report.load(folder).frames == {}


def test_an_older_report_without_the_later_fields_loads(tmp_path, deadlift_report):
    data = deadlift_report.to_dict()
    for key in ("set_summary", "advice", "formcheck_version"):
        data.pop(key)
    for rep in data["reps"]:
        rep.pop("info"), rep.pop("not_assessed")
    (tmp_path / "report.json").write_text(json.dumps(data))
    loaded = Report.load(tmp_path)
    assert loaded.set_summary == () and loaded.advice == {} and all(r.not_assessed == {} for r in loaded.reps)
    assert [f.code for f in loaded.faults] == [f.code for f in deadlift_report.faults]


@pytest.mark.parametrize(
    "spoil, message",
    [
        (None, "does not exist"),
        ("{not json", "is not a readable report"),
        ("[1, 2]", "is not a formcheck report: the file is not an object"),
        ({"exercise": "squat"}, "no 'reps'"),
        ({"reps": {}}, "'reps' is not a list"),
        ({"reps": [{"index": "1", "start_s": 0, "end_s": 1}]}, "'reps[0].index' is not an integer"),
        ({"reps": [{"index": 1, "start_s": 0, "end_s": 1, "metrics": {"hinge_ratio": "high"}}]},
         "'reps[0].metrics.hinge_ratio' is not a number"),
        ({"reps": [{"index": 1, "start_s": 0, "end_s": 1, "faults": [{"severity": "fault"}]}]}, "no 'reps[0].faults[0].code'"),
        ({"reps": [], "notes": "one"}, "'notes' is not a list"),
        ({"reps": [], "view": {"label": 3}}, "'view.label' is not a string"),
    ],
)
def test_a_bad_report_is_one_line_naming_the_file_and_field(tmp_path, spoil, message):
    path = tmp_path / "report.json"
    if spoil is not None:
        path.write_text(spoil if isinstance(spoil, str) else json.dumps(spoil))
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        Report.load(tmp_path)
    text = str(caught.value)
    assert str(path) in text and "\n" not in text


def test_an_unreadable_angles_csv_is_an_input_error(tmp_path, deadlift_report):
    folder = write(deadlift_report, tmp_path / "out")
    (folder / "angles.csv").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="angles.csv is not a readable table"):
        Report.load(folder)
