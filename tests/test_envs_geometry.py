"""Ray casting and collisions against hand-worked cases, and vectorized == one at a time."""
import math

import numpy as np
import pytest

from robonet.envs import geometry

# A 10 m x 10 m box; one robot at (1, 1).
W = H = 10.0
ORIGIN = np.array([[1.0, 1.0]])


def _dirs(*angles):
    """(1, K, 2) unit directions."""
    return geometry.ray_directions(np.zeros(1), np.array(angles, dtype=float))


def test_ray_hits_circle_at_the_near_side():
    # Along +x from (1, 1): the circle centred (4, 1), radius 1, is entered at x = 3.
    d = geometry.ray_circle_distances(ORIGIN, _dirs(0.0), np.array([[[4.0, 1.0]]]), np.array([[1.0]]))
    assert d.shape == (1, 1)
    assert d[0, 0] == pytest.approx(2.0)


def test_tangent_ray_touches_and_missing_ray_gives_inf():
    centers, radii = np.array([[[4.0, 2.0]]]), np.array([[1.0]])
    d = geometry.ray_circle_distances(ORIGIN, _dirs(0.0, math.pi / 2), centers, radii)
    assert d[0, 0] == pytest.approx(3.0)  # y = 1 touches the circle's bottom at (4, 1)
    assert d[0, 1] == np.inf  # straight up misses it


def test_circle_behind_the_ray_is_not_seen_and_origin_inside_reads_zero():
    d = geometry.ray_circle_distances(ORIGIN, _dirs(math.pi), np.array([[[4.0, 1.0]]]), np.array([[1.0]]))
    assert d[0, 0] == np.inf
    d = geometry.ray_circle_distances(ORIGIN, _dirs(0.0), np.array([[[1.5, 1.0]]]), np.array([[1.0]]))
    assert d[0, 0] == 0.0


def test_ray_box_distances_axis_and_diagonal():
    # +x: wall x = 10 at 9; pi: wall x = 0 at 1; +y: 9; direction (0.6, 0.8): y = 10 at 9 / 0.8.
    diagonal = math.atan2(0.8, 0.6)
    d = geometry.ray_box_distances(ORIGIN, _dirs(0.0, math.pi, math.pi / 2, diagonal), W, H)
    np.testing.assert_allclose(d[0], [9.0, 1.0, 9.0, 11.25])


def test_cast_rays_takes_the_nearer_of_circle_and_wall_and_normalises():
    # Rays: +x meets the circle at 2 m; +y meets the top wall at 9 m (beyond the 4 m range);
    # -x meets the left wall at 1 m.
    centers, radii = np.array([[[4.0, 1.0]]]), np.array([[1.0]])
    r = geometry.cast_rays(ORIGIN, np.zeros(1), np.array([0.0, math.pi / 2, math.pi]), centers, radii, W, H, 4.0)
    np.testing.assert_allclose(r[0], [0.5, 1.0, 0.25])
    # a wall nearer than the circle: the circle at 12 m is hidden by the wall at 9 m
    r = geometry.cast_rays(ORIGIN, np.zeros(1), np.array([0.0]), np.array([[[13.0, 1.0]]]), radii, W, H, 20.0)
    assert r[0, 0] == pytest.approx(9.0 / 20.0)


def test_padding_obstacles_are_never_hit_and_no_obstacles_works():
    pad_c = np.full((1, 3, 2), geometry.FAR_AWAY)
    pad_r = np.zeros((1, 3))
    r = geometry.cast_rays(ORIGIN, np.zeros(1), np.array([0.0]), pad_c, pad_r, W, H, 20.0)
    assert r[0, 0] == pytest.approx(9.0 / 20.0)
    r0 = geometry.cast_rays(ORIGIN, np.zeros(1), np.array([0.0]), np.zeros((1, 0, 2)), np.zeros((1, 0)), W, H, 20.0)
    assert r0[0, 0] == r[0, 0]
    assert geometry.clearances(ORIGIN, 0.1, np.zeros((1, 0, 2)), np.zeros((1, 0)), W, H)[0] == pytest.approx(0.9)


def test_clearances_and_collisions():
    centers, radii = np.array([[[2.0, 1.0]]]), np.array([[0.5]])
    positions = np.array([[1.0, 1.0], [1.6, 1.0], [1.35, 1.0], [0.1, 5.0], [5.0, 9.95]])
    n = len(positions)
    c, r = np.repeat(centers, n, axis=0), np.repeat(radii, n, axis=0)
    gaps = geometry.clearances(positions, 0.15, c, r, W, H)
    # (1, 1): circle 1 - 0.5 = 0.5 away, walls 1 away -> 0.35; (1.6, 1): 0.4 - 0.5 - 0.15 < 0;
    # (1.35, 1): exactly touching; (0.1, 5): 0.1 from the left wall; (5, 9.95): 0.05 from the top.
    np.testing.assert_allclose(gaps, [0.35, -0.25, 0.0, -0.05, -0.10], atol=1e-12)
    np.testing.assert_array_equal(
        geometry.collides(positions, 0.15, c, r, W, H), [False, True, True, True, True]
    )


def test_vectorized_over_robots_rays_and_obstacles_equals_one_at_a_time():
    rng = np.random.default_rng(0)
    n, k, m = 5, 7, 4
    origins = rng.uniform(1.0, 9.0, (n, 2))
    headings = rng.uniform(-math.pi, math.pi, n)
    angles = np.linspace(-math.pi / 2, math.pi / 2, k)
    centers = rng.uniform(0.0, 10.0, (n, m, 2))
    radii = rng.uniform(0.2, 1.0, (n, m))
    batch = geometry.cast_rays(origins, headings, angles, centers, radii, W, H, 3.0)
    gaps = geometry.clearances(origins, 0.15, centers, radii, W, H)
    assert batch.shape == (n, k) and gaps.shape == (n,)
    for i in range(n):
        for j in range(k):
            single = geometry.cast_rays(origins[i:i + 1], headings[i:i + 1], angles[j:j + 1],
                                        centers[i:i + 1], radii[i:i + 1], W, H, 3.0)
            # each obstacle alone, nearest taken by hand
            per_obstacle = [
                geometry.cast_rays(origins[i:i + 1], headings[i:i + 1], angles[j:j + 1],
                                   centers[i:i + 1, o:o + 1], radii[i:i + 1, o:o + 1], W, H, 3.0)[0, 0]
                for o in range(m)
            ]
            assert batch[i, j] == single[0, 0] == min(per_obstacle)
        assert gaps[i] == geometry.clearances(origins[i:i + 1], 0.15, centers[i:i + 1], radii[i:i + 1], W, H)[0]
    assert np.all((batch >= 0.0) & (batch <= 1.0))


def test_readings_stay_in_range_for_a_centre_outside_the_box():
    r = geometry.cast_rays(np.array([[-0.5, 5.0]]), np.zeros(1), np.array([0.0, math.pi]),
                           np.zeros((1, 0, 2)), np.zeros((1, 0)), W, H, 2.0)
    assert np.all((r >= 0.0) & (r <= 1.0))
