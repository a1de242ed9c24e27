"""A new exercise is one plug-in in one file: registered, it is seen everywhere.

The toy below is the whole plug-in (docs/adding-an-exercise.md walks through
one like it). Once registered it must appear in ``formcheck analyze
--exercise``, in live mode (its options and the streaming analyser it runs),
in the report (title, fault heading, summary) and in the default profile,
with no other edit anywhere.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from formcheck.analysis.streaming import StreamingAnalyzer
from formcheck.apps.cli import main
from formcheck.apps.live import command as live
from formcheck.exercises import EXERCISES, Exercise, exercise_choices, get_exercise, register, unregister
from formcheck.exercises.base import hinge_depth, phase_frames
from formcheck.exercises.profiles import bundled_text, load_profile
from formcheck.faults import CatalogueEntry, Check, Fault, RepContext, Threshold, entry
from formcheck.reps import RepRule


# ---------------------------------------------------------------- the plug-in
def check_bowed_too_deep(ctx: RepContext) -> Fault | None:
    hip = np.asarray(ctx.signals["hip_flexion"], np.float64)
    frames = phase_frames(ctx, "descent", "bottom", "ascent")
    if len(frames) == 0:
        return None
    deepest = float(np.nanmax(hip[frames]))
    return ctx.make_fault("bowed_too_deep", deepest, (ctx.rep.start, ctx.rep.end), cue="Bow only to hip height.",
                          message=f"the hips folded {deepest:.0f}°", unit="deg")


TOY = Exercise(
    name="toy_bow",
    title="Toy bow",
    rule=RepRule(style="up_down_up", enter=0.55, exit=0.25, min_rep_s=0.8),
    depth=lambda signals: hinge_depth(signals, 10.0, 70.0),
    checks=(
        Check("bowed_too_deep", check_bowed_too_deep, Threshold(caution=80.0, fault=100.0),
              entry=CatalogueEntry("bowed_too_deep", "range", "bowed too deep", "deepest hip flexion (deg)",
                                   title="Bowed too deep")),
    ),
    metrics=lambda ctx: {},
    aliases=("toy",),
)


@pytest.fixture
def toy():
    register(TOY)
    yield TOY
    unregister(TOY.name)


# ---------------------------------------------------------------- seen everywhere
def test_it_is_registered_by_name_and_alias(toy):
    assert EXERCISES["toy_bow"] is toy and get_exercise("Toy") is toy
    assert "toy_bow" in exercise_choices()
    assert entry("bowed_too_deep").title == "Bowed too deep"


def test_analyze_takes_it_and_the_report_names_it(toy, squat_track, tmp_path, capsys):
    track = squat_track.save(tmp_path / "landmarks.npz")
    out = tmp_path / "out"
    assert main(["analyze", str(track), "--exercise", "toy_bow", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["exercise"] == "toy_bow" and report["rep_count"] == 3
    assert {f["code"] for rep in report["reps"] for f in rep["faults"]} == {"bowed_too_deep"}
    assert all(f["severity"] == "fault" for rep in report["reps"] for f in rep["faults"])  # 110° ≥ 100°
    assert report["summary"].startswith("Toy bow · side view · 3 reps")
    page = (out / "report.html").read_text()
    assert "Toy bow check" in page and "Bowed too deep" in page
    assert "Toy bow" in capsys.readouterr().out


def test_live_mode_offers_it_and_its_analyser_counts_and_grades_it(toy, squat_track):
    parser = argparse.ArgumentParser()
    live.add_arguments(parser)
    assert parser.parse_args(["--exercise", "toy_bow"]).exercise == "toy_bow"
    analyser = StreamingAnalyzer(exercise="toy_bow")
    finished = [s.finished_rep for s in (analyser.update(squat_track[i], squat_track.frame_size)
                                          for i in range(len(squat_track))) if s.finished_rep is not None]
    assert len(finished) >= 2  # the last rep may end on the clip's final frames
    assert all({f.code for f in rep.faults} == {"bowed_too_deep"} for rep in finished)


def test_the_default_profile_lists_it_and_a_profile_may_set_it(toy, tmp_path):
    assert "[toy_bow.bowed_too_deep]" in bundled_text("default")
    assert load_profile("default")["toy_bow"]["bowed_too_deep"] == Threshold(caution=80.0, fault=100.0)
    mine = tmp_path / "mine.toml"
    mine.write_text("[toy_bow.bowed_too_deep]\ncaution = 90\nfault = 120\n")
    assert load_profile(mine)["toy_bow"]["bowed_too_deep"] == Threshold(caution=90.0, fault=120.0)


def test_a_name_taken_twice_is_refused(toy):
    with pytest.raises(ValueError, match="already taken"):
        register(Exercise(name="other", title="Other", rule=TOY.rule, depth=TOY.depth, checks=(), metrics=TOY.metrics,
                          aliases=("toy",)))
