"""Experts: callables from an observation to an action, for collecting demonstrations.

Every expert is called like a controller, ``expert(obs) -> int`` for one observation (1-d),
and has ``expert.batch(obs_2d) -> np.ndarray`` of ints for a batch (one row per robot), so
the same object drives a single env or a vector env::

    from robonet.envs.experts import get_expert

    expert = get_expert("robonet/ObstacleAvoidance-v0")
    action = expert(obs)               # int, 0 or 1
    actions = expert.batch(obs_batch)  # (N,) int64

Scripted experts are deterministic functions of the observation alone (no privileged state),
so a network that sees the same observation can imitate them exactly.

Plugging in an expert for another env: any object with ``__call__(obs) -> int`` and
``batch(obs_2d) -> array`` works wherever robonet takes an expert; subclass :class:`Expert`
and write ``batch`` (``__call__`` comes for free), or wrap a function with
:class:`FunctionExpert`, and optionally add it to :data:`SCRIPTED_EXPERTS` so that
``get_expert(env_id)`` finds it. A human can always drive through :class:`KeyboardExpert`.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .obstacle_avoidance import ENV_ID


class Expert:
    """Base class: implement :meth:`batch`; calling on one observation uses it."""

    def batch(self, obs: np.ndarray) -> np.ndarray:
        """(N, n_obs) observations -> (N,) int64 actions."""
        raise NotImplementedError

    def __call__(self, obs: np.ndarray) -> int:
        """One 1-d observation -> one action (a Python int)."""
        obs = np.asarray(obs, dtype=np.float64)
        if obs.ndim != 1:
            raise ValueError(f"{type(self).__name__}: expected one 1-d observation, got shape {obs.shape}")
        try:
            return int(self.batch(obs[None, :])[0])
        except ValueError as exc:  # name the shape the caller passed, not the batch of one
            raise ValueError(f"{exc} (called with one observation of shape {obs.shape})") from None


def _as_batch(obs: np.ndarray, n_features: int | None, who: str) -> np.ndarray:
    obs = np.asarray(obs, dtype=np.float64)
    if obs.ndim != 2 or (n_features is not None and obs.shape[1] != n_features):
        want = f"(N, {n_features})" if n_features is not None else "(N, n_obs)"
        raise ValueError(f"{who}: expected observations of shape {want}, got {obs.shape}")
    return obs


class FunctionExpert(Expert):
    """An expert from a function ``f(obs_2d) -> actions`` (vectorized over rows)."""

    def __init__(self, batch_fn: Callable[[np.ndarray], np.ndarray], name: str = "expert"):
        self._fn = batch_fn
        self.name = name

    def batch(self, obs: np.ndarray) -> np.ndarray:
        return np.asarray(self._fn(_as_batch(obs, None, self.name)), dtype=np.int64)


class CartPoleExpert(Expert):
    """A linear state-feedback rule for CartPole: push right when ``k . state > 0``.

    ``state = (x, x_dot, theta, theta_dot)``; the gains act like a PD controller on the
    pole angle (``theta``, ``theta_dot``) plus a weak PD on the cart position that keeps
    the cart near the centre, the sign pattern an LQR design gives for this system.
    """

    gains = np.array([0.1, 0.5, 10.0, 2.0])

    def batch(self, obs: np.ndarray) -> np.ndarray:
        obs = _as_batch(obs, 4, "CartPole expert")
        return (obs @ self.gains > 0.0).astype(np.int64)


class ObstacleAvoidanceExpert(Expert):
    """A potential-field driver for ``robonet/ObstacleAvoidance-v0`` that sees only the observation.

    With ranges ``r_k`` in [0, 1] at angles ``a_k`` (right -pi/2 to left +pi/2) and goal
    bearing ``b = atan2(goal_sin, goal_cos)``, it computes a steering score (positive =
    turn left) and steers left when the score is positive::

        danger_k = clip(1 - r_k / reach(a_k), 0, 1) ** 2     reach(a) = side + (front - side) cos(a)^2
        ahead    = max_k danger_k cos(a_k)^2                 how blocked the way forward is
        score    = goal_gain * (1 - ahead) * b / pi
                 - avoid_gain * sum_k sin(a_k) danger_k       push away from near obstacles
                 + turn_gain * ahead * tanh(4 * sum_k sin(a_k) r_k / K)   turn to the freer side

    A smooth score with a single threshold: easy to imitate. The rays tell it everything it
    needs (no privileged state).
    """

    def __init__(
        self,
        goal_gain: float = 1.0,
        avoid_gain: float = 3.0,
        turn_gain: float = 2.0,
        front_reach: float = 0.6,
        side_reach: float = 0.25,
        power: float = 2.0,
    ):
        self.power = power
        self.goal_gain = goal_gain
        self.avoid_gain = avoid_gain
        self.turn_gain = turn_gain
        self.front_reach = front_reach
        self.side_reach = side_reach

    def scores(self, obs: np.ndarray) -> np.ndarray:
        """(N, K + 2) observations -> (N,) steering scores (positive = steer left)."""
        obs = _as_batch(obs, None, "ObstacleAvoidance expert")
        k = obs.shape[1] - 2
        if k < 1:
            raise ValueError(f"ObstacleAvoidance expert: observations need K >= 1 ranges + 2 goal features, got {obs.shape}")
        angles = np.linspace(-math.pi / 2, math.pi / 2, k) if k > 1 else np.zeros(1)
        ranges = obs[:, :k]
        bearing = np.arctan2(obs[:, k], obs[:, k + 1])
        cos2 = np.cos(angles) ** 2
        sin = np.sin(angles)
        reach = self.side_reach + (self.front_reach - self.side_reach) * cos2
        danger = np.clip(1.0 - ranges / reach, 0.0, 1.0) ** self.power
        ahead = (danger * cos2).max(axis=1)
        freer = np.tanh(4.0 * (ranges * sin).sum(axis=1) / k)
        return (
            self.goal_gain * (1.0 - ahead) * bearing / math.pi
            - self.avoid_gain * (danger * sin).sum(axis=1)
            + self.turn_gain * ahead * freer
        )

    def batch(self, obs: np.ndarray) -> np.ndarray:
        return np.where(self.scores(obs) > 0.0, 0, 1).astype(np.int64)


#: env id -> factory of its scripted expert.
SCRIPTED_EXPERTS: dict[str, Callable[[], Expert]] = {
    "CartPole-v1": CartPoleExpert,
    "CartPole-v0": CartPoleExpert,
    ENV_ID: ObstacleAvoidanceExpert,
}

EXPERT_KINDS = ("scripted", "keyboard")


def get_expert(env_id: str, kind: str = "scripted") -> Any:
    """The expert for ``env_id``: ``kind="scripted"`` (a rule) or ``"keyboard"`` (a human).

    For an id ``"some.module:Env-v0"`` the module is imported first, so it can add its
    expert to :data:`SCRIPTED_EXPERTS` under ``"Env-v0"`` when it registers the env.

    Raises:
        ValueError: unknown kind, or no scripted expert for ``env_id``.
    """
    if kind == "keyboard":
        return KeyboardExpert()
    if kind != "scripted":
        raise ValueError(f"unknown expert kind {kind!r}; expected one of {list(EXPERT_KINDS)}")
    from . import registered_id  # "module:Env-v0": the module registers the env and its expert

    registry_id = registered_id(env_id)
    try:
        return SCRIPTED_EXPERTS[registry_id]()
    except KeyError:
        raise ValueError(
            f"no scripted expert for env {env_id!r}; envs with one: {sorted(SCRIPTED_EXPERTS)} "
            "(or drive it yourself: the keyboard expert, `--expert human` on the command line)"
        ) from None


class KeyboardExpert(Expert):
    """A human at the keyboard, usable wherever an expert is (to record demonstrations).

    Feed it the pygame events of the window (``handle_event``, or ``poll()`` which reads the
    queue itself). Left arrow = action 0, right arrow = action 1; while both are held the
    last one pressed wins. With no arrow held it alternates 0, 1, 0, ... (for the robot:
    roughly straight ahead). Space toggles :attr:`paused`; Escape or closing the window sets
    :attr:`quit_requested`. The caller decides what pausing and quitting mean.
    """

    def __init__(self) -> None:
        self.held: list[int] = []  # actions of the arrow keys held, oldest first
        self.paused = False
        self.quit_requested = False
        self._next_idle = 0

    def handle_event(self, event: Any) -> bool:
        """Update from one pygame event; returns True if the event was one of ours."""
        import pygame

        keys = {pygame.K_LEFT: 0, pygame.K_RIGHT: 1}
        if event.type == pygame.QUIT:
            self.quit_requested = True
            return True
        if event.type == pygame.KEYDOWN:
            if event.key in keys:
                action = keys[event.key]
                if action in self.held:
                    self.held.remove(action)
                self.held.append(action)
                return True
            if event.key == pygame.K_SPACE:
                self.paused = not self.paused
                return True
            if event.key == pygame.K_ESCAPE:
                self.quit_requested = True
                return True
        if event.type == pygame.KEYUP and event.key in keys:
            if keys[event.key] in self.held:
                self.held.remove(keys[event.key])
            return True
        return False

    def poll(self) -> None:
        """Handle every pending pygame event (call once per frame)."""
        import pygame

        for event in pygame.event.get():
            self.handle_event(event)

    @property
    def action(self) -> int:
        """The action the keys ask for now (without advancing the idle alternation)."""
        return self.held[-1] if self.held else self._next_idle

    def batch(self, obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs)
        action = self.action
        if not self.held:
            self._next_idle = 1 - self._next_idle
        return np.full(obs.shape[0] if obs.ndim == 2 else 1, action, dtype=np.int64)
