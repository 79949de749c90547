"""CartPole-v1 for many seeded episodes at once, each one exactly ``gym.make("CartPole-v1")``.

Gymnasium's own :class:`~gymnasium.envs.classic_control.cartpole.CartPoleVectorEnv` steps
all carts as one array program (about a hundred times the transitions per second of a
``SyncVectorEnv``), but it draws every sub-env's start state from one shared generator, so
its episodes are not the episodes of a single env reset with a given seed. robonet scores a
controller on *seeded* episodes (episode ``i`` from ``(seed, i)``), and the score must not
depend on how many envs ran at once. :class:`SeededCartPoleVectorEnv` keeps Gymnasium's
array dynamics and gives each sub-env a generator of its own, seeded and drawn exactly as
``CartPoleEnv.reset`` does. Sub-env ``i`` therefore reproduces, observation for observation,
``gym.make("CartPole-v1")`` reset with its seed and driven by the same actions; its later
episodes (autoreset, or ``reset`` with a ``None`` seed) continue its own generator, as a
single env's would. ``tests/test_envs_cartpole_vector.py`` checks this bit for bit.

Autoreset is Gymnasium's ``NEXT_STEP`` mode, as in the robot's vector env
(:mod:`robonet.envs.vector`): the step after sub-env ``i`` ends ignores its action and
returns the first observation of its next episode with reward 0. That row is not a
transition: a logger must drop it (mask rows with the previous step's
``terminated | truncated``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.envs.classic_control import utils
from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv
from gymnasium.utils import seeding

from .vector import check_reset_mask, sub_env_seeds

__all__ = ["SeededCartPoleVectorEnv", "SEEDED_VECTOR_ENV_IDS"]

# The env ids this class reproduces exactly (their single envs are CartPoleEnv with its
# defaults; only the time limit differs).
SEEDED_VECTOR_ENV_IDS = ("CartPole-v0", "CartPole-v1")


class SeededCartPoleVectorEnv(CartPoleVectorEnv):
    """``num_envs`` CartPoles in one array program, each seeded like a single env.

    ``reset(seed=...)`` takes an int (sub-env ``i`` gets ``seed + i``, as ``SyncVectorEnv``
    does), a list of ``num_envs`` ints or Nones, or None; ``options`` takes the single env's
    ``low``/``high`` reset bounds and Gymnasium's partial reset ``{"reset_mask": mask}``
    (a ``(num_envs,)`` bool array): only the masked sub-envs restart, the others keep their
    state and step count. ``max_episode_steps`` is the time limit of the id being mirrored
    (500 for CartPole-v1, 200 for v0).
    """

    def __init__(self, num_envs: int = 1, max_episode_steps: int = 500, **kwargs: Any) -> None:
        if not isinstance(num_envs, (int, np.integer)) or isinstance(num_envs, bool) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        super().__init__(num_envs=int(num_envs), max_episode_steps=max_episode_steps, **kwargs)
        self._rngs: list[np.random.Generator | None] = [None] * self.num_envs

    def _draw_start(self, i: int) -> None:
        # CartPoleEnv.reset: self.np_random.uniform(low=low, high=high, size=(4,))
        self.state[:, i] = self._rngs[i].uniform(low=self.low, high=self.high, size=(4,))

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        seeds = sub_env_seeds(seed, self.num_envs)
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if mask is None:
            super().reset(seed=seeds[0], options=options)  # allocates state, steps, prev_done
            mask = np.ones(self.num_envs, dtype=bool)
        else:
            mask = check_reset_mask(mask, self.num_envs)
            if self.state is None:
                raise RuntimeError("a partial reset (options['reset_mask']) needs a full reset() first")
            self.low, self.high = utils.maybe_parse_reset_bounds(options, -0.05, 0.05)
        for i in np.flatnonzero(mask):
            # As gym.Env.reset: a seed replaces the generator, None keeps (or creates) it.
            if seeds[i] is not None or self._rngs[i] is None:
                self._rngs[i] = seeding.np_random(seeds[i])[0]
            self._draw_start(int(i))
        self.steps[mask] = 0
        self.prev_done[mask] = False
        return self.state.T.astype(np.float32), {}

    def step(self, action):
        resetting = self.prev_done.copy()
        obs, reward, terminated, truncated, info = super().step(action)
        if resetting.any():
            # The parent drew these start states from one shared generator; redraw each from
            # the sub-env's own, as its single env would on reset().
            for i in np.flatnonzero(resetting):
                self._draw_start(int(i))
            obs[resetting] = self.state[:, resetting].T.astype(np.float32)
        return obs, reward, terminated, truncated, info
