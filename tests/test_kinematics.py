import numpy as np
import pytest

from conftest import stick_track
from formcheck.measure.kinematics import camera_view, compute_kinematics, joint_angle


def test_joint_angle_right_angle():
    assert joint_angle(np.array([1.0, 0]), np.array([0.0, 0]), np.array([0.0, 1])) == pytest.approx(90)


@pytest.mark.parametrize("facing", [1, -1])
def test_side_view_angles_and_signs(facing):
    knee = np.array([0.0, 60.0, 90.0])
    hip = np.array([0.0, 80.0, 100.0])
    kin = compute_kinematics(stick_track(knee, hip, facing=facing))
    assert kin.view == "side"
    assert kin.facing == facing
    np.testing.assert_allclose(kin["knee_flexion"], knee, atol=0.5)
    np.testing.assert_allclose(kin["hip_flexion"], hip, atol=0.5)
    # shin leans forward by 0.3 × knee flexion (≤ 35°); positive means knee ahead of ankle
    np.testing.assert_allclose(kin["shin_angle"], np.minimum(0.3 * knee, 35), atol=0.5)
    # trunk leans forward (positive) whichever way the lifter faces
    assert kin["trunk_inclination"][2] > 20
    # thigh angle: hips below knees at 90° knee flexion with this geometry? hip above knee when shallow
    assert kin["thigh_angle"][0] == pytest.approx(90, abs=1)
    assert kin["thigh_angle"][2] < kin["thigh_angle"][1]


def test_heights_in_leg_lengths():
    kin = compute_kinematics(stick_track(np.array([0.0, 90.0]), np.array([0.0, 90.0])))
    assert kin["hip_height"][0] == pytest.approx(1.0, abs=0.02)
    assert kin["hip_height"][1] < 0.8


def test_front_view_detected_and_side_only_angles_not_from_image():
    n = 10
    front = stick_track(np.zeros(n), np.zeros(n), view="front")
    view, sideness = camera_view(front)
    assert view == "front"
    assert sideness < 25
    assert camera_view(stick_track(np.zeros(n), np.zeros(n)))[0] == "side"
