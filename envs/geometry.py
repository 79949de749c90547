"""Ray casting and collisions for circular robots among circular obstacles in a box arena.

Pure NumPy, no state. Every function is vectorized over a leading batch axis of robots
(``N``), over rays (``K``) and over obstacles (``M``), so one call serves one robot or
thousands. The single env and the vector env both call these functions (the single env with
``N = 1``), which is why they agree bit for bit.

Conventions:

* positions are metres in the world frame, the arena is the box ``[0, width] x [0, height]``;
* angles are radians, counter-clockwise, 0 along +x;
* obstacles are circles ``(centre, radius)``; unused slots of a padded obstacle array carry
  radius ``0`` and a centre far outside the arena (see :data:`FAR_AWAY`), so they are never
  hit and never collide, and a fixed ``M`` serves worlds with fewer obstacles.
"""
from __future__ import annotations

import numpy as np

#: Centre given to padding obstacles (radius 0): far outside any arena.
FAR_AWAY = 1.0e6


def ray_directions(headings: np.ndarray, ray_angles: np.ndarray) -> np.ndarray:
    """Unit direction vectors of every robot's rays.

    Args:
        headings: (N,) robot headings.
        ray_angles: (K,) ray angles relative to the heading (positive = to the left).

    Returns:
        (N, K, 2) array of ``(cos(h + a), sin(h + a))``.
    """
    angles = headings[:, None] + ray_angles[None, :]  # (N, K)
    return np.stack((np.cos(angles), np.sin(angles)), axis=-1)


def ray_circle_distances(
    origins: np.ndarray, directions: np.ndarray, centers: np.ndarray, radii: np.ndarray
) -> np.ndarray:
    """Distance along each ray to the nearest circle it hits (``inf`` if none).

    For a ray ``o + t d`` (``|d| = 1``, ``t >= 0``) and a circle ``|p - c| = r``, with
    ``f = o - c``, ``b = f . d`` and ``q = f . f - r^2``, the hits solve
    ``t^2 + 2 b t + q = 0``: ``t = -b -+ sqrt(b^2 - q)``. No real root, or both roots
    negative (circle behind), means no hit; an origin inside a circle (``q < 0``) gives 0.

    Args:
        origins: (N, 2) ray origins (robot centres).
        directions: (N, K, 2) unit ray directions.
        centers: (N, M, 2) circle centres.
        radii: (N, M) circle radii.

    Returns:
        (N, K) float64 distances, ``inf`` where a ray hits no circle.
    """
    return _circle_distances(
        origins[:, 0], origins[:, 1], directions[:, :, 0], directions[:, :, 1], centers, radii
    )


def ray_box_distances(
    origins: np.ndarray, directions: np.ndarray, width: float, height: float
) -> np.ndarray:
    """Distance along each ray from a point inside the box ``[0, width] x [0, height]`` to its wall.

    Along each axis the ray meets the wall it moves towards at ``t = (wall - o) / d``; the
    nearer of the two axes is the hit. A zero component never meets that axis' walls.

    Args:
        origins: (N, 2) ray origins, inside the box.
        directions: (N, K, 2) unit ray directions.
        width, height: arena size.

    Returns:
        (N, K) float64 distances (non-negative for origins inside the box).
    """
    return _box_distances(
        origins[:, 0], origins[:, 1], directions[:, :, 0], directions[:, :, 1], width, height
    )


# The private helpers below do the work of ray_circle_distances and ray_box_distances on the
# direction components as separate (N, K) arrays. They evaluate the same IEEE operations on
# the same numbers as the formulation in ray_circle_distances' docstring (the comments say
# where a step is written differently, and why it gives the same bits), so the distances
# are bit for bit those of the straightforward (N, K, M) code they replaced, which spent
# most of its time on (N, K, M) temporaries with a short trailing axis of M = 12 obstacles.

#: Fewest (robot, obstacle) pairs for which cast_rays leaves out the obstacles beyond sensor
#: range before casting (see _circle_distances); below it the bookkeeping costs more than it
#: saves (a single env has 12 pairs, 1,024 robots 12,288, of which about 2,400 are in range).
CULL_MIN_PAIRS = 2048

#: Relative slack of that cut: rounding moves a computed hit distance by well under 1e-7 of
#: the distance to the circle's centre, so a circle whose centre is farther than
#: (max_range + r) * (1 + 1e-6) cannot read under max_range, not even by one bit.
_CULL_SLACK = 1.0e-6


def _circle_distances(
    ox: np.ndarray,
    oy: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray,
    centers: np.ndarray,
    radii: np.ndarray,
    max_range: float | None = None,
) -> np.ndarray:
    """:func:`ray_circle_distances` on components; optionally only the circles in range.

    With ``max_range``, and at least :data:`CULL_MIN_PAIRS` (robot, circle) pairs, the pairs
    where no ray can reach the circle within ``max_range`` (centre farther than
    ``(max_range + r) * (1 + 1e-6)``; padding slots always) are left out: distances at or
    beyond ``max_range`` may then read ``inf``, every shorter one is unchanged, bit for bit,
    so readings clipped at ``max_range`` are the same.

    Args:
        ox, oy: (N,) ray origins; dx, dy: (N, K) unit direction components;
        centers: (N, M, 2); radii: (N, M); max_range: None (every distance exact) or metres.

    Returns:
        (N, K) float64 distances, ``inf`` where a ray hits no circle.
    """
    # Explicit products rather than einsum/matmul: elementwise ufuncs give the same bits
    # whatever N is (no FMA or blocked summation), which the single-vs-vector test relies on.
    f0 = ox[:, None] - centers[:, :, 0]  # (N, M)
    f1 = oy[:, None] - centers[:, :, 1]
    f2 = f0 * f0 + f1 * f1
    q = f2 - radii * radii
    n, m = q.shape
    if max_range is None or q.size < CULL_MIN_PAIRS:
        # Every pair, laid out (M, K, N): robots along the contiguous last axis, the
        # reduction over circles a maximum of M (K, N) slices.
        s = _near_sums(f0.T[:, None, :], f1.T[:, None, :], q.T[:, None, :], dx.T, dy.T)
        best = np.max(s, axis=0, initial=-np.inf).T  # (N, K)
    else:
        reach = (radii + max_range) * (1.0 + _CULL_SLACK)
        pairs = np.flatnonzero(f2 <= reach * reach)  # (P,) indices into (N, M), by robot
        robot = pairs // m
        s = _near_sums(
            f0.take(pairs)[:, None], f1.take(pairs)[:, None], q.take(pairs)[:, None],
            dx.take(robot, axis=0), dy.take(robot, axis=0),
        )  # (P, K)
        # Maximum over each robot's pairs: put pair j of robot i in slot j of a (slots, N, K)
        # array of -inf, then reduce the slots (twice as fast as ufunc.reduceat here).
        counts = np.bincount(robot, minlength=n)
        slot = np.arange(len(pairs)) - (np.cumsum(counts) - counts)[robot]
        slots = np.full((counts.max(initial=0), n, dx.shape[1]), -np.inf)
        slots[slot, robot] = s
        best = np.max(slots, axis=0, initial=-np.inf)  # (N, K)
    # The near root is -b - root = -(b + root) (negation is exact), clamped at 0 (origin
    # inside the circle): min over circles of max(-s, 0) is max(-(max over circles of s), 0).
    return np.maximum(-best, 0.0)


def _near_sums(f0: np.ndarray, f1: np.ndarray, q: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """``s = b + sqrt(b^2 - q)`` with ``b = f0 dx + f1 dy``, i.e. minus the near root, per
    circle and ray; ``-inf`` where the ray misses. Any shapes that broadcast together."""
    # order="C": with broadcast operands NumPy may pick a strided output layout, which every
    # later pass (the reduction above all) would pay for.
    b = np.multiply(f0, dx, order="C")
    b += f1 * dy
    disc = b * b
    disc -= q
    with np.errstate(invalid="ignore"):  # no real root: sqrt gives NaN, which fails ">= b"
        root = np.sqrt(disc, out=disc)
    # The far root -b + root is >= 0 exactly when root >= b (IEEE subtraction is exact in
    # sign: x - y >= 0 iff x >= y), and NaN (no real root) compares False.
    hit = root >= b
    return np.where(hit, np.add(b, root, out=root), -np.inf)


def _box_distances(
    ox: np.ndarray, oy: np.ndarray, dx: np.ndarray, dy: np.ndarray, width: float, height: float
) -> np.ndarray:
    """:func:`ray_box_distances` on components: (N,) origins, (N, K) directions -> (N, K)."""
    ox, oy = ox[:, None], oy[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        tx = np.where(dx != 0.0, (np.where(dx > 0.0, width, 0.0) - ox) / dx, np.inf)
        ty = np.where(dy != 0.0, (np.where(dy > 0.0, height, 0.0) - oy) / dy, np.inf)
    return np.minimum(tx, ty)


def cast_rays(
    origins: np.ndarray,
    headings: np.ndarray,
    ray_angles: np.ndarray,
    centers: np.ndarray,
    radii: np.ndarray,
    width: float,
    height: float,
    max_range: float,
) -> np.ndarray:
    """Range readings of every robot's sensors, normalised to ``[0, 1]``.

    ``reading = clip(distance to first obstacle or wall, 0, max_range) / max_range``; the
    distance is measured from the robot's centre.

    Args:
        origins: (N, 2) robot centres; headings: (N,); ray_angles: (K,);
        centers: (N, M, 2); radii: (N, M); width, height, max_range: metres.

    Returns:
        (N, K) float64 readings in ``[0, 1]``.
    """
    # The components of ray_directions, computed alike (same bits) but not stacked.
    angles = headings[:, None] + ray_angles[None, :]  # (N, K)
    dx, dy = np.cos(angles), np.sin(angles)
    ox, oy = origins[:, 0], origins[:, 1]
    dist = np.minimum(
        _circle_distances(ox, oy, dx, dy, centers, radii, max_range),
        _box_distances(ox, oy, dx, dy, width, height),
    )
    # The lower clip only matters for a centre outside the box (after a wall collision, if
    # a caller keeps stepping): readings stay in the observation space.
    return np.divide(np.clip(dist, 0.0, max_range), max_range, order="C")


def clearances(
    positions: np.ndarray,
    robot_radius: float,
    centers: np.ndarray,
    radii: np.ndarray,
    width: float,
    height: float,
) -> np.ndarray:
    """Gap between each robot's disc and the nearest obstacle or wall (negative = overlap).

    Args:
        positions: (N, 2) robot centres; robot_radius: metres;
        centers: (N, M, 2); radii: (N, M); width, height: arena size.

    Returns:
        (N,) float64 gaps in metres.
    """
    x, y = positions[:, 0], positions[:, 1]
    # Laid out (M, N), C order: the minimum over obstacles is then a reduction of M
    # contiguous rows, not of N short trailing axes (half the time at N = 1,024).
    d0 = np.subtract(x, centers[:, :, 0].T, order="C")  # (M, N)
    d1 = np.subtract(y, centers[:, :, 1].T, order="C")
    to_circles = np.sqrt(d0 * d0 + d1 * d1) - radii.T  # (M, N)
    to_walls = np.minimum(np.minimum(x, width - x), np.minimum(y, height - y))  # (N,)
    nearest = to_walls if centers.shape[1] == 0 else np.minimum(to_walls, to_circles.min(axis=0))
    return nearest - robot_radius


def collides(
    positions: np.ndarray,
    robot_radius: float,
    centers: np.ndarray,
    radii: np.ndarray,
    width: float,
    height: float,
) -> np.ndarray:
    """Whether each robot's disc touches an obstacle or leaves the arena: (N,) bool."""
    return clearances(positions, robot_radius, centers, radii, width, height) <= 0.0
