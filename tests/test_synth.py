"""The synthetic ground-truth factory: kinematics, silhouettes, truth, tracks, clips, CLI."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from formcheck.pose import landmarks as lm
from formcheck.pose.silhouette import trunk_edges_from_mask
from formcheck.synth import SynthSpec, SynthTruth, TrackNoise, make_truth, synthetic_track, write_clip
from formcheck.synth import body as bm
from formcheck.synth.__main__ import build_parser, main
from formcheck.synth.camera import Camera
from formcheck.synth.channels import lumbar_lean_gain
from formcheck.synth.motion import Motion, generate
from formcheck.synth.timeline import PHASE_CODE
from formcheck.synth.reference_cycle import normalised_shape
from formcheck.synth.render import Renderer, Style
from formcheck.pose.track import TRUNK_STATIONS

DIMS = bm.BodyDims.from_height(1.75)


def _random_pose(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return bm.BodyPose(
        pelvis_tilt=rng.uniform(-10, 80, n), hip_flexion=rng.uniform(-10, 120, n), knee_flexion=rng.uniform(0, 130, n),
        heel_rise=rng.uniform(0, 20, n), lumbar_flexion=rng.uniform(-15, 45, n),
        thoracic_flexion=rng.uniform(-10, 30, n),
        neck_flexion=rng.uniform(-30, 30, n), shoulder_flexion=rng.uniform(-30, 120, n),
        elbow_flexion=rng.uniform(0, 120, n),
    )


# ---------------------------------------------------------------- forward kinematics
def test_segment_lengths_are_preserved():
    skel = bm.forward_kinematics(DIMS, _random_pose())
    P = skel.points
    dist = lambda a, b: np.linalg.norm(P[a][:, :2] - P[b][:, :2], axis=-1)  # noqa: E731 - sagittal lengths
    assert np.allclose(dist("hip_r", "knee_r"), DIMS.thigh)
    assert np.allclose(dist("knee_r", "ankle_r"), DIMS.shank)
    assert np.allclose(dist("shoulder_r", "elbow_r"), DIMS.upper_arm)
    assert np.allclose(dist("elbow_r", "wrist_r"), DIMS.forearm)
    # Spine segments keep their neutral lengths whatever the curvature.
    neutral = bm.forward_kinematics(DIMS, bm.BodyPose())
    for a, b in (("S1", "L3"), ("L3", "T12"), ("T12", "T7"), ("T7", "C7")):
        length = np.linalg.norm(P[b] - P[a], axis=-1)
        assert np.allclose(length, np.linalg.norm(neutral.points[b] - neutral.points[a], axis=-1))


def test_feet_stay_planted_on_the_floor():
    pose = _random_pose()
    skel = bm.forward_kinematics(DIMS, pose)
    P = skel.points
    assert np.allclose(P["foot_ball_sole_r"][:, 1], 0.0)
    assert np.allclose(P["foot_ball_sole_r"][:, 0], 0.04 * DIMS.height)  # mid-foot at x = 0
    heel_rise = np.asarray(pose.heel_rise)
    assert np.all(P["foot_heel_sole_r"][:, 1] > 0.5 * np.sin(np.radians(heel_rise)) * 0.11 * DIMS.height)
    flat = bm.forward_kinematics(DIMS, pose.replace(heel_rise=0.0))
    assert np.allclose(flat.points["foot_heel_sole_l"][:, 1], 0.0, atol=1e-9)
    # Standing: hips at the anthropometric height, head top near body height.
    stand = bm.forward_kinematics(DIMS, bm.BodyPose())
    assert stand.points["hip_centre"][0, 1] == pytest.approx(0.530 * DIMS.height, rel=0.01)
    assert bm.body_top_y(stand)[0] == pytest.approx(DIMS.height, rel=0.02)


def test_hinge_keeps_hip_shoulder_distance_and_lumbar_flexion_shrinks_it():
    tilt = np.linspace(0, 90, 10)
    hinge = bm.forward_kinematics(DIMS, bm.BodyPose(pelvis_tilt=tilt, hip_flexion=tilt))
    d = bm.hip_shoulder_joint_distance(hinge)
    assert np.ptp(d) < 1e-9
    assert np.allclose(bm.trunk_inclination_deg(hinge) - tilt, bm.trunk_inclination_deg(hinge)[0])
    flex = np.array([0.0, 20.0, 30.0, 40.0])
    rounded = bm.forward_kinematics(DIMS, bm.BodyPose(pelvis_tilt=40.0, hip_flexion=40.0, lumbar_flexion=flex))
    shrink = 100 * (1 - bm.hip_shoulder_joint_distance(rounded) / d[0])
    assert shrink[0] == pytest.approx(0.0, abs=1e-9)
    assert shrink[1:] == pytest.approx([6.0, 9.0, 13.0], abs=2.0)
    # About 70 % of lumbar flexion shows up as extra trunk lean (NOTES).
    gain = lumbar_lean_gain(DIMS, np.array([30.0]))[0] / 30.0
    assert 0.6 < gain < 0.8


def test_landmarks_follow_the_pose_model_convention():
    skel = bm.forward_kinematics(DIMS, bm.BodyPose())
    L = bm.blazepose_landmarks(skel)[0]
    # Shoulder landmark 4 cm above the joint centre; ear 3 cm ahead of the anatomical ear.
    assert L[lm.RIGHT_SHOULDER, 1] - skel.points["shoulder_r"][0, 1] == pytest.approx(0.04, abs=1e-6)
    assert L[lm.RIGHT_EAR, 0] - skel.points["head_ear_r"][0, 0] == pytest.approx(0.03, abs=1e-6)
    assert np.allclose(L[lm.LEFT_KNEE], skel.points["knee_l"][0])
    # Facing +X: nose ahead of the ears, toes ahead of the heels; left side at -Z.
    assert L[lm.NOSE, 0] > L[lm.LEFT_EAR, 0]
    assert L[lm.LEFT_FOOT_INDEX, 0] > L[lm.LEFT_HEEL, 0]
    assert L[lm.LEFT_HIP, 2] < 0 < L[lm.RIGHT_HIP, 2]


def test_arm_inverse_kinematics_reaches_the_target():
    skel = bm.forward_kinematics(DIMS, bm.BodyPose(pelvis_tilt=50, hip_flexion=70, knee_flexion=40))
    target = skel.points["shoulder_r"][:, :2] + np.array([[0.1, -0.5]])
    s, e = bm.arm_angles_to_reach(skel, target)
    arm = bm.forward_kinematics(DIMS, bm.BodyPose(pelvis_tilt=50, hip_flexion=70, knee_flexion=40,
                                                  shoulder_flexion=s, elbow_flexion=e))
    assert np.allclose(arm.points["grip_r"][:, :2], target, atol=1e-9)
    assert e[0] > 10  # target inside reach: the elbow bends


# ---------------------------------------------------------------- camera
def test_camera_side_view_geometry():
    cam = Camera()
    xy, depth = cam.project(np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))
    assert xy[0] == pytest.approx(cam.principal_point)        # target at camera height → image centre
    assert xy[1, 0] - xy[0, 0] == pytest.approx(200.0)          # 1 m forward at 4 m → +200 px (faces right)
    assert xy[2, 1] - xy[0, 1] == pytest.approx(200.0)          # floor 1 m below → 200 px lower
    assert depth == pytest.approx([4.0, 4.0, 4.0])
    turned = Camera(yaw_deg=30.0)
    assert turned.project(np.array([[1.0, 1.0, 0.0]]))[1][0] < 4.0  # camera swung toward the front


# ---------------------------------------------------------------- silhouette edges
def _supersampled(draw, size=(480, 640), ss=8):
    big = np.zeros((size[0] * ss, size[1] * ss), np.uint8)
    draw(big, ss)
    return cv2.resize(big, (size[1], size[0]), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def test_trunk_edges_on_a_rectangle_are_exact():
    mask = np.zeros((480, 640), np.float32)
    mask[100:400, 250:371] = 1.0  # pixels 250..370: edges at x = 249.5 and 370.5
    edges = trunk_edges_from_mask(mask, (310.0, 380.0), (310.0, 120.0))
    assert edges.shape == (TRUNK_STATIONS, 2, 2)
    # Axis points up: +normal = (-a_y, a_x) = (1, 0) → side 0 is to the right.
    assert np.allclose(edges[:, 0, 0], 370.5, atol=0.02)
    assert np.allclose(edges[:, 1, 0], 249.5, atol=0.02)
    assert np.allclose(edges[:, 0, 1], np.linspace(380, 120, TRUNK_STATIONS))


def test_trunk_edges_on_an_oblique_ellipse_match_the_analytic_outline():
    cx, cy, ax, ay = 320.0, 240.0, 70.0, 160.0

    def draw(img, ss):
        # Small-image coordinate x sits at x * ss + (ss - 1) / 2 in the big image; 4 sub-pixel bits.
        centre = tuple(int(round((v * ss + (ss - 1) / 2) * 16)) for v in (cx, cy))
        cv2.ellipse(img, centre, (int(ax * ss * 16), int(ay * ss * 16)), 0, 0, 360, 255, -1, cv2.LINE_8, 4)

    mask = _supersampled(draw)
    hip, shoulder = np.array([cx - 30, cy + 110]), np.array([cx + 30, cy - 110])
    edges = trunk_edges_from_mask(mask, hip, shoulder)
    a = (shoulder - hip) / np.linalg.norm(shoulder - hip)
    normal = np.array([-a[1], a[0]])
    for k, s in enumerate(np.linspace(0, 1, TRUNK_STATIONS)):
        p = hip + s * (shoulder - hip)
        for side, sign in enumerate((1.0, -1.0)):
            d = sign * normal
            # Solve ((p + t d - c) / axes)^2 = 1 for t > 0.
            q, r = (p - [cx, cy]) / [ax, ay], d / [ax, ay]
            A, B, C = r @ r, 2 * q @ r, q @ q - 1
            t = (-B + np.sqrt(B * B - 4 * A * C)) / (2 * A)
            assert np.allclose(edges[k, side], p + t * d, atol=0.15), (k, side)


def test_trunk_edges_nan_cases_and_speed():
    mask = np.zeros((480, 640), np.float32)
    mask[:, 300:] = 1.0  # right half full: no edge on side 0 within one trunk length
    edges = trunk_edges_from_mask(mask, (310.0, 300.0), (310.0, 200.0))
    assert np.isnan(edges[:, 0]).all() and np.isfinite(edges[:, 1]).all()
    outside = trunk_edges_from_mask(mask, (100.0, 300.0), (100.0, 200.0))  # axis outside the mask
    assert np.isnan(outside).all()
    assert np.isnan(trunk_edges_from_mask(mask, (310.0, 300.0), (310.0, 300.0))).all()
    assert np.allclose(trunk_edges_from_mask((mask * 255).astype(np.uint8), (310.0, 300.0), (310.0, 200.0))[:, 1, 0],
                       299.5, atol=0.02)
    blob = np.zeros((480, 640), np.float32)
    cv2.ellipse(blob, (320, 240), (60, 140), 20, 0, 360, 1.0, -1)
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        trunk_edges_from_mask(blob, (300.0, 360.0), (340.0, 120.0))
        times.append(time.perf_counter() - t0)
    assert np.median(times) < 2e-3  # ≈ 0.3 ms here; 1 ms budget


# ---------------------------------------------------------------- rendered silhouette
def _back_kink_deg(lumbar: float, trunk_deg: float = 55.0) -> float:
    """Kink of the rendered back between its lower and upper halves, at a fixed trunk inclination.

    Positive = convex (the back rises away from the hip→shoulder axis, then
    falls back toward it), as measured on real masks (NOTES).
    """
    pose = bm.BodyPose(knee_flexion=15.0, lumbar_flexion=lumbar)
    incl = bm.trunk_inclination_deg(bm.forward_kinematics(DIMS, pose))[0]
    tilt = trunk_deg - incl  # rotating the pelvis turns the whole trunk rigidly
    pose = pose.replace(pelvis_tilt=tilt, hip_flexion=tilt)
    skel = bm.forward_kinematics(DIMS, pose)
    assert bm.trunk_inclination_deg(skel)[0] == pytest.approx(trunk_deg, abs=1e-6)
    pose = pose.replace(shoulder_flexion=np.degrees(skel.angles["upper_thoracic"]))  # arms hang
    cam = Camera()
    mask = next(Renderer(cam, Style(supersample=2), paint=False).masks(Motion.from_pose(pose, DIMS)))
    xy = cam.project(bm.blazepose_landmarks(skel))[0][0]
    hip = 0.5 * (xy[lm.LEFT_HIP] + xy[lm.RIGHT_HIP])
    shoulder = 0.5 * (xy[lm.LEFT_SHOULDER] + xy[lm.RIGHT_SHOULDER])
    back = trunk_edges_from_mask(mask, hip, shoulder)[:, 1]  # side 1 = back when facing right
    assert np.isfinite(back[2:19]).all()
    a = (shoulder - hip) / np.linalg.norm(shoulder - hip)
    along, out = (back - hip) @ a, (back - hip) @ np.array([a[1], -a[0]])  # out: toward the back
    lower = np.polyfit(along[2:11], out[2:11], 1)[0]
    upper = np.polyfit(along[10:19], out[10:19], 1)[0]
    return float(np.degrees(np.arctan(lower) - np.arctan(upper)))


def test_rounded_lower_back_renders_convex_at_equal_trunk_lean():
    neutral = _back_kink_deg(0.0)
    rounded = _back_kink_deg(30.0)
    assert abs(neutral) < 5.0
    assert rounded > 8.0             # a hump: convex dorsal outline
    assert rounded > neutral + 8.0   # NOTES: real masks show ≈ 0.55 × the flexion


# ---------------------------------------------------------------- motion and truth
@pytest.mark.parametrize("exercise", ["squat", "deadlift", "rdl", "good_morning", "kettlebell_swing"])
def test_phases_and_rep_boundaries_are_consistent(exercise):
    motion = generate(exercise=exercise, reps=3, fps=30.0, seed=3)
    assert len(motion.reps) == 3
    t, phase = motion.time_s, motion.phase
    assert phase[0] == PHASE_CODE["setup"]
    prev_end = 0.0
    hip = motion.skeleton().pose["hip_flexion"]
    for rep in motion.reps:
        assert prev_end <= rep.start_s <= rep.bottom_s <= rep.lockout_s + 1e-9 and rep.start_s < rep.end_s
        inside = (t > rep.start_s + 1e-6) & (t < rep.end_s - 1e-6)
        assert not np.any(phase[inside] == PHASE_CODE["setup"])
        # The deepest hip flexion of the rep is at its bottom.
        k_bottom = int(round(rep.bottom_s * motion.fps))
        assert hip[k_bottom] >= hip[inside].max() - 2.0
        if exercise != "deadlift":
            assert np.all(phase[(t > rep.start_s + 1e-6) & (t < rep.bottom_s - 0.2)] == PHASE_CODE["descent"])
        prev_end = rep.end_s
    assert np.all(np.isin(phase, list(PHASE_CODE.values())))
    assert np.all(np.diff(t) > 0) and np.allclose(np.diff(t), 1 / 30.0)


def test_faults_are_labelled_on_the_chosen_reps_only():
    motion = generate(exercise="deadlift", reps=3, faults={"lumbar_flexion": 30.0}, fault_reps=(1,), seed=1)
    assert [r.faults for r in motion.reps] == [(), ("lumbar_flexion",), ()]
    lumbar = motion.skeleton().pose["lumbar_flexion"]
    for rep in motion.reps:
        sel = (motion.time_s >= rep.start_s) & (motion.time_s <= rep.end_s)
        assert lumbar[sel].max() == pytest.approx(30.0 if rep.index == 1 else 0.0, abs=0.5)
    shallow = generate(exercise="squat", reps=2, faults={"shallow_depth": 0.8})
    assert all("shallow_depth" in r.faults for r in shallow.reps)
    deep = generate(exercise="squat", reps=2, depth=1.1)
    assert all(r.faults == () for r in deep.reps)


def test_lumbar_range_and_validation():
    rounded = generate(exercise="rdl", reps=1, faults={"lumbar_flexion": 45.0})
    arched = generate(exercise="squat", reps=1, faults={"lumbar_hyperextension": 15.0})
    assert rounded.skeleton().pose["lumbar_flexion"].max() == pytest.approx(45.0, abs=0.5)
    assert arched.skeleton().pose["lumbar_flexion"].min() == pytest.approx(-15.0, abs=0.5)
    with pytest.raises(ValueError, match="severity"):
        generate(exercise="rdl", faults={"lumbar_flexion": 46.0})
    with pytest.raises(ValueError, match="does not apply"):
        generate(exercise="squat", faults={"hips_rise_early": 0.5})
    with pytest.raises(ValueError, match="unknown exercise"):
        generate(exercise="bench")


def test_reference_cycle_is_normalised_and_drives_the_squat():
    phase = np.linspace(0, 1, 101)
    for name in ("knee_flexion", "hip_flexion", "pelvis_tilt", "ankle_dorsiflexion"):
        shape = normalised_shape(name, phase)
        assert shape[0] == pytest.approx(0.0) and shape[50] == pytest.approx(1.0) and shape[-1] == pytest.approx(0.0)
        assert shape.min() >= -0.05 and shape.max() <= 1.05  # real data: tiny over- and undershoots
    # The pelvis leads the knee on the way down (real squat timing).
    assert normalised_shape("pelvis_tilt", 0.15) > normalised_shape("knee_flexion", 0.15)


def test_hips_rising_early_tip_the_trunk_over():
    def pull(faults):
        m = generate(exercise="deadlift", reps=1, faults=faults, variability=0.0)
        r = m.reps[0]
        sel = (m.time_s >= r.start_s) & (m.time_s <= r.lockout_s)
        skel = m.skeleton()
        return bm.trunk_inclination_deg(skel)[sel], skel.points["hip_centre"][sel, 1], m.implement_anchor[sel, 1]

    trunk, hip_y, bar_y = pull({})
    assert trunk.max() < trunk[0] + 1.0  # a good pull never tips the trunk further over
    trunk, hip_y_early, bar_y_early = pull({"hips_rise_early": 1.0})
    assert trunk.max() > trunk[0] + 10.0
    # When the hips are 80 % of the way up, the bar has risen less than in a good pull.
    k_good = np.argmax(hip_y - hip_y[0] > 0.8 * np.ptp(hip_y))
    k_bad = np.argmax(hip_y_early - hip_y_early[0] > 0.8 * np.ptp(hip_y_early))
    assert bar_y_early[k_bad] - bar_y_early[0] < 0.5 * (bar_y[k_good] - bar_y[0])


def test_truth_without_rendering_and_its_files(tmp_path):
    spec = SynthSpec("squat", reps=2, faults={"butt_wink": 25.0}, setup_s=0.5)
    truth = make_truth(spec)
    n = len(truth)
    assert truth.landmarks_xy.shape == (n, 33, 2) and truth.world.shape == (n, 33, 3)
    assert truth.trunk_edges.shape == (n, TRUNK_STATIONS, 2, 2)
    assert np.isfinite(truth.trunk_edges).mean() > 0.95
    assert truth.rep_faults == (("butt_wink",), ("butt_wink",))
    assert 300 < truth.person_height_px < 400  # 1.75 m at 4 m with f = 800 px
    # World landmarks: hip-centred, y down (head above the hips has negative y).
    hips = truth.world[:, [lm.LEFT_HIP, lm.RIGHT_HIP]].mean(axis=1)
    assert np.allclose(hips, 0.0, atol=1e-6) and np.all(truth.world[:, lm.NOSE, 1] < 0)
    truth.save(tmp_path / "clip.mp4")
    back = SynthTruth.load(tmp_path / "clip.mp4")
    assert np.array_equal(back.phase, truth.phase) and back.rep_faults == truth.rep_faults
    assert (tmp_path / "clip.truth.json").read_text().count('"butt_wink"') >= 2


# ---------------------------------------------------------------- synthetic tracks
def test_synthetic_track_shapes_noise_and_dropouts():
    motion = generate(exercise="deadlift", reps=1, setup_s=0.5, seed=2)
    cam = Camera()
    exact = synthetic_track(motion, cam, noise=None)
    noisy = synthetic_track(motion, cam, noise=TrackNoise(dropout_rate=0.05, drift_px=0.0), rng=5)
    n = len(motion)
    assert noisy.xy.shape == (n, 33, 2) and noisy.trunk_edges.shape == (n, TRUNK_STATIONS, 2, 2)
    dropped = ~noisy.detected
    assert 0 < dropped.sum() < n // 2 and noisy.detected[0]
    assert np.isnan(noisy.world[dropped]).all() and np.isnan(noisy.trunk_edges[dropped]).all()
    assert np.all(noisy.visibility[dropped] == 0)
    err = np.linalg.norm(noisy.xy[~dropped] - exact.xy[~dropped], axis=-1)
    assert 0.4 < np.sqrt(np.mean(err**2) / 2) < 1.6  # per-axis jitter within 0.5–1.5 px
    # The far side (left, camera on the right) is less visible.
    ok = ~dropped
    assert noisy.visibility[ok][:, lm.LEFT_KNEE].mean() < noisy.visibility[ok][:, lm.RIGHT_KNEE].mean() - 0.1
    # Exact edges follow the silhouette: the back (side 1 when facing right) is behind the hip→shoulder axis.
    truth_xy = exact.xy
    assert np.isfinite(exact.trunk_edges).mean() > 0.95
    k = int(round(motion.reps[0].start_s * motion.fps))
    hip = truth_xy[k, [lm.LEFT_HIP, lm.RIGHT_HIP]].mean(axis=0)
    back_mid = exact.trunk_edges[k, TRUNK_STATIONS // 2, 1]
    assert back_mid[1] < hip[1]  # at the start of the pull the back faces up


# ---------------------------------------------------------------- clips and CLI
def test_write_clip_round_trip(tmp_path):
    spec = SynthSpec("squat", reps=1, setup_s=0.3, tempo=0.5, image_size=(320, 240), focal_px=400.0,
                     background="plain", seed=4)
    out = tmp_path / "sq.mp4"
    truth = write_clip(out, spec)
    cap = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    assert len(frames) == len(truth) > 10
    assert frames[0].shape == (240, 320, 3)
    assert truth.frame_size == (320, 240)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sq.mp4", "sq.truth.json", "sq.truth.npz"]
    # The lifter is where the truth says: darker/colourful pixels around the hip landmark.
    k = len(truth) // 2
    hip = truth.landmarks_xy[k, [lm.LEFT_HIP, lm.RIGHT_HIP]].mean(axis=0).round().astype(int)
    background = frames[k][5, 5].astype(int)
    assert np.abs(frames[k][hip[1], hip[0]].astype(int) - background).sum() > 40


def test_cli_bad_arguments_exit_2(capsys):
    parser = build_parser()
    assert parser.prog
    for argv in (["squat", "--out", "x.mp4", "--lumbar-flexion", "20"],
                 ["squat", "--out", "x.mp4", "--size", "64x"],
                 ["bench", "--out", "x.mp4"],
                 ["deadlift"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "error:" in err


def test_cli_writes_a_clip(tmp_path, capsys):
    out = tmp_path / "dl.mp4"
    code = main(["deadlift", "--lumbar-flexion", "30", "--reps", "1", "--setup", "0.2", "--tempo", "0.4",
                 "--size", "320x240", "--focal", "400", "--background", "plain", "--out", str(out),
                 "--track", str(tmp_path / "dl_track.npz")])
    assert code == 0
    assert out.is_file() and (tmp_path / "dl.truth.npz").is_file() and (tmp_path / "dl_track.npz").is_file()
    assert SynthTruth.load(out).rep_faults == (("lumbar_flexion",),)
    assert "lumbar_flexion=30" in capsys.readouterr().out
