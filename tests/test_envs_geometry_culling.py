"""cast_rays leaves out obstacles beyond sensor range at large N: the readings must not change.

The culled path (``CULL_MIN_PAIRS`` or more robot-obstacle pairs) and the dense path must give
the same readings bit for bit, in particular for circles just beyond the sensor range, rays
grazing them, origins inside circles or outside the box, and padding slots.
"""
import math

import numpy as np
import pytest

from robonet.envs import geometry
from robonet.envs.obstacle_avoidance import RobotConfig, generate_world

W = H = 8.0
RANGE = 2.0


def _readings(monkeypatch, min_pairs, *args):
    monkeypatch.setattr(geometry, "CULL_MIN_PAIRS", min_pairs)
    return geometry.cast_rays(*args)


def _both_paths(monkeypatch, *args):
    dense = _readings(monkeypatch, math.inf, *args)
    culled = _readings(monkeypatch, 0, *args)
    assert dense.shape == culled.shape and culled.flags.c_contiguous
    assert dense.tobytes() == culled.tobytes()
    return dense


def test_culled_readings_equal_dense_on_random_worlds(monkeypatch):
    config = RobotConfig()
    rng = np.random.default_rng(0)
    n = 300
    worlds = [generate_world(np.random.default_rng(s), config) for s in range(n)]
    centers = np.stack([w.centers for w in worlds])
    radii = np.stack([w.radii for w in worlds])
    origins = rng.uniform(-0.3, W + 0.3, (n, 2))  # some outside the box
    headings = rng.uniform(-math.pi, math.pi, n)
    origins[:5] = centers[:5, 0]  # some inside a circle
    readings = _both_paths(monkeypatch, origins, headings, config.ray_angles, centers, radii, W, H, RANGE)
    assert np.all((readings >= 0.0) & (readings <= 1.0))


@pytest.mark.parametrize("gap", [-1e-3, -1e-9, 0.0, 1e-15, 1e-12, 1e-9, 1e-7, 1e-6, 1e-3])
def test_circles_at_the_edge_of_the_range_read_the_same(monkeypatch, gap):
    """Circles whose near side is at max_range (1 + gap), hit head-on and grazed."""
    rng = np.random.default_rng(1)
    n, m = 256, 12
    headings = rng.uniform(-math.pi, math.pi, n)
    angles = np.linspace(-math.pi / 2, math.pi / 2, 7)
    origins = rng.uniform(3.0, 5.0, (n, 2))
    radii = rng.uniform(0.3, 0.6, (n, m))
    # each circle straight along one ray, or offset sideways so that the ray nearly grazes it
    ray = angles[rng.integers(0, len(angles), (n, m))] + headings[:, None]
    side = rng.choice([0.0, 1.0, -1.0], (n, m)) * radii * (1.0 - rng.choice([0.0, 1e-12, 1e-6], (n, m)))
    along = RANGE * (1.0 + gap) + radii
    centers = np.stack([
        origins[:, None, 0] + along * np.cos(ray) - side * np.sin(ray),
        origins[:, None, 1] + along * np.sin(ray) + side * np.cos(ray),
    ], axis=-1)
    # a huge arena: the walls never hide the circles
    _both_paths(monkeypatch, origins, headings, angles, centers, radii, 100.0, 100.0, RANGE)


def test_padding_and_no_obstacles_with_culling(monkeypatch):
    n = 3000
    origins = np.full((n, 2), 1.0)
    pad_c = np.full((n, 3, 2), geometry.FAR_AWAY)
    pad_r = np.zeros((n, 3))
    r = _both_paths(monkeypatch, origins, np.zeros(n), np.array([0.0, math.pi]), pad_c, pad_r, W, H, 20.0)
    np.testing.assert_allclose(r[:, 0], 7.0 / 20.0)
    r0 = _both_paths(monkeypatch, origins, np.zeros(n), np.array([0.0, math.pi]), np.zeros((n, 0, 2)),
                     np.zeros((n, 0)), W, H, 20.0)
    assert r0.tobytes() == r.tobytes()
