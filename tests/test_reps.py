import numpy as np
import pytest

from conftest import cycle
from formcheck.reps.counter import RepCounter, RepRule, segment_reps

RULE = RepRule(style="up_down_up", enter=0.5, exit=0.2, min_rep_s=0.6)


def run(depth, rule=RULE, fps=30.0):
    return segment_reps(np.arange(len(depth)) / fps, np.asarray(depth, float), rule)


def test_counts_full_reps_and_ignores_walk_in():
    depth = cycle(45, 3, 0.0, 1.0, stand_frames=60)
    reps = run(depth)
    assert len(reps) == 3
    assert all(r.phases["descent"][0] < r.bottom < r.phases["ascent"][1] for r in reps)


def test_partial_reps_are_not_counted():
    full = cycle(45, 1, 0.0, 1.0)
    half = cycle(45, 1, 0.0, 0.4)  # never reaches the enter threshold
    assert len(run(np.concatenate([full, half, full]))) == 2


def test_bounce_in_the_hole_is_one_rep():
    depth = np.concatenate([np.zeros(20), np.linspace(0, 1, 20), np.linspace(1, 0.3, 8), np.linspace(0.3, 1, 8), np.linspace(1, 0, 20), np.zeros(20)])
    assert len(run(depth)) == 1


def test_pause_at_bottom_and_noise_at_threshold():
    rng = np.random.default_rng(0)
    depth = cycle(45, 2, 0.0, 1.0, pause_frames=60) + rng.normal(0, 0.03, 45 * 2 + 120 + 60)
    depth = np.concatenate([depth, 0.5 + rng.normal(0, 0.05, 60)])  # hovering at the enter threshold
    assert len(run(depth)) == 2


def test_too_fast_rep_is_rejected():
    depth = cycle(8, 1, 0.0, 1.0)  # 0.27 s down-up
    assert run(depth) == []


def test_clip_starting_in_the_hole_does_not_count_that_rep():
    depth = np.concatenate([np.linspace(1, 0, 20), np.zeros(10), cycle(45, 1, 0, 1, stand_frames=5)])
    assert len(run(depth)) == 1


def test_long_gap_resets_the_counter():
    depth = cycle(45, 1, 0, 1, stand_frames=10)
    depth[30:60] = np.nan  # the person left the frame around the bottom
    assert run(depth) == []


def test_deadlift_style_counts_pulls_to_lockout():
    rule = RepRule(style="down_up", enter=0.5, exit=0.2, min_rep_s=0.3)
    # stand, set up at the floor, pull, lower, pull, lower, end at the floor
    depth = np.concatenate([np.zeros(20), np.linspace(0, 1, 20), np.ones(20), cycle(40, 2, 1.0, 0.0, stand_frames=0)])
    reps = run(depth, rule)
    assert len(reps) == 2
    for rep in reps:
        assert rep.phases["ascent"][0] <= rep.phases["lockout"][0] < rep.phases["descent"][0]
    assert "setup" in reps[0].phases


def test_streaming_counter_matches_offline():
    depth = cycle(45, 4, 0.0, 1.0)
    counter = RepCounter(RULE)
    events = [e for i, d in enumerate(depth) if (e := counter.update(i / 30, d))]
    assert [e.bottom for e in events] == [r.bottom for r in run(depth)]
    assert counter.count == 4


def test_deadlift_clip_opening_mid_pull_does_not_count_it():
    rule = RepRule(style="down_up", enter=0.5, exit=0.2, min_rep_s=0.3)
    rising = np.linspace(0.9, 0.0, 15)  # already on the way up in the first frame
    at_floor = np.concatenate([np.ones(15), np.linspace(1.0, 0.0, 20)])  # rests at the floor, then pulls
    tail = np.concatenate([np.zeros(20), cycle(40, 1, 0.0, 1.0, stand_frames=0), np.zeros(10)])
    assert len(run(np.concatenate([rising, tail]), rule)) == 1
    assert len(run(np.concatenate([at_floor, tail]), rule)) == 2


def test_rep_finished_on_the_clip_s_last_frames_counts():
    # The lifter is back at the top on the clip's last frames: too late to hold
    # the top for the whole debounce, but not a glitch.
    depth = cycle(45, 2, 0.0, 1.0, stand_frames=10)
    second_bottom = 10 + 45 + 22
    top = second_bottom + int(np.flatnonzero(depth[second_bottom:] <= RULE.exit)[0])
    assert len(run(depth[: top + 3])) == 2  # three samples (67 ms) at the top
    assert len(run(depth[: top + 1])) == 1  # one sample at the top: could be a glitch


def test_clip_cut_while_still_rising_fast_does_not_count_the_rep():
    # bichraix_good009: the depth falls 0.40 → 0.33 → 0.15 → 0.00 on the last three
    # frames (a fade to another scene): past the exit threshold, but the lifter
    # was never seen arrived at the top. The same pull ending at a lockout
    # held for two frames counts.
    rule = RepRule(style="down_up", enter=0.6, exit=0.35, min_rep_s=0.4)
    pull = np.concatenate([np.ones(15), np.linspace(1.0, 0.4, 20)])
    assert len(run(np.concatenate([pull, [0.33, 0.15, 0.0]]), rule)) == 0
    assert len(run(np.concatenate([pull, [0.33, 0.15, 0.02, 0.0]]), rule)) == 1


def test_top_appearing_after_lost_frames_at_the_end_does_not_count():
    # A cut to another scene: the pose is lost on the way up, and the last two
    # frames show someone standing.
    depth = cycle(45, 1, 0.0, 1.0, stand_frames=10)[:40]
    depth = np.concatenate([depth, np.full(10, np.nan), [0.0, 0.0]])
    assert run(depth) == []


def test_a_short_top_after_lost_frames_is_not_a_rep_until_it_holds():
    # Live there is no clip end: a cut to an end card after lost frames shows
    # someone standing for 5 frames (past the debounce), which is no rep
    # (studio_deadlift_male counted a fifth rep live); a lifter lost on the way
    # up who then stands at the top for 0.3 s completed one.
    depth = cycle(45, 1, 0.0, 1.0, stand_frames=10)[:40]
    lost = np.concatenate([depth, np.full(10, np.nan)])
    counter = RepCounter(RULE)
    events = [counter.update(i / 30.0, d) for i, d in enumerate(np.concatenate([lost, np.zeros(5)]))]
    assert not any(events)
    assert len(run(np.concatenate([lost, np.zeros(9)]))) == 1


def test_bottom_lost_in_a_close_up_is_bridged():
    # A close-up loses the body for 1.2 s at the bottom of each squat; the lifter
    # is seen going down before the gap and coming up after it.
    depth = cycle(120, 2, 0.0, 1.0, stand_frames=15)
    with np.errstate(invalid="ignore"):
        depth[depth > 0.8] = np.nan
    gaps = np.diff(np.flatnonzero(np.isfinite(depth)))
    assert gaps.max() - 1 > 0.5 * 30  # longer than max_gap_s
    assert len(run(depth)) == 2


def test_gap_longer_than_the_bridge_resets_even_when_down_on_both_sides():
    depth = cycle(200, 1, 0.0, 1.0, stand_frames=15)
    depth[60:135] = np.nan  # 2.5 s without a pose
    assert run(depth) == []


def test_one_frame_spike_does_not_make_the_bottom():
    depth = cycle(45, 1, 0.0, 1.0, stand_frames=20)
    spike = 20 + 15  # on the way down
    depth[spike] = 1.4
    reps = run(depth)
    assert len(reps) == 1
    assert reps[0].bottom != spike
    assert abs(reps[0].bottom - (20 + 22)) <= 2


def test_deadlift_pull_is_timed_from_the_floor_not_from_a_glitch():
    # A fast pull (0.3 s) after a second at the floor, with a one-frame pose glitch
    # just before it: the pull started at the floor, so it is long enough to count.
    rule = RepRule(style="down_up", enter=0.5, exit=0.2, min_rep_s=0.4)
    floor = np.ones(30)
    floor[-1] = 1.6
    depth = np.concatenate([np.zeros(20), np.linspace(0, 1, 20), floor, np.linspace(1, 0, 9), np.zeros(20)])
    reps = run(depth, rule)
    assert len(reps) == 1
    assert reps[0].bottom < 20 + 20 + 29
