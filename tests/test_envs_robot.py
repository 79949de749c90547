"""The robot env follows Gymnasium's conventions (issue 3, point 3)."""
import pickle
import random
import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils import seeding
from gymnasium.utils.env_checker import check_env

import robonet.envs
from robonet.envs.obstacle_avoidance import ObstacleAvoidanceEnv, generate_world

ENV_ID = robonet.envs.ENV_ID


def _rollout(env, seed, steps, actions_seed=0):
    """Observations, rewards, terminations and infos of ``steps`` seeded random steps."""
    rng = np.random.default_rng(actions_seed)
    obs, info = env.reset(seed=seed)
    out = {"obs": [obs], "rew": [], "term": [], "info": [info]}
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(int(rng.integers(2)))
        out["obs"].append(obs)
        out["rew"].append(reward)
        out["term"].append(terminated)
        out["info"].append(info)
        if terminated or truncated:
            obs, info = env.reset()
            out["obs"].append(obs)
            out["info"].append(info)
    return out


def _assert_same(a, b):
    np.testing.assert_array_equal(np.array(a["obs"]), np.array(b["obs"]))
    assert a["rew"] == b["rew"]
    assert a["term"] == b["term"]
    assert a["info"] == b["info"]


def test_check_env_passes_without_any_warning():
    env = gym.make(ENV_ID)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        check_env(env.unwrapped)  # render check included: human and rgb_array, dummy video driver
    env.close()


def test_spaces_info_and_time_limit():
    env = gym.make(ENV_ID)
    assert env.action_space == gym.spaces.Discrete(2)
    assert env.observation_space.shape == (9,) and env.observation_space.dtype == np.float32
    assert env.spec.max_episode_steps == 1000
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    assert np.all((obs[:7] >= 0.0) & (obs[:7] <= 1.0))
    _, _, _, _, info = env.step(0)
    assert {"collision", "distance"} <= set(info)
    assert info["distance"] == pytest.approx(0.05)  # 0.5 m/s for 0.1 s
    assert gym.make(ENV_ID, n_rays=5).observation_space.shape == (7,)


def test_docstring_has_gymnasiums_sections():
    for section in ("Description", "Action Space", "Observation Space", "Rewards", "Starting State", "Episode End"):
        assert f"## {section}" in ObstacleAvoidanceEnv.__doc__


def test_same_seed_same_trajectory_different_seed_different_world():
    a = _rollout(gym.make(ENV_ID), seed=11, steps=300)
    b = _rollout(gym.make(ENV_ID), seed=11, steps=300)
    _assert_same(a, b)
    assert sum(a["term"]) >= 1  # random steering crashes: a later, unseeded reset is covered too
    c = _rollout(gym.make(ENV_ID), seed=12, steps=300)
    assert not np.array_equal(a["obs"][0], c["obs"][0])


def test_reset_draws_only_from_self_np_random():
    env = ObstacleAvoidanceEnv()
    global_np, global_py = np.random.get_state(), random.getstate()
    env.reset(seed=5)
    # the world is what generate_world draws from a generator seeded like env.np_random
    expected = generate_world(seeding.np_random(5)[0], env.config)
    np.testing.assert_array_equal(env.robots.centers[0], expected.centers)
    np.testing.assert_array_equal(env.robots.waypoints[0], expected.waypoints)
    np.testing.assert_array_equal(env.robots.position[0], expected.position)
    # an unseeded reset continues env.np_random: replacing it changes the world accordingly
    env.np_random = np.random.default_rng(99)
    env.reset()
    expected = generate_world(np.random.default_rng(99), env.config)
    np.testing.assert_array_equal(env.robots.centers[0], expected.centers)
    # nothing touched the global generators
    assert random.getstate() == global_py
    after = np.random.get_state()
    assert after[0] == global_np[0] and np.array_equal(after[1], global_np[1]) and after[2:] == global_np[2:]


def test_reset_option_sets_the_obstacle_count():
    env = gym.make(ENV_ID)
    _, _ = env.reset(seed=0, options={"n_obstacles": 0})
    assert env.unwrapped.robots.n_obstacles[0] == 0
    env.reset(seed=0, options={"n_obstacles": 3})
    assert env.unwrapped.robots.n_obstacles[0] == 3


def test_pickled_env_continues_identically():
    env = gym.make(ENV_ID, render_mode="rgb_array")
    _rollout(env, seed=2, steps=20)
    env.render()  # a live pygame surface must not stop pickling
    clone = pickle.loads(pickle.dumps(env))
    for action in [0, 1, 1, 0, 1, 0, 0, 0, 1, 1]:
        a, b = env.step(action), clone.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:] == b[1:]
    assert clone.render().shape == env.render().shape
    env.close()
    clone.close()


@pytest.mark.parametrize("action", [2, -1, 1.5, "left", None, np.array([1])])
def test_invalid_action_is_rejected_with_the_value(action):
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=re.escape(repr(action))):
        env.step(action)


@pytest.mark.parametrize(
    "options, shown",
    [({"speed": 3}, "speed"), ({"n_obstacles": 99}, "99"), ({"n_obstacles": -1}, "-1"),
     ({"n_obstacles": 2.5}, "2.5"), ([("n_obstacles", 1)], "n_obstacles")],
)
def test_invalid_options_are_rejected_with_the_value(options, shown):
    env = gym.make(ENV_ID)
    with pytest.raises(ValueError, match=re.escape(shown)):
        env.reset(seed=0, options=options)


@pytest.mark.parametrize("kwargs", [{"n_rays": 0}, {"sensor_range": -1.0}, {"n_obstacles": (5, 2)},
                                    {"render_mode": "ansi"}])
def test_invalid_constructor_arguments_are_rejected(kwargs):
    with pytest.raises(ValueError, match=re.escape(repr(next(iter(kwargs.values()))))):
        ObstacleAvoidanceEnv(**kwargs)


def test_step_before_reset_is_an_error():
    with pytest.raises(gym.error.ResetNeeded):
        ObstacleAvoidanceEnv().step(0)


@pytest.mark.parametrize("render_mode", [None, "rgb_array", "human"])
def test_close_is_safe_twice(render_mode):
    env = gym.make(ENV_ID, render_mode=render_mode)
    env.reset(seed=0)
    if render_mode is not None:
        env.render()
    env.close()
    env.close()


def test_collision_terminates_with_the_penalty():
    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=1, options={"n_obstacles": 0})
    robots = env.unwrapped.robots
    robots.position[0] = [0.3, 4.0]  # 0.15 m from the left wall, heading into it
    robots.heading[0] = np.pi
    for _ in range(10):
        obs, reward, terminated, truncated, info = env.step(0)
        if terminated:
            break
    assert terminated and info["collision"] and not truncated
    assert reward < -5.0
    assert info["clearance"] <= 0.0
