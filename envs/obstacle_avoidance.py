"""The obstacle-avoiding robot: a unicycle with range sensors that drives to waypoints.

The module holds three layers, each used by the next:

* :class:`RobotConfig`, the model's constants;
* :func:`generate_world` (seeded obstacles, waypoints, start pose) and :class:`RobotBatch`,
  the dynamics of ``N`` robots at once as NumPy arrays (geometry in :mod:`.geometry`);
* :class:`ObstacleAvoidanceEnv`, the Gymnasium environment: a ``RobotBatch`` of one.

:class:`robonet.envs.vector.ObstacleAvoidanceVectorEnv` is the same ``RobotBatch`` with many
robots, so a vector step and a single step run the very same arithmetic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from . import geometry

ENV_ID = "robonet/ObstacleAvoidance-v0"

#: Keys accepted in ``reset(options=...)``.
RESET_OPTIONS = ("n_obstacles",)


@dataclass(frozen=True)
class RobotConfig:
    """Constants of the robot model (SI units; one step lasts ``dt`` seconds)."""

    width: float = 8.0
    """Arena width (m); the arena is the walled box ``[0, width] x [0, height]``."""
    height: float = 8.0
    """Arena height (m)."""
    dt: float = 0.1
    """Duration of one step (s)."""
    speed: float = 0.5
    """Constant forward speed v (m/s): the robot moves v * dt = 5 cm per step."""
    turn_rate: float = 1.5
    """Turn rate omega (rad/s) while steering: 0.15 rad (8.6 deg) per step, turning radius
    v / omega = 0.33 m."""
    robot_radius: float = 0.15
    """Radius of the robot's disc (m); touching an obstacle or a wall is a collision."""
    n_rays: int = 7
    """Number K of range sensors, spread evenly from -90 deg (right) to +90 deg (left)."""
    sensor_range: float = 2.0
    """Maximum range of a sensor (m), measured from the robot's centre."""
    min_obstacles: int = 6
    """Fewest obstacles in a world."""
    max_obstacles: int = 12
    """Most obstacles in a world (arrays are padded to this many)."""
    obstacle_radius: tuple[float, float] = (0.3, 0.6)
    """Range of obstacle radii (m), drawn uniformly."""
    obstacle_gap: float = 0.8
    """Least free gap (m) between two obstacles and between an obstacle and a wall: wide
    enough for the robot (0.3 m) to pass, so there are no dead ends."""
    start_clearance: float = 0.6
    """Least gap (m) between the robot's disc and any obstacle or wall at the start."""
    n_waypoints: int = 24
    """Length of the waypoint sequence of a world (visited in order, then again from the first)."""
    waypoint_radius: float = 0.4
    """A waypoint is reached when the robot's centre comes within this distance (m)."""
    waypoint_clearance: float = 0.8
    """Least gap (m) between a waypoint and any obstacle or wall."""
    waypoint_separation: float = 3.0
    """Least distance (m) between consecutive waypoints (and between the start and the first)."""
    waypoint_bonus: float = 10.0
    """Reward for reaching a waypoint."""
    collision_penalty: float = 10.0
    """Reward subtracted on the colliding step."""

    def __post_init__(self) -> None:
        if not (isinstance(self.n_rays, (int, np.integer)) and 1 <= self.n_rays <= 64):
            raise ValueError(f"n_rays must be an integer in [1, 64], got {self.n_rays!r}")
        if not (np.isfinite(self.sensor_range) and self.sensor_range > 0):
            raise ValueError(f"sensor_range must be a positive number of metres, got {self.sensor_range!r}")
        lo, hi = self.min_obstacles, self.max_obstacles
        if not (isinstance(lo, (int, np.integer)) and isinstance(hi, (int, np.integer)) and 0 <= lo <= hi <= 40):
            raise ValueError(
                f"n_obstacles must be an int or a (min, max) pair with 0 <= min <= max <= 40, got ({lo!r}, {hi!r})"
            )

    @property
    def ray_angles(self) -> np.ndarray:
        """(K,) sensor angles relative to the heading, right (-pi/2) to left (+pi/2)."""
        if self.n_rays == 1:
            return np.zeros(1)
        return np.linspace(-math.pi / 2, math.pi / 2, self.n_rays)

    @property
    def step_length(self) -> float:
        """Distance travelled per step (m)."""
        return self.speed * self.dt


def make_config(
    n_rays: int = 7, sensor_range: float = 2.0, n_obstacles: int | tuple[int, int] = (6, 12)
) -> RobotConfig:
    """A :class:`RobotConfig` from the env's keyword arguments (validated)."""
    if isinstance(n_obstacles, (int, np.integer)):
        lo = hi = int(n_obstacles)
    else:
        try:
            lo, hi = n_obstacles
        except (TypeError, ValueError):
            raise ValueError(f"n_obstacles must be an int or a (min, max) pair, got {n_obstacles!r}") from None
    return RobotConfig(n_rays=n_rays, sensor_range=float(sensor_range), min_obstacles=lo, max_obstacles=hi)


def observation_names(n_rays: int = 7) -> list[str]:
    """Names of the observation's entries: K ranges (right to left), then the goal bearing."""
    angles = RobotConfig(n_rays=n_rays).ray_angles
    return [f"range_{round(math.degrees(a)):+d}deg" for a in angles] + ["goal_sin", "goal_cos"]


ACTION_NAMES = ["steer_left", "steer_right"]


def observation_space(config: RobotConfig) -> spaces.Box:
    """Box of K ranges in [0, 1] followed by sin and cos of the goal bearing in [-1, 1]."""
    k = config.n_rays
    low = np.concatenate([np.zeros(k), -np.ones(2)]).astype(np.float32)
    high = np.ones(k + 2, dtype=np.float32)
    return spaces.Box(low, high, dtype=np.float32)


@dataclass
class World:
    """One seeded world: obstacles padded to ``max_obstacles``, waypoints and start pose."""

    centers: np.ndarray  # (M, 2); padding rows at geometry.FAR_AWAY
    radii: np.ndarray  # (M,); padding radius 0
    n_obstacles: int
    waypoints: np.ndarray  # (G, 2)
    position: np.ndarray  # (2,)
    heading: float


def generate_world(rng: np.random.Generator, config: RobotConfig, n_obstacles: int | None = None) -> World:
    """Place obstacles, the start pose and the waypoint sequence, drawing only from ``rng``.

    Obstacles are drawn by rejection: a candidate circle must keep ``obstacle_gap`` from the
    walls and from every accepted circle (a crowded arena may end up with fewer obstacles
    than drawn). The start keeps ``start_clearance``; waypoints keep ``waypoint_clearance``
    from everything and ``waypoint_separation`` from their predecessor.

    Candidates are drawn from ``rng`` in batches of 32 (fewer generator calls), and the
    first valid candidate of a batch is taken: obstacles get 5 batches, the start 40, each
    waypoint 10 (then its separation is halved, and again, until one fits). The world is a
    function of the seed alone, so this sequence of draws is part of the env's definition:
    changing it changes every seeded world.

    The checks run on Python floats, candidate by candidate, stopping at the first valid
    one: with at most a dozen obstacles, NumPy calls on such tiny arrays cost more than the
    arithmetic (a world took about ten times longer when every candidate of a batch was
    checked as an array). They are the same IEEE operations as the array form they replaced
    (``sqrt(dx * dx + dy * dy)``, the same sums in the same order), so the worlds are the same
    bit for bit.
    """
    W, H, gap, batch = config.width, config.height, config.obstacle_gap, 32
    if n_obstacles is None:
        n_obstacles = int(rng.integers(config.min_obstacles, config.max_obstacles + 1))
    rmin, rmax = config.obstacle_radius
    obstacles: list[tuple[float, float, float]] = []  # accepted (x, y, radius)
    for _ in range(n_obstacles):
        for _ in range(5):
            r = rng.uniform(rmin, rmax, batch)
            m = gap + r  # the candidate keeps `gap` from the walls
            # x then y: one call with (2, batch) bounds draws exactly what two calls of
            # (batch,) draw, in the same order (C order), at half the cost of the bounds checks
            # NumPy makes on array arguments (most of a world's time when made twice).
            x, y = rng.uniform((m, m), (W - m, H - m)).tolist()
            cand = zip(x, y, r.tolist())
            found = _first_apart(cand, obstacles, gap)
            if found is not None:
                obstacles.append(found)
                break
        else:  # 5 batches without room for another obstacle: the arena is full
            break
    n = len(obstacles)
    span = np.array([W, H])

    def draw_points() -> list[list[float]]:
        # Uniform in the arena: (W, H) * u, u in [0, 1)^2 (the same bits as 0 + (W - 0) * u).
        return (span * rng.random((batch, 2))).tolist()

    start_margin = config.robot_radius + config.start_clearance
    for _ in range(40):
        position = _first_clear(draw_points(), obstacles, start_margin, W, H)
        if position is not None:
            break
    else:  # unreachable with the default constants; keep a valid world regardless
        raise RuntimeError("could not place the robot; the arena is too crowded")
    heading = float(rng.uniform(-math.pi, math.pi))

    waypoints = np.empty((config.n_waypoints, 2))
    previous = position
    for g in range(config.n_waypoints):
        sep = config.waypoint_separation
        point = None
        while point is None:  # relax the separation if a world makes it impossible
            for _ in range(10):
                point = _first_clear(draw_points(), obstacles, config.waypoint_clearance, W, H, previous, sep)
                if point is not None:
                    break
            sep *= 0.5
        waypoints[g] = previous = point

    padded_c = np.full((config.max_obstacles, 2), geometry.FAR_AWAY)
    padded_r = np.zeros(config.max_obstacles)
    if n:
        padded_c[:n] = [(x, y) for x, y, _ in obstacles]
        padded_r[:n] = [r for _, _, r in obstacles]
    return World(padded_c, padded_r, n, waypoints, np.array(position), heading)


def _first_apart(candidates, obstacles: list[tuple[float, float, float]], gap: float):
    """The first candidate circle ``(x, y, r)`` at least ``gap`` from every obstacle, or None."""
    for x, y, r in candidates:
        for ox, oy, orad in obstacles:
            dx, dy = x - ox, y - oy
            if not math.sqrt(dx * dx + dy * dy) >= r + orad + gap:
                break
        else:
            return x, y, r
    return None


def _first_clear(
    points: list[list[float]],
    obstacles: list[tuple[float, float, float]],
    margin: float,
    width: float,
    height: float,
    previous: list[float] | None = None,
    separation: float = 0.0,
):
    """The first point at least ``margin`` from every obstacle and wall (and, with
    ``previous``, at least ``separation`` from it), or None."""
    hi_x, hi_y = width - margin, height - margin
    for point in points:
        x, y = point
        if not (margin <= x <= hi_x and margin <= y <= hi_y):
            continue
        if previous is not None:
            dx, dy = x - previous[0], y - previous[1]
            if not math.sqrt(dx * dx + dy * dy) >= separation:
                continue
        for ox, oy, orad in obstacles:
            dx, dy = x - ox, y - oy
            if not math.sqrt(dx * dx + dy * dy) - orad >= margin:
                break
        else:
            return point
    return None


class RobotBatch:
    """State and dynamics of ``N`` robots, each in its own world, as parallel arrays.

    Dynamics of robot ``n`` for action ``a`` (0 = left, 1 = right), ``s = +1`` for left and
    ``-1`` for right::

        heading' = wrap(heading + s * omega * dt)
        position' = position + v * dt * (cos heading', sin heading')

    Rewards: ``(|g - p| - |g - p'|) / (v dt)`` (progress towards the current waypoint ``g``,
    at most 1 per step), ``+ waypoint_bonus`` when the waypoint is reached (the next one
    becomes current), ``- collision_penalty`` on a collision.
    """

    def __init__(self, config: RobotConfig, n: int):
        self.config = config
        self.n = n
        m, g = config.max_obstacles, config.n_waypoints
        self.ray_angles = config.ray_angles
        self.position = np.zeros((n, 2))
        self.heading = np.zeros(n)
        self.centers = np.full((n, m, 2), geometry.FAR_AWAY)
        self.radii = np.zeros((n, m))
        self.n_obstacles = np.zeros(n, dtype=np.int64)
        self.waypoints = np.zeros((n, g, 2))
        self.goal_index = np.zeros(n, dtype=np.int64)
        self.steps = np.zeros(n, dtype=np.int64)
        self.distance = np.zeros(n)
        self.waypoints_reached = np.zeros(n, dtype=np.int64)
        self.collision = np.zeros(n, dtype=bool)
        self.clearance = np.zeros(n)

    def load(self, i: int, world: World) -> None:
        """Put robot ``i`` at the start of ``world`` and clear its episode counters."""
        self.position[i] = world.position
        self.heading[i] = world.heading
        self.centers[i] = world.centers
        self.radii[i] = world.radii
        self.n_obstacles[i] = world.n_obstacles
        self.waypoints[i] = world.waypoints
        self.goal_index[i] = 0
        self.steps[i] = 0
        self.distance[i] = 0.0
        self.waypoints_reached[i] = 0
        self.collision[i] = False
        cfg = self.config
        self.clearance[i] = geometry.clearances(
            self.position[i : i + 1], cfg.robot_radius, self.centers[i : i + 1], self.radii[i : i + 1],
            cfg.width, cfg.height,
        )[0]

    def world(self, i: int) -> World:
        """The world of robot ``i`` (copies), with its current pose as the start."""
        return World(
            self.centers[i].copy(), self.radii[i].copy(), int(self.n_obstacles[i]),
            self.waypoints[i].copy(), self.position[i].copy(), float(self.heading[i]),
        )

    @property
    def goal(self) -> np.ndarray:
        """(N, 2) current waypoint of each robot."""
        return self.waypoints[np.arange(self.n), self.goal_index]

    def observe(self) -> np.ndarray:
        """(N, K + 2) float32 observations: ranges in [0, 1], then sin and cos of the goal bearing.

        The bearing is the goal's direction in the robot's frame (positive sin = goal on the
        left), computed as the rotated, normalised vector to the goal.
        """
        cfg = self.config
        ranges = geometry.cast_rays(
            self.position, self.heading, self.ray_angles, self.centers, self.radii,
            cfg.width, cfg.height, cfg.sensor_range,
        )
        to_goal = self.goal - self.position
        c, s = np.cos(self.heading), np.sin(self.heading)
        forward = c * to_goal[:, 0] + s * to_goal[:, 1]
        left = c * to_goal[:, 1] - s * to_goal[:, 0]
        norm = np.sqrt(forward * forward + left * left)
        norm = np.where(norm > 0.0, norm, 1.0)
        obs = np.empty((self.n, cfg.n_rays + 2), dtype=np.float32)
        obs[:, : cfg.n_rays] = ranges
        obs[:, cfg.n_rays] = np.clip(left / norm, -1.0, 1.0)
        obs[:, cfg.n_rays + 1] = np.clip(forward / norm, -1.0, 1.0)
        return obs

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Advance every robot by one step; returns the (N,) float64 rewards.

        Updates pose, waypoint index and the episode counters (``steps``, ``distance``,
        ``waypoints_reached``, ``collision``, ``clearance``).
        """
        cfg = self.config
        turn = np.where(actions == 0, cfg.turn_rate * cfg.dt, -cfg.turn_rate * cfg.dt)
        heading = np.mod(self.heading + turn + math.pi, 2 * math.pi) - math.pi
        goal = self.goal
        before = goal - self.position
        position = self.position + cfg.step_length * np.stack((np.cos(heading), np.sin(heading)), axis=1)
        after = goal - position
        d_before = np.sqrt(before[:, 0] * before[:, 0] + before[:, 1] * before[:, 1])
        d_after = np.sqrt(after[:, 0] * after[:, 0] + after[:, 1] * after[:, 1])
        self.heading = heading
        self.position = position
        self.clearance = geometry.clearances(
            position, cfg.robot_radius, self.centers, self.radii, cfg.width, cfg.height
        )
        self.collision = self.clearance <= 0.0
        reached = (d_after < cfg.waypoint_radius) & ~self.collision
        self.goal_index = np.where(reached, (self.goal_index + 1) % cfg.n_waypoints, self.goal_index)
        self.waypoints_reached += reached
        self.steps += 1
        self.distance += cfg.step_length
        return (
            (d_before - d_after) / cfg.step_length
            + np.where(reached, cfg.waypoint_bonus, 0.0)
            - np.where(self.collision, cfg.collision_penalty, 0.0)
        )

    def goal_distances(self) -> np.ndarray:
        """(N,) distance (m) from each robot's centre to its current waypoint."""
        to_goal = self.goal - self.position
        return np.sqrt(to_goal[:, 0] * to_goal[:, 0] + to_goal[:, 1] * to_goal[:, 1])

    def info(self, i: int) -> dict[str, Any]:
        """The ``info`` dict of robot ``i``."""
        return {
            "collision": bool(self.collision[i]),
            "distance": float(self.distance[i]),
            "waypoints_reached": int(self.waypoints_reached[i]),
            "goal_distance": float(self.goal_distances()[i]),
            "clearance": float(self.clearance[i]),
        }


def validate_reset_options(options: dict | None, config: RobotConfig) -> int | None:
    """Check ``reset(options=...)``; returns the requested obstacle count (or None)."""
    if options is None:
        return None
    if not isinstance(options, dict):
        raise ValueError(f"options must be a dict or None, got {type(options).__name__}: {options!r}")
    unknown = sorted(set(options) - set(RESET_OPTIONS))
    if unknown:
        raise ValueError(f"unknown reset option(s) {unknown}; expected some of {list(RESET_OPTIONS)}")
    n = options.get("n_obstacles")
    if n is None:
        return None
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 0 <= n <= config.max_obstacles:
        raise ValueError(
            f"options['n_obstacles'] must be an int in [0, {config.max_obstacles}], got {n!r}"
        )
    return int(n)


class ObstacleAvoidanceEnv(gym.Env[np.ndarray, np.int64]):
    """A differential-drive robot that drives from waypoint to waypoint among obstacles.

    ## Description

    A round robot (radius 0.15 m) moves at a constant 0.5 m/s in a walled 8 m x 8 m arena
    holding 6 to 12 round obstacles (radius 0.3 to 0.6 m, at least 0.8 m apart and from the
    walls), all placed from the reset seed. Every step (0.1 s) it must steer left or right:
    it turns at 1.5 rad/s (8.6 deg per step, turning radius 0.33 m) and cannot go straight,
    so going straight means alternating. It should reach the current waypoint (within
    0.4 m), then the next one, for as long as the episode lasts, without touching anything.
    Seven range sensors see 2 m. Steering towards the goal alone runs into obstacles;
    steering away from obstacles alone (or circling in place, which touches nothing) goes
    nowhere: the return, not the collision count, tells a good driver (docs/envs.md).

    ## Action Space

    ``Discrete(2)``: 0 = steer left (counter-clockwise), 1 = steer right.

    ## Observation Space

    ``Box(K + 2,)`` float32 (K = ``n_rays``, default 7):

    | index | name | range | meaning |
    |---|---|---|---|
    | 0 .. K-1 | ``range_-90deg`` .. ``range_+90deg`` | [0, 1] | distance to the first obstacle or wall along the ray, / ``sensor_range``, rays evenly spread from the right (-90 deg) to the left (+90 deg) |
    | K | ``goal_sin`` | [-1, 1] | sin of the current waypoint's bearing (positive = on the left) |
    | K+1 | ``goal_cos`` | [-1, 1] | cos of that bearing (1 = straight ahead) |

    ## Rewards

    Per step: progress towards the current waypoint in units of the step length (at most
    +1, negative when moving away), +10 when a waypoint is reached, -10 on a collision. A
    good driver earns about 0.9 per step (the scripted expert: 897 per 1,000-step episode on
    average); circling in place earns about 0.

    ## Starting State

    Uniformly random pose with at least 0.6 m between the robot's disc and any obstacle or
    wall; uniformly random heading. The first waypoint is at least 3 m away.

    ## Episode End

    ``terminated`` when the robot's disc touches an obstacle or a wall (``info["collision"]``).
    ``truncated`` after 1,000 steps by the ``TimeLimit`` that ``gymnasium.make`` adds
    (``max_episode_steps=1000`` in the registration); the env itself never truncates.

    ## Info

    ``collision`` (bool), ``distance`` (m travelled this episode), ``waypoints_reached``,
    ``goal_distance`` (m to the current waypoint), ``clearance`` (m between the robot's disc
    and the nearest obstacle or wall; <= 0 means collision).

    ## Arguments

    ``gym.make("robonet/ObstacleAvoidance-v0", render_mode=None, n_rays=7, sensor_range=2.0,
    n_obstacles=(6, 12))``; ``n_obstacles`` is an int or a ``(min, max)`` range.
    ``reset(options={"n_obstacles": n})`` overrides the count for one episode.
    Rendering: ``env.unwrapped.show_rays`` toggles the rays, ``env.unwrapped.set_hud(...)``
    fills the text overlay of the next frame.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 30}

    def __init__(
        self,
        render_mode: str | None = None,
        n_rays: int = 7,
        sensor_range: float = 2.0,
        n_obstacles: int | tuple[int, int] = (6, 12),
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.config = make_config(n_rays, sensor_range, n_obstacles)
        self.render_mode = render_mode
        self.observation_space = observation_space(self.config)
        self.action_space = spaces.Discrete(2)
        self.robots = RobotBatch(self.config, 1)
        self.show_rays = True
        self.hud: dict[str, Any] = {}
        self._renderer = None
        self._has_reset = False

    # -- Gymnasium API -----------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        n_obstacles = validate_reset_options(options, self.config)
        self.robots.load(0, generate_world(self.np_random, self.config, n_obstacles))
        self._has_reset = True
        obs = self.robots.observe()[0]
        if self.render_mode == "human":
            self.render()
        return obs, self.robots.info(0)

    def step(self, action):
        if not self._has_reset:
            raise gym.error.ResetNeeded("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"invalid action {action!r}: expected 0 (steer left) or 1 (steer right)")
        reward = float(self.robots.step(np.array([action], dtype=np.int64))[0])
        obs = self.robots.observe()[0]
        terminated = bool(self.robots.collision[0])
        if self.render_mode == "human":
            self.render()
        return obs, reward, terminated, False, self.robots.info(0)

    def render(self):
        if self.render_mode is None:
            gym.logger.warn(
                "You are calling render method without specifying any render mode. "
                f'You can specify the render_mode at initialization, e.g. gym.make("{ENV_ID}", render_mode="rgb_array")'
            )
            return None
        if self._renderer is None:
            from .rendering import Renderer

            self._renderer = Renderer(self.config, self.render_mode, self.metadata["render_fps"])
        return self._renderer.render(self.robots, 0, show_rays=self.show_rays, hud=self.hud)

    def close(self):
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # -- extras --------------------------------------------------------------------------------

    def set_hud(self, **fields: Any) -> None:
        """Text shown in the next rendered frame, e.g. ``set_hud(action=1, probability=0.93)``.

        Fields replace earlier ones of the same name; ``set_hud()`` with no field clears all.
        """
        if fields:
            self.hud.update(fields)
        else:
            self.hud.clear()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_renderer"] = None  # pygame surfaces do not pickle; a new window opens on render
        return state
