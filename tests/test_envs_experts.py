"""Scripted experts succeed on a handful of seeds (the 100-episode figures are in docs/envs.md)."""
import gymnasium as gym
import numpy as np
import pytest

import robonet.envs
from robonet.envs.experts import (
    CartPoleExpert,
    FunctionExpert,
    KeyboardExpert,
    ObstacleAvoidanceExpert,
    get_expert,
)

ENV_ID = robonet.envs.ENV_ID


@pytest.mark.parametrize("seed", range(5))
def test_cartpole_expert_reaches_500(seed):
    env = gym.make("CartPole-v1")
    expert = get_expert("CartPole-v1")
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(expert(obs))
        total += reward
        done = terminated or truncated
    assert total == 500.0 and not terminated


def test_robot_expert_drives_1000_steps_without_collision_on_five_seeds():
    # The vector env equals five single envs seeded 0..4 (tests/test_envs_vector.py).
    envs = gym.make_vec(ENV_ID, num_envs=5, vectorization_mode="vector_entry_point")
    expert = get_expert(ENV_ID)
    obs, _ = envs.reset(seed=0)
    returns = np.zeros(5)
    for step in range(1000):
        obs, rewards, terminated, truncated, infos = envs.step(expert.batch(obs))
        returns += rewards
        assert not terminated.any(), f"collision at step {step} in sub-env {np.flatnonzero(terminated)}"
    assert truncated.all()
    assert np.all(infos["waypoints_reached"] >= 5)  # it gets somewhere, not just survives
    assert returns.min() > 500.0


def test_a_naive_rule_is_not_enough():
    """Steering at the waypoint, blind to the sensors, crashes: the task needs a real rule."""
    goal_only = FunctionExpert(lambda obs: np.where(obs[:, 7] > 0.0, 0, 1), name="goal only")
    envs = gym.make_vec(ENV_ID, num_envs=5, vectorization_mode="vector_entry_point")
    obs, _ = envs.reset(seed=0)
    crashed = np.zeros(5, dtype=bool)
    for _ in range(1000):
        obs, _, terminated, _, _ = envs.step(goal_only.batch(obs))
        crashed |= terminated
    assert crashed.sum() >= 3


def test_single_and_batched_calls_agree_and_are_ints():
    rng = np.random.default_rng(0)
    for expert, width in ((get_expert(ENV_ID), 9), (get_expert("CartPole-v1"), 4)):
        obs = rng.uniform(-1.0, 1.0, (50, width)).astype(np.float32)
        actions = expert.batch(obs)
        assert actions.dtype == np.int64 and actions.shape == (50,)
        assert set(actions.tolist()) <= {0, 1}
        singles = [expert(row) for row in obs]
        assert all(type(a) is int for a in singles)
        assert singles == actions.tolist()


def test_robot_expert_steers_away_from_a_near_obstacle_and_towards_the_goal():
    expert = ObstacleAvoidanceExpert()
    free = np.ones(7)
    goal_left = np.concatenate([free, [1.0, 0.0]])  # goal 90 deg to the left, nothing near
    goal_right = np.concatenate([free, [-1.0, 0.0]])
    assert expert(goal_left) == 0 and expert(goal_right) == 1
    wall_left = np.concatenate([[1, 1, 1, 0.1, 0.1, 0.05, 0.05], [0.0, 1.0]])  # blocked ahead-left
    assert expert(wall_left) == 1
    assert expert(np.concatenate([wall_left[:7][::-1], [0.0, 1.0]])) == 0  # mirror image


def test_expert_lookup_and_shape_errors():
    assert isinstance(get_expert("CartPole-v1"), CartPoleExpert)
    assert isinstance(get_expert(ENV_ID, kind="keyboard"), KeyboardExpert)
    with pytest.raises(ValueError, match="MountainCar-v0"):
        get_expert("MountainCar-v0")
    with pytest.raises(ValueError, match="'joystick'"):
        get_expert(ENV_ID, kind="joystick")
    with pytest.raises(ValueError, match=r"\(5,\)"):
        get_expert("CartPole-v1")(np.zeros(5))
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        get_expert(ENV_ID)(np.zeros((2, 4)))


def test_describe_names_inputs_and_actions():
    robot = robonet.envs.describe(ENV_ID)
    assert robot["observation_names"][0] == "range_-90deg" and robot["observation_names"][-1] == "goal_cos"
    assert robot["action_names"] == ["steer_left", "steer_right"]
    assert robot["n_observations"] == 9 and robot["max_episode_steps"] == 1000
    assert robonet.envs.describe(ENV_ID, n_rays=5)["n_observations"] == 7
    assert robonet.envs.describe("CartPole-v1")["action_names"] == ["push_left", "push_right"]
    assert robonet.envs.describe("CartPole-v1")["n_observations"] == 4
    with pytest.raises(ValueError, match="Discrete"):
        robonet.envs.describe("MountainCarContinuous-v0")
    with pytest.raises(ValueError, match="'NoSuchEnv-v0'"):
        robonet.envs.describe("NoSuchEnv-v0")
    assert len(robot["observation_names"]) == 9


def test_module_prefixed_ids_name_a_missing_module():
    with pytest.raises(ValueError, match="'no_such_robot_module'"):
        robonet.envs.describe("no_such_robot_module:Robot-v0")
    with pytest.raises(ValueError, match="'no_such_robot_module'"):
        get_expert("no_such_robot_module:Robot-v0")
    assert robonet.envs.resolve_env_id("CartPole-v1") == "CartPole-v1"
    assert robonet.envs.resolve_env_id(f"robonet.envs:{ENV_ID}") == ENV_ID
