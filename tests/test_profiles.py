"""Threshold profiles: the bundled TOML files, loading, clear errors, and their effect."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from formcheck.analysis.offline import AnalysisOptions, analyze_track
from formcheck.errors import InputError
from formcheck.exercises import EXERCISES
from formcheck.faults.catalogue import entry
from formcheck.exercises.profiles import BUNDLED, ProfileError, bundled_text, load_profile, merged, render_profile
from formcheck.synth import SynthSpec, make_track


def test_default_profile_is_the_plug_ins_defaults():
    profile = load_profile("default")
    assert set(profile) == set(EXERCISES)
    for name, exercise in EXERCISES.items():
        assert profile[name] == exercise.thresholds, name


def test_every_bundled_profile_loads_and_covers_every_check():
    for name in BUNDLED:
        profile = load_profile(name)
        for exercise, table in profile.items():
            assert set(table) == set(EXERCISES[exercise].thresholds), (name, exercise)
        assert bundled_text(name).startswith(f"# formcheck threshold profile: {name}")


def _looser(a, b) -> bool:
    """Threshold ``a`` is at least as lenient as ``b`` (fires later or equally)."""
    sign = 1 if b.higher_is_worse else -1
    return sign * (a.caution - b.caution) >= 0 and sign * (a.fault - b.fault) >= 0


def test_beginner_is_looser_but_not_on_the_spine_and_strict_is_tighter():
    default, beginner, strict = (load_profile(n) for n in ("default", "beginner", "strict"))
    looser_somewhere = tighter_somewhere = False
    for exercise, table in default.items():
        for code, th in table.items():
            assert _looser(beginner[exercise][code], th), (exercise, code)
            assert _looser(th, strict[exercise][code]), (exercise, code)
            if entry(code).tier == "spine":
                assert beginner[exercise][code] == th, ("safety is not relaxed", exercise, code)
            looser_somewhere |= beginner[exercise][code] != th
            tighter_somewhere |= strict[exercise][code] != th
    assert looser_somewhere and tighter_somewhere


def _write(tmp_path, text: str):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    return path


def test_a_partial_profile_overrides_only_what_it_names(tmp_path):
    profile = load_profile(_write(tmp_path, "[squat.shallow_depth]\ncaution = 5\nfault = 15\n"))
    assert set(profile) == {"squat"} and set(profile["squat"]) == {"shallow_depth"}
    th = profile["squat"]["shallow_depth"]
    assert (th.caution, th.fault, th.higher_is_worse) == (5.0, 15.0, True)
    full = merged(profile)
    assert full["squat"]["shallow_depth"] == th and full["squat"]["tempo"] == EXERCISES["squat"].thresholds["tempo"]
    # A single level may be given; the other keeps its default.
    only_fault = load_profile(_write(tmp_path, "[deadlift.bar_drift]\nfault = 20\n"))["deadlift"]["bar_drift"]
    assert only_fault.fault == 20.0 and only_fault.caution == EXERCISES["deadlift"].thresholds["bar_drift"].caution


@pytest.mark.parametrize("text, words", [
    ("[squat.shallow_depth]\ncaution = 'ten'\n", "squat.shallow_depth.caution must be a number"),
    ("[squat.shallow_depth]\ncaution = true\n", "squat.shallow_depth.caution must be a number"),
    ("[squat.shallow_depth]\ncaution = nan\n", "squat.shallow_depth.caution must be a number"),
    ("[squat.shallow_depth]\ncaution = 20\nfault = 10\n", "squat.shallow_depth.caution must be at most squat.shallow_depth.fault"),
    ("[deadlift.squatted_start]\ncaution = 40\nfault = 45\n", "deadlift.squatted_start.caution must be at least"),
    ("[squat.shallow_depth]\nwarning = 3\n", "squat.shallow_depth.warning is not a setting"),
    ("[squat.shallow_depth]\nenabled = 'no'\n", "squat.shallow_depth.enabled must be true or false"),
    ("[squat.hips_rise_early]\ncaution = 1\n", "squat.hips_rise_early is not a squat fault"),
    ("[sqaut.shallow_depth]\ncaution = 1\n", "unknown exercise [sqaut]"),
    ("[squat]\nshallow_depth = 3\n", "squat.shallow_depth must be a table"),
    ("squat = 3\n", "squat must be a table of faults"),
    ("[squat.shallow_depth\ncaution = 1\n", "is not valid TOML"),
])
def test_bad_profiles_name_the_key(tmp_path, text, words):
    with pytest.raises(ProfileError, match=None) as info:
        load_profile(_write(tmp_path, text))
    message = str(info.value)
    assert words in message and "mine.toml" in message and "\n" not in message
    assert isinstance(info.value, InputError)  # the CLI prints it as one line, exit status 2


def test_missing_profile_lists_the_bundled_ones(tmp_path):
    with pytest.raises(ProfileError, match="does not exist.*default, beginner, strict"):
        load_profile(tmp_path / "nope.toml")


def test_profiles_change_the_verdicts(tmp_path):
    # A squat that stops 11-14° above parallel (just past what a parallel squat
    # can read): a caution by default, nothing for a beginner, a fault when
    # strict; switched off it is never judged.
    track = make_track(SynthSpec("squat", depth=0.8))
    codes = {}
    for name in ("default", "beginner", "strict"):
        report = analyze_track(track, AnalysisOptions(thresholds=load_profile(name)))
        codes[name] = {f.severity for f in report.faults if f.code == "shallow_depth"}
    assert codes["default"] == {"caution"} and codes["beginner"] == set() and "fault" in codes["strict"], codes
    off = load_profile(_write(tmp_path, "[squat.shallow_depth]\nenabled = false\n"))
    assert math.isinf(off["squat"]["shallow_depth"].caution)
    report = analyze_track(track, AnalysisOptions(thresholds=off))
    assert "shallow_depth" not in {f.code for f in report.faults}


def test_render_round_trips(tmp_path):
    profile = merged(load_profile("strict"))
    path = _write(tmp_path, render_profile(profile, "mine", "a test"))
    assert load_profile(path) == profile


def test_printing_a_bundled_profile_to_copy_it():
    result = subprocess.run([sys.executable, "-m", "formcheck.exercises.profiles", "beginner"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == bundled_text("beginner")
    result = subprocess.run([sys.executable, "-m", "formcheck.exercises.profiles", "nope"], capture_output=True, text=True)
    assert result.returncode == 2 and "no bundled profile" in result.stderr
