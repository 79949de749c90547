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
    f = origins[:, None, :] - centers  # (N, M, 2)
    # Explicit products rather than einsum/matmul: elementwise ufuncs give the same bits
    # whatever N is (no FMA or blocked summation), which the single-vs-vector test relies on.
    q = f[..., 0] * f[..., 0] + f[..., 1] * f[..., 1] - radii * radii  # (N, M)
    b = (
        directions[:, :, None, 0] * f[:, None, :, 0] + directions[:, :, None, 1] * f[:, None, :, 1]
    )  # (N, K, M)
    disc = b * b - q[:, None, :]
    hit = disc >= 0.0
    root = np.sqrt(np.where(hit, disc, 0.0))
    far = -b + root
    hit &= far >= 0.0  # at least one intersection ahead of the origin
    near = np.maximum(-b - root, 0.0)
    dist = np.where(hit, near, np.inf)
    return dist.min(axis=2) if dist.shape[2] else np.full(dist.shape[:2], np.inf)


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
    o = origins[:, None, :]  # (N, 1, 2)
    limits = np.array([width, height], dtype=np.float64)
    wall = np.where(directions > 0.0, limits, 0.0)  # (N, K, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(directions != 0.0, (wall - o) / directions, np.inf)
    return t.min(axis=2)


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
    directions = ray_directions(headings, ray_angles)
    dist = np.minimum(
        ray_circle_distances(origins, directions, centers, radii),
        ray_box_distances(origins, directions, width, height),
    )
    # The lower clip only matters for a centre outside the box (after a wall collision, if
    # a caller keeps stepping): readings stay in the observation space.
    return np.clip(dist, 0.0, max_range) / max_range


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
    delta = positions[:, None, :] - centers  # (N, M, 2)
    to_circles = np.sqrt(delta[..., 0] * delta[..., 0] + delta[..., 1] * delta[..., 1]) - radii
    x, y = positions[:, 0], positions[:, 1]
    to_walls = np.minimum(np.minimum(x, width - x), np.minimum(y, height - y))  # (N,)
    nearest = to_walls if centers.shape[1] == 0 else np.minimum(to_walls, to_circles.min(axis=1))
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
