"""formcheck.render.annotators: each annotator draws its data (and nothing for None), the halo
layer of the stills and the live state's cue banner (the docstring examples run in test_docstrings)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from formcheck.analysis.report import RepResult
from formcheck.analysis.streaming import LiveState
from formcheck.faults import Fault
from formcheck.pose import landmarks as lm
from formcheck.render.annotators import (
    BANNER_S,
    AngleAnnotator,
    BackCurveAnnotator,
    Banner,
    BannerAnnotator,
    GaugeAnnotator,
    HaloAnnotator,
    JointAngle,
    Keypoints,
    LiveStateAnnotator,
    RepCount,
    RepCounterAnnotator,
    SkeletonAnnotator,
    TextPanelAnnotator,
    dorsal_edge,
)
from formcheck.render.draw import CYAN

from conftest import GREY, blank, changed, stick_track



@pytest.mark.parametrize(
    "annotator",
    [SkeletonAnnotator(), BackCurveAnnotator(), AngleAnnotator(), BannerAnnotator(), HaloAnnotator(BackCurveAnnotator())],
)
def test_no_data_draws_nothing(annotator):
    scene = blank(240, 200)
    assert annotator.annotate(scene, None) is scene
    assert not changed(scene).any()


def test_each_annotator_draws_its_data_on_the_scene_it_returns():
    xy = stick_track([60.0], [60.0], px_per_m=150.0).xy[0]
    cases = [
        (SkeletonAnnotator(), Keypoints(xy, np.ones(33))),
        (BackCurveAnnotator(), np.array([[50.0, 50.0], [60.0, 120.0]])),
        (AngleAnnotator(), JointAngle(np.array([120.0, 100.0]), np.array([60.0, 100.0]), np.array([120.0, 40.0]), 90.0, "hip")),
        (GaugeAnnotator(0.0, 1.0, "depth"), 0.5),
        (RepCounterAnnotator(), RepCount(3, "bottom")),
        (BannerAnnotator(), Banner("Rep 1: good")),
        (TextPanelAnnotator(), ["30 fps"]),
    ]
    for annotator, data in cases:
        scene = blank(640, 480)
        assert annotator.annotate(scene, data) is scene
        assert changed(scene).sum() > 30, type(annotator).__name__


def test_scale_maps_data_pixels_onto_a_resized_scene():
    points = np.array([[100.0, 20.0], [100.0, 180.0]])
    half = BackCurveAnnotator(scale=0.5).annotate(blank(240, 200), points)
    cols = np.flatnonzero(changed(half).any(axis=0))
    assert abs(cols.mean() - 50) < 2  # x = 100 drawn at 50
    stretched = BackCurveAnnotator(scale=np.array([2.0, 0.5])).annotate(blank(240, 200), np.array([[60.0, 100.0], [100.0, 100.0]]))
    rows, cols = np.nonzero(changed(stretched))
    assert abs(rows.mean() - 50) < 2 and cols.min() >= 115 and cols.max() <= 205


def test_hidden_landmarks_are_left_out_of_the_skeleton():
    xy = np.full((lm.NUM_LANDMARKS, 2), np.nan)
    finger = lm.INDEX["left_index"]
    xy[lm.LEFT_WRIST], xy[finger] = (60, 100), (160, 100)  # one bone, wrist to finger
    shown = SkeletonAnnotator().annotate(blank(240, 200), Keypoints(xy))
    assert changed(shown)[100, 80:140].all()
    hidden = SkeletonAnnotator(hidden=(finger,)).annotate(blank(240, 200), Keypoints(xy))
    assert not changed(hidden)[100, 80:140].any() and changed(hidden)[100, 55:65].any()


def test_halo_draws_the_same_shape_bolder_with_a_dark_rim():
    points = np.array([[40.0, 100.0], [200.0, 100.0]])
    plain = BackCurveAnnotator().annotate(blank(240, 200), points)
    scene = HaloAnnotator(BackCurveAnnotator(), factor=3).annotate(blank(240, 200), points)
    assert changed(scene).sum() > 2 * changed(plain).sum()
    column = scene[:, 120].astype(int)
    rows = np.flatnonzero(changed(scene)[:, 120])
    assert rows.min() < 100 < rows.max()
    # The line's own colour (magenta: blue and red, little green) in its middle ...
    middle = column[np.argmax(column[:, 0] + column[:, 2] - 2 * column[:, 1])]
    assert middle[0] - middle[1] > 80 and middle[2] - middle[1] > 80
    # ... and a rim darker than the background on both sides.
    assert (column[rows.min() : 100].max(axis=1) < GREY - 30).any() and (column[101 : rows.max() + 1].max(axis=1) < GREY - 30).any()


def _rep(index: int, faults=()) -> RepResult:
    return RepResult(index, 0.0, 0.5, 1.0, {}, {"peak_lumbar_flexion_deg": 12.0, "hinge_ratio": 0.8}, tuple(faults),
                     "Chest up" if faults else None)


def _state(time_s: float, finished: RepResult | None = None) -> LiveState:
    return LiveState(time_s=time_s, exercise="deadlift", view="side", rep_count=1, phase="top", depth=0.2,
                     finished_rep=finished, last_rep=finished)


def test_a_finished_reps_cue_stays_in_the_banner_for_its_seconds():
    fault = Fault("hips_rise_early", "fault", 1, 0, 10, 0.0, 0.3, 20.0, 15.0, "deg", "Chest up", "hips rose")
    overlay = LiveStateAnnotator()
    first = overlay.annotate(blank(240, 200), _state(10.0, _rep(1, [fault])))
    assert overlay.banner == ("Rep 1: Chest up", "fault", 10.0) and overlay.showing_cue(10.0 + BANNER_S - 0.1)
    top_row = first[2, 5:-5].astype(int)
    assert np.all(np.abs(top_row - (50, 50, 230)) < 30), "the fault banner is red across the top"
    later = overlay.annotate(blank(240, 200), replace(_state(10.0 + BANNER_S + 0.1), last_rep=_rep(1, [fault])))
    assert not overlay.showing_cue(10.0 + BANNER_S + 0.1)
    assert (later[2, 5:-5] == GREY).all(), "gone after BANNER_S seconds"
    overlay.annotate(blank(240, 200), _state(20.0, _rep(2)))
    assert overlay.banner == ("Rep 2: good", "info", 20.0)
    overlay.reset()
    assert overlay.banner is None and not overlay.showing_cue(20.0)


def test_dorsal_edge_is_the_trunk_side_away_from_the_toes():
    pose = stick_track([5.0], [5.0], facing=1)[0]
    edges = np.zeros_like(pose.trunk_edges)
    edges[:, 0, 0], edges[:, 1, 0] = 400.0, 100.0  # side 0 in front (facing right), side 1 behind
    pose = replace(pose, trunk_edges=edges, visibility=np.ones(lm.NUM_LANDMARKS, np.float32))
    assert (dorsal_edge(pose)[:, 0] == 100.0).all()
    mirrored = stick_track([5.0], [5.0], facing=-1)[0]
    mirrored = replace(mirrored, trunk_edges=edges, visibility=np.ones(lm.NUM_LANDMARKS, np.float32))
    assert (dorsal_edge(mirrored)[:, 0] == 400.0).all()
    assert dorsal_edge(replace(pose, trunk_edges=np.full_like(edges, np.nan))) is None


def test_the_skeleton_colour_is_cyan_by_default():
    xy = np.full((lm.NUM_LANDMARKS, 2), np.nan)
    xy[lm.LEFT_SHOULDER], xy[lm.RIGHT_SHOULDER] = (40, 100), (200, 100)
    scene = SkeletonAnnotator().annotate(blank(240, 200), Keypoints(xy))
    assert np.abs(scene[100, 120].astype(int) - CYAN).max() < 40
