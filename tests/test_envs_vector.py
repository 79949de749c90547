"""The vectorized robot: exactly the single env's numbers, and Gymnasium's NEXT_STEP autoreset."""
import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import robonet.envs
from robonet.envs.obstacle_avoidance import generate_world
from robonet.envs.vector import ObstacleAvoidanceVectorEnv

ENV_ID = robonet.envs.ENV_ID


def make_vec(n, **kwargs):
    return gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)


def test_make_vec_gives_the_array_program_with_next_step_autoreset():
    envs = make_vec(3)
    assert isinstance(envs.unwrapped, ObstacleAvoidanceVectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert envs.max_episode_steps == 1000  # from the registration, as TimeLimit would
    assert envs.single_observation_space == gym.make(ENV_ID).observation_space
    obs, infos = envs.reset(seed=0)
    assert obs.shape == (3, 9) and obs.dtype == np.float32
    assert infos["collision"].shape == (3,) and infos["_collision"].all()
    envs.close()
    envs.close()


def test_same_world_and_state_give_exactly_the_single_envs_step():
    """Load one world into a single env and into sub-env 2 of a vector env; step both."""
    single = gym.make(ENV_ID)
    single.reset(seed=0)
    envs = make_vec(4)
    envs.reset(seed=100)
    rng = np.random.default_rng(3)
    world = generate_world(rng, single.unwrapped.config)
    single.unwrapped.robots.load(0, world)
    envs.unwrapped.robots.load(2, world)
    for _ in range(40):
        a = int(rng.integers(2))
        actions = rng.integers(2, size=4)
        actions[2] = a
        obs, reward, terminated, _, info = single.step(a)
        v_obs, v_rew, v_term, _, v_info = envs.step(actions)
        np.testing.assert_array_equal(v_obs[2], obs)
        assert v_rew[2] == reward
        assert v_term[2] == terminated
        for key in ("collision", "distance", "waypoints_reached", "goal_distance", "clearance"):
            assert v_info[key][2] == info[key], key
        if terminated:
            break


def test_sub_env_i_reproduces_a_single_env_seeded_seed_plus_i_across_autoresets():
    """Random steering, a 30-step limit: every sub-env crashes or times out several times.

    Sub-env i must match ``gym.make(ENV_ID, max_episode_steps=30)`` reset with ``seed + i``,
    stepped with the same actions and reset without a seed after each episode. The row
    after an episode's end is Gymnasium's NEXT_STEP autoreset: action ignored, reward 0,
    terminated = truncated = False, the new episode's first observation.
    """
    n, seed, limit = 4, 21, 30
    envs = make_vec(n, max_episode_steps=limit)
    singles = [gym.make(ENV_ID, max_episode_steps=limit) for _ in range(n)]
    v_obs, _ = envs.reset(seed=seed)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(v_obs[i], env.reset(seed=seed + i)[0])
    rng = np.random.default_rng(0)
    prev_done = np.zeros(n, dtype=bool)
    counts = {"terminated": 0, "truncated": 0, "autoreset": 0}
    for _ in range(150):
        actions = rng.integers(2, size=n)
        v_obs, v_rew, v_term, v_trunc, v_info = envs.step(actions)
        np.testing.assert_array_equal(v_info["autoreset"], prev_done)
        for i, env in enumerate(singles):
            if prev_done[i]:  # the ignored autoreset row
                obs, _ = env.reset()
                reward, terminated, truncated = 0.0, False, False
                counts["autoreset"] += 1
            else:
                obs, reward, terminated, truncated, _ = env.step(int(actions[i]))
            np.testing.assert_array_equal(v_obs[i], obs)
            assert (v_rew[i], v_term[i], v_trunc[i]) == (reward, terminated, truncated)
            counts["terminated"] += terminated
            counts["truncated"] += truncated
        prev_done = v_term | v_trunc
    assert counts["terminated"] > 0 and counts["truncated"] > 0 and counts["autoreset"] > 0


def test_autoreset_row_ignores_the_action():
    outcomes = []
    for action in (0, 1):
        envs = make_vec(1, max_episode_steps=2)
        envs.reset(seed=5)
        envs.step(np.array([0]))
        _, _, _, trunc, _ = envs.step(np.array([0]))
        assert trunc[0]
        obs, rew, term, trunc, info = envs.step(np.array([action]))
        assert info["autoreset"][0] and rew[0] == 0.0 and not term[0] and not trunc[0]
        outcomes.append(obs)
    np.testing.assert_array_equal(outcomes[0], outcomes[1])


def test_partial_reset_resets_only_the_masked_sub_envs_with_their_seeds():
    envs = make_vec(3)
    envs.reset(seed=0)
    before, *_ = envs.step(np.array([0, 1, 0]))
    mask = np.array([False, True, False])
    obs, infos = envs.reset(seed=[None, 77, None], options={"reset_mask": mask})
    np.testing.assert_array_equal(obs[[0, 2]], before[[0, 2]])
    np.testing.assert_array_equal(obs[1], gym.make(ENV_ID).reset(seed=77)[0])
    np.testing.assert_array_equal(infos["_collision"], mask)
    with pytest.raises(ValueError, match="reset_mask"):
        envs.reset(options={"reset_mask": np.zeros(3, dtype=bool)})
    with pytest.raises(ValueError, match="reset_mask"):
        envs.reset(options={"reset_mask": [True, False, True]})


@pytest.mark.parametrize("actions, shown", [(np.array([0, 2]), "2"), (np.array([0.0, 1.0]), "float64"),
                                            (np.array([0, 1, 1]), "(3,)")])
def test_invalid_actions_are_rejected_with_the_value(actions, shown):
    envs = make_vec(2)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=shown.replace("(", r"\(").replace(")", r"\)")):
        envs.step(actions)


def test_vector_env_pickles_and_renders_one_frame_per_robot():
    envs = ObstacleAvoidanceVectorEnv(num_envs=2, render_mode="rgb_array")
    envs.reset(seed=4)
    frames = envs.render()
    assert len(frames) == 2 and frames[0].shape[2] == 3 and frames[0].dtype == np.uint8
    assert not np.array_equal(frames[0], frames[1])  # two different worlds
    clone = pickle.loads(pickle.dumps(envs))
    actions = np.array([1, 0])
    for _ in range(5):
        a, b = envs.step(actions), clone.step(actions)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    envs.close()
    clone.close()
