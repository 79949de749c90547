"""robonet's simulated robots (installed as ``robonet.envs``).

Importing this package registers ``robonet/ObstacleAvoidance-v0`` with Gymnasium (once;
re-importing or reloading is harmless), so afterwards::

    import gymnasium as gym
    import robonet.envs

    env = gym.make("robonet/ObstacleAvoidance-v0", render_mode="rgb_array")
    envs = gym.make_vec("robonet/ObstacleAvoidance-v0", num_envs=1024,
                        vectorization_mode="vector_entry_point")

Any other Gymnasium env with a ``Box`` observation and a ``Discrete(2)`` action works with
the rest of robonet too (see docs/envs.md); :func:`describe` names its inputs and actions.
"""
from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym

from .obstacle_avoidance import ACTION_NAMES, ENV_ID, observation_names

__all__ = ["ENV_ID", "describe", "make", "register", "registered_id", "resolve_env_id"]

MAX_EPISODE_STEPS = 1000

# Names of the inputs and actions of envs robonet knows; other envs get generic names.
_KNOWN_NAMES: dict[str, tuple[list[str], list[str]]] = {
    "CartPole-v0": (
        ["cart_position", "cart_velocity", "pole_angle", "pole_angular_velocity"],
        ["push_left", "push_right"],
    ),
    "CartPole-v1": (
        ["cart_position", "cart_velocity", "pole_angle", "pole_angular_velocity"],
        ["push_left", "push_right"],
    ),
}


def register() -> None:
    """Register robonet's env ids with Gymnasium; does nothing if they already are."""
    if ENV_ID not in gym.registry:
        gym.register(
            id=ENV_ID,
            entry_point="robonet.envs.obstacle_avoidance:ObstacleAvoidanceEnv",
            vector_entry_point="robonet.envs.vector:ObstacleAvoidanceVectorEnv",
            max_episode_steps=MAX_EPISODE_STEPS,
        )


register()


def resolve_env_id(env_id: str) -> str:
    """The registry id of ``env_id``, importing its module first for ``"module:Env-v0"`` ids.

    Gymnasium's ``make`` accepts ``"some.module:Env-v0"`` and imports ``some.module`` (which
    registers ``Env-v0``) before looking the id up; this does the same for robonet's own
    lookups (names, experts), so a user's robot plugs in with ``--env some.module:Env-v0``.

    Raises:
        ValueError: the module cannot be imported.
    """
    if ":" not in env_id:
        return env_id
    module, registry_id = env_id.split(":", 1)
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise ValueError(f"env id {env_id!r}: cannot import module {module!r} ({exc})") from None
    return registry_id


def registered_id(env_id: str) -> str:
    """:func:`resolve_env_id`, then a one-line ValueError if Gymnasium does not know the id."""
    registry_id = resolve_env_id(env_id)
    if registry_id not in gym.registry:
        raise ValueError(
            f"unknown env id {env_id!r}; registered robonet env: {ENV_ID!r}, "
            "or any Gymnasium id such as 'CartPole-v1' (or 'your.module:YourEnv-v0')"
        )
    return registry_id


def make(env_id: str, **kwargs: Any) -> gym.Env:
    """``gymnasium.make(env_id, **kwargs)`` with robonet's envs registered."""
    return gym.make(env_id, **kwargs)


def describe(env_id: str, **kwargs: Any) -> dict[str, Any]:
    """What robonet needs to know about an env: its input and action names and sizes.

    Works for any registered env (or ``"module:Env-v0"`` id, see :func:`resolve_env_id`)
    with a ``Box`` observation of shape ``(n,)`` and a ``Discrete(2)`` action; envs robonet does not know get names ``obs_0 .. obs_{n-1}`` and
    ``action_0, action_1``. ``kwargs`` are passed to ``gymnasium.make`` (e.g. ``n_rays``).

    Returns:
        dict with ``env_id``, ``observation_names`` (list[str]), ``action_names``
        (list[str]), ``n_observations`` (int) and ``max_episode_steps`` (int or None).

    Raises:
        ValueError: unknown env id, or spaces robonet cannot drive.
    """
    registry_id = registered_id(env_id)
    env = gym.make(env_id, disable_env_checker=True, **kwargs)
    try:
        obs_space, act_space = env.observation_space, env.action_space
        max_steps = env.spec.max_episode_steps if env.spec is not None else None
        cfg = getattr(env.unwrapped, "config", None)
    finally:
        env.close()
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        raise ValueError(f"{env_id}: robonet needs a 1-d Box observation, got {obs_space}")
    if not isinstance(act_space, gym.spaces.Discrete) or act_space.n != 2:
        raise ValueError(f"{env_id}: robonet needs a Discrete(2) action, got {act_space}")
    n = int(obs_space.shape[0])
    if registry_id == ENV_ID:
        obs_names, act_names = observation_names(cfg.n_rays), list(ACTION_NAMES)
    elif registry_id in _KNOWN_NAMES:
        obs_names, act_names = (list(x) for x in _KNOWN_NAMES[registry_id])
    else:
        obs_names, act_names = [f"obs_{i}" for i in range(n)], ["action_0", "action_1"]
    return {
        "env_id": env_id,
        "observation_names": obs_names,
        "action_names": act_names,
        "n_observations": n,
        "max_episode_steps": max_steps,
    }
