"""Tests for formcheck.render.draw: each annotator draws where it should, and shrugs off NaN."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from formcheck.pose.landmarks import LEFT_HIP, LEFT_SHOULDER, NUM_LANDMARKS, RIGHT_SHOULDER
from formcheck.render.draw import (
    AMBER,
    GREEN,
    RED,
    SEVERITY_COLORS,
    draw_angle,
    draw_back_curve,
    draw_banner,
    draw_gauge,
    draw_rep_counter,
    draw_skeleton,
    draw_text_panel,
)

from conftest import GREY, blank, changed



def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(mask)
    return rows.min(), rows.max(), cols.min(), cols.max()


def nan_pose() -> tuple[np.ndarray, np.ndarray]:
    return np.full((NUM_LANDMARKS, 2), np.nan), np.ones(NUM_LANDMARKS)


@pytest.fixture(autouse=True)
def no_numpy_warnings():
    """NaN must be skipped quietly, not pushed through casts that warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


# ---------------------------------------------------------------------------- skeleton
def test_skeleton_draws_a_bone_between_visible_joints():
    xy, visibility = nan_pose()
    xy[LEFT_SHOULDER], xy[RIGHT_SHOULDER] = (50, 100), (150, 100)
    frame = blank()
    assert draw_skeleton(frame, xy, visibility) is frame
    drawn = changed(frame)
    assert drawn[100, 100]  # middle of the shoulder line
    assert not drawn[20, 20] and not drawn[180, 100]


def test_skeleton_skips_joints_below_min_visibility_or_nan():
    xy, visibility = nan_pose()
    xy[LEFT_SHOULDER], xy[RIGHT_SHOULDER], xy[LEFT_HIP] = (50, 100), (150, 100), (50, 180)
    visibility[RIGHT_SHOULDER] = 0.2
    visibility[LEFT_HIP] = np.nan
    frame = draw_skeleton(blank(), xy, visibility, min_visibility=0.5)
    drawn = changed(frame)
    assert not drawn[100, 100]  # shoulder line needs the hidden right shoulder
    assert not drawn[140, 50]  # left shoulder–hip line needs the NaN-visibility hip
    assert drawn[100, 50]  # the visible left shoulder itself is marked


def test_skeleton_of_nothing_changes_nothing():
    xy, visibility = nan_pose()
    frame = draw_skeleton(blank(), xy, visibility)
    assert not changed(frame).any()


# ---------------------------------------------------------------------------- angle
def _ring_pixels(frame, vertex, radius_range, angle_deg):
    """Whether any pixel along a ray from ``vertex`` within ``radius_range`` changed."""
    angle = np.radians(angle_deg)
    radii = np.arange(*radius_range)
    xs = np.round(vertex[0] + radii * np.cos(angle)).astype(int)
    ys = np.round(vertex[1] + radii * np.sin(angle)).astype(int)
    return changed(frame)[ys, xs].any()


def test_angle_arc_spans_the_angle_between_the_rays():
    vertex = (100, 100)
    frame = draw_angle(blank(), vertex, (190, 100), (100, 190), 90.0, "knee")
    # Right (0°) and down (90°) rays: the arc lies in the lower-right quadrant.
    assert _ring_pixels(frame, vertex, (4, 40), 45)
    assert not _ring_pixels(frame, vertex, (4, 40), 225)
    assert not _ring_pixels(frame, vertex, (4, 40), 135)


def test_angle_arc_takes_the_smaller_side():
    vertex = (100, 100)
    # Rays to the right (0°) and up (-90°): the arc must go through up-right, not round the bottom.
    frame = draw_angle(blank(), vertex, (190, 100), (100, 10), 90.0)
    assert _ring_pixels(frame, vertex, (4, 40), -45)
    assert not _ring_pixels(frame, vertex, (4, 40), 90)
    assert not _ring_pixels(frame, vertex, (4, 40), 180)


def test_angle_text_shows_the_value():
    base = draw_angle(blank(), (100, 100), (190, 100), (100, 190), 90.0, "knee")
    other = draw_angle(blank(), (100, 100), (190, 100), (100, 190), 47.0, "knee")
    assert (base != other).any()


@pytest.mark.parametrize(
    "vertex, a, b, degrees",
    [
        ((np.nan, 100), (190, 100), (100, 190), 90.0),
        ((100, 100), (np.nan, np.nan), (100, 190), 90.0),
        ((100, 100), (190, 100), (100, 190), np.nan),
        ((100, 100), (100, 100), (100, 190), 90.0),  # zero-length arm
    ],
)
def test_angle_with_missing_input_draws_nothing(vertex, a, b, degrees):
    frame = draw_angle(blank(), vertex, a, b, degrees, "hip")
    assert not changed(frame).any()


# ---------------------------------------------------------------------------- rep counter
def test_rep_counter_draws_in_its_corner_and_shows_the_count():
    frame = draw_rep_counter(blank(400, 300), 3, "descent")
    top, bottom, left, right = bounding_box(changed(frame))
    assert top > 150 and left > 200  # bottom-right by default
    assert (frame != draw_rep_counter(blank(400, 300), 4, "descent")).any()
    assert (frame != draw_rep_counter(blank(400, 300), 3, "ascent")).any()

    frame = draw_rep_counter(blank(400, 300), 3, "", corner="top-left")
    top, bottom, left, right = bounding_box(changed(frame))
    assert bottom < 150 and right < 200


# ---------------------------------------------------------------------------- banner
@pytest.mark.parametrize("severity", ["info", "caution", "fault"])
def test_banner_fills_the_top_in_the_severity_colour(severity):
    frame = draw_banner(blank(360, 640), "Bar drifting forward", severity)
    colour = np.array(SEVERITY_COLORS[severity])
    assert (frame[3, 3] == colour).all() and (frame[3, -4] == colour).all()
    assert not changed(frame[320:]).any()


def test_banner_colours_differ_by_severity():
    colours = {s: tuple(draw_banner(blank(360, 640), "x", s)[2, 2]) for s in ("info", "caution", "fault")}
    assert len(set(colours.values())) == 3
    b, g, r = colours["fault"]
    assert r > 150 and r > b + 100  # red


def test_long_banner_wraps_to_stay_on_a_narrow_frame():
    text = "Lower back rounding at the bottom of rep 2: brace before you descend"
    short = draw_banner(blank(360, 640), "Good rep", "fault")
    long = draw_banner(blank(360, 640), text, "fault")
    red = np.array(SEVERITY_COLORS["fault"])

    def banner_height(frame):
        return int(np.all(frame[:, 0] == red, axis=1).sum())

    assert banner_height(long) > 1.5 * banner_height(short)  # at least one more line
    # Text never runs into the right margin: the last columns stay plain banner colour.
    assert np.all(long[: banner_height(long), -3:] == red)


def test_banner_rejects_unknown_severity_and_ignores_empty_text():
    with pytest.raises(ValueError):
        draw_banner(blank(), "x", "warning")
    assert not changed(draw_banner(blank(), "", "fault")).any()


# ---------------------------------------------------------------------------- back curve
def test_back_curve_breaks_at_nan():
    points = np.array([[20, 50], [60, 50], [100, 50], [np.nan, np.nan], [140, 150], [180, 150]], float)
    frame = draw_back_curve(blank(), points)
    drawn = changed(frame)
    assert drawn[50, 40] and drawn[50, 80] and drawn[150, 160]
    assert not drawn[100, 120]  # no segment bridges the gap
    assert not changed(draw_back_curve(blank(), np.full((5, 2), np.nan))).any()


# ---------------------------------------------------------------------------- gauge
def _count(frame, colour):
    return int(np.all(frame == np.array(colour, np.uint8), axis=2).sum())


def test_gauge_fill_grows_with_value_and_is_coloured_by_threshold():
    def draw(value):
        return draw_gauge(blank(300, 400), value, 0, 45, "lumbar", thresholds=(15, 25))

    low, middle, high = draw(10), draw(20), draw(40)
    assert _count(low, GREEN) > 0 and _count(low, AMBER) == 0 and _count(low, RED) == 0
    assert _count(middle, AMBER) > _count(low, GREEN)
    assert _count(high, RED) > _count(middle, AMBER)
    assert _count(draw(80), RED) == _count(draw(45), RED)  # clipped at the top


def test_gauge_with_reversed_thresholds_flags_low_values():
    frame = draw_gauge(blank(300, 400), 5, 0, 100, "depth", thresholds=(40, 20))
    assert _count(frame, RED) > 0 and _count(frame, GREEN) == 0
    frame = draw_gauge(blank(300, 400), 80, 0, 100, "depth", thresholds=(40, 20))
    assert _count(frame, GREEN) > 0


def test_gauge_sides_and_nan():
    right = changed(draw_gauge(blank(300, 400), 10, 0, 45, "lumbar", (15, 25), position="right"))
    left = changed(draw_gauge(blank(300, 400), 10, 0, 45, "lumbar", (15, 25), position="left"))
    assert bounding_box(right)[2] > 150 and bounding_box(left)[3] < 150
    empty = draw_gauge(blank(300, 400), np.nan, 0, 45, "lumbar", (15, 25))
    assert changed(empty).any()  # the outline and label are still drawn
    assert _count(empty, GREEN) == _count(empty, AMBER) == _count(empty, RED) == 0
    with pytest.raises(ValueError):
        draw_gauge(blank(), 1, 5, 5, "x")


# ---------------------------------------------------------------------------- text panel
def test_text_panel_goes_in_the_corner_and_scales_with_the_frame():
    frame = draw_text_panel(blank(400, 300), ["fps 29.8", "latency 43 ms", "knee 95°"])
    top, bottom, left, right = bounding_box(changed(frame))
    assert top > 150 and right < 200
    assert not changed(draw_text_panel(blank(400, 300), [])).any()

    small = bounding_box(changed(draw_text_panel(blank(640, 360), ["fps 30"])))
    large = bounding_box(changed(draw_text_panel(blank(1920, 1080), ["fps 30"])))
    assert (large[1] - large[0]) > 2 * (small[1] - small[0])


def test_text_panel_rejects_unknown_corner():
    with pytest.raises(ValueError):
        draw_text_panel(blank(), ["x"], corner="middle")
