"""Many obstacle-avoidance robots stepped together as one NumPy program.

Reach it with::

    envs = gym.make_vec("robonet/ObstacleAvoidance-v0", num_envs=1024,
                        vectorization_mode="vector_entry_point")
"""
from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from .obstacle_avoidance import (
    ObstacleAvoidanceEnv,
    RobotBatch,
    generate_world,
    make_config,
    observation_space,
    validate_reset_options,
)



def sub_env_seeds(seed: int | list[int | None] | None, num_envs: int) -> list[int | None]:
    """A vector env's ``reset(seed=...)`` as one seed per sub-env: None for all, an int ``s``
    (sub-env ``i`` gets ``s + i``, as ``SyncVectorEnv`` does), or a list of ``num_envs``."""
    if seed is None:
        return [None] * num_envs
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return [int(seed) + i for i in range(num_envs)]
    if isinstance(seed, (list, tuple)) and len(seed) == num_envs:
        return list(seed)
    raise ValueError(f"seed must be None, an int or a list of {num_envs} seeds, got {seed!r}")


def check_reset_mask(mask: Any, num_envs: int) -> np.ndarray:
    """Gymnasium's partial reset ``options["reset_mask"]``, checked: a copy of the (num_envs,)
    bool array, resetting at least one sub-env."""
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != (num_envs,):
        raise ValueError(f"options['reset_mask'] must be a bool array of shape ({num_envs},), got {mask!r}")
    if not mask.any():
        raise ValueError(f"options['reset_mask'] must reset at least one sub-env, got {mask!r}")
    return mask.copy()

class ObstacleAvoidanceVectorEnv(VectorEnv):
    """``num_envs`` independent copies of :class:`ObstacleAvoidanceEnv` in one array program.

    Sub-env ``i`` behaves exactly like a single env: ``reset(seed=s)`` seeds sub-env ``i``
    with ``s + i`` (as ``SyncVectorEnv`` does), each sub-env keeps its own random generator
    for its later (auto)resets, and the dynamics are the single env's :class:`RobotBatch`
    code run on all robots at once. So sub-env ``i`` reproduces, observation for
    observation, ``gym.make(ENV_ID)`` reset with seed ``s + i`` and driven by the same
    actions, including every following episode. Episodes are truncated after
    ``max_episode_steps`` steps (1,000 from the registration), as ``TimeLimit`` does.

    Autoreset, and what a logger must do (Gymnasium's ``AutoresetMode.NEXT_STEP``, see
    ``metadata["autoreset_mode"]``):

    * the step on which sub-env ``i`` ends (``terminated[i] or truncated[i]``) returns the
      episode's last observation, reward and info as usual;
    * **the next** ``step()`` **resets sub-env** ``i``: its action is ignored, it returns the
      first observation of a new episode with reward 0 and terminated = truncated = False.
      That row is NOT a transition. A logger must never record it: keep
      ``done = terminated | truncated`` from the previous step and drop the rows where it
      was True (the observation it returns is the start of the next episode; record it as
      the next row's observation). ``info["autoreset"]`` flags these rows too.

    ``info`` holds, per sub-env (each with a ``_key`` mask, all True): ``collision``,
    ``distance``, ``waypoints_reached``, ``goal_distance``, ``clearance`` (as in the single
    env) and ``autoreset`` (True on the ignored reset rows described above).

    Actions: an int array of shape ``(num_envs,)`` with 0 (left) or 1 (right).
    """

    metadata = {
        "render_modes": ["rgb_array"],
        "render_fps": ObstacleAvoidanceEnv.metadata["render_fps"],
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        max_episode_steps: int | None = 1000,
        render_mode: str | None = None,
        n_rays: int = 7,
        sensor_range: float = 2.0,
        n_obstacles: int | tuple[int, int] = (6, 12),
    ):
        if not isinstance(num_envs, (int, np.integer)) or isinstance(num_envs, bool) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        if max_episode_steps is not None and (
            not isinstance(max_episode_steps, (int, np.integer)) or max_episode_steps < 1
        ):
            raise ValueError(f"max_episode_steps must be a positive int or None, got {max_episode_steps!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.num_envs = int(num_envs)
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self.config = make_config(n_rays, sensor_range, n_obstacles)
        self.single_observation_space = observation_space(self.config)
        self.single_action_space = spaces.Discrete(2)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.robots = RobotBatch(self.config, self.num_envs)
        self.show_rays = True
        self._rngs: list[np.random.Generator | None] = [None] * self.num_envs
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._has_reset = False
        self._renderer = None

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        """Reset every sub-env, or only some of them.

        ``seed`` is an int (sub-env ``i`` gets ``seed + i``), a list of ``num_envs`` ints or
        Nones, or None. ``options`` as in the single env, plus Gymnasium's partial reset
        ``options={"reset_mask": mask}`` (a (num_envs,) bool array, as ``SyncVectorEnv``
        takes): only the sub-envs where ``mask`` is True are reset (with their seeds);
        the others keep their state, their pending autoreset included, and their rows of
        the returned observations are their current ones.
        """
        seeds = sub_env_seeds(seed, self.num_envs)
        options = dict(options) if isinstance(options, dict) else options
        mask = check_reset_mask(options.pop("reset_mask"), self.num_envs) if options and "reset_mask" in options else None
        n_obstacles = validate_reset_options(options, self.config)
        if mask is None:
            mask = np.ones(self.num_envs, dtype=bool)
            if seed is not None:
                self._np_random, self._np_random_seed = seeding.np_random(seeds[0])
        elif not self._has_reset:
            raise RuntimeError("a partial reset (options['reset_mask']) needs a full reset() first")
        for i in np.flatnonzero(mask):
            s = seeds[i]
            # Mirrors gym.Env.reset: a seed replaces the generator, None keeps (or creates) it.
            if s is not None or self._rngs[i] is None:
                self._rngs[i] = seeding.np_random(s)[0]
            self.robots.load(i, generate_world(self._rngs[i], self.config, n_obstacles))
        self._autoreset[mask] = False
        self._has_reset = True
        return self.robots.observe(), self._infos(np.zeros(self.num_envs, dtype=bool), present=mask)

    def step(self, actions):
        """Step every sub-env (see the class docstring for the autoreset rows)."""
        if not self._has_reset:
            raise RuntimeError("call reset() before step()")
        actions = self._check_actions(actions)
        rewards = self.robots.step(actions)
        terminated = self.robots.collision.copy()
        if self.max_episode_steps is None:
            truncated = np.zeros(self.num_envs, dtype=bool)
        else:
            truncated = self.robots.steps >= self.max_episode_steps
        resetting = self._autoreset
        if resetting.any():
            for i in np.flatnonzero(resetting):
                self.robots.load(i, generate_world(self._rngs[i], self.config))
            rewards[resetting] = 0.0
            terminated[resetting] = False
            truncated[resetting] = False
        obs = self.robots.observe()
        infos = self._infos(resetting.copy())
        self._autoreset = terminated | truncated
        return obs, rewards, terminated, truncated, infos

    def _check_actions(self, actions) -> np.ndarray:
        a = np.asarray(actions)
        if a.shape != (self.num_envs,):
            raise ValueError(f"actions must have shape ({self.num_envs},), got {a.shape}")
        if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"actions must be integers 0 (left) or 1 (right), got dtype {a.dtype}")
        bad = (a != 0) & (a != 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"invalid action {a[i]!r} for sub-env {i}: expected 0 (steer left) or 1 (steer right)")
        return a.astype(np.int64, copy=False)

    def _infos(self, autoreset: np.ndarray, present: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Vector info dict; ``present`` (default: all True) is every ``_key`` mask."""
        r = self.robots
        values = {
            "collision": r.collision.copy(),
            "distance": r.distance.copy(),
            "waypoints_reached": r.waypoints_reached.copy(),
            "goal_distance": r.goal_distances(),
            "clearance": r.clearance.copy(),
            "autoreset": autoreset,
        }
        mask = np.ones(self.num_envs, dtype=bool) if present is None else present
        infos: dict[str, np.ndarray] = {}
        for key, value in values.items():
            infos[key] = value
            infos[f"_{key}"] = mask
        return infos

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One (H, W, 3) uint8 frame per sub-env (``render_mode="rgb_array"``)."""
        if self.render_mode is None:
            return None
        if self._renderer is None:
            from .rendering import Renderer

            self._renderer = Renderer(self.config, "rgb_array", self.metadata["render_fps"])
        return tuple(
            self._renderer.render(self.robots, i, show_rays=self.show_rays) for i in range(self.num_envs)
        )

    def close_extras(self, **kwargs: Any) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_renderer"] = None
        return state
