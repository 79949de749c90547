"""robonet's seeded array CartPole: each sub-env is gym.make("CartPole-v1"), bit for bit."""
import gymnasium as gym
import numpy as np
import pytest

from robonet.collect import make_vector_env, run_episodes
from robonet.envs.cartpole_vector import SeededCartPoleVectorEnv


class _ShakyExpert:
    """The scripted expert, wrong whenever a hash of the observation says so: a deterministic
    policy (so one at a time and many at once must agree) with episodes of varied lengths."""

    def __init__(self):
        from robonet.envs.experts import get_expert

        self.expert = get_expert("CartPole-v1")

    def batch(self, obs):
        obs = np.asarray(obs, dtype=np.float32).reshape(-1, 4)
        flip = (np.abs(obs[:, 1] * 1e5).astype(np.int64) % 5) == 0
        return np.where(flip, 1 - self.expert.batch(obs), self.expert.batch(obs)).astype(np.int64)

    def __call__(self, obs):
        return int(self.batch(obs)[0])


def test_sub_env_i_is_a_single_env_with_its_seed_across_autoresets():
    K, steps = 5, 300
    seeds = [11, 0, 2**31 - 1, 7, 123456]
    rng = np.random.default_rng(0)
    actions = rng.integers(2, size=(steps, K))  # random pushes: episodes of ~20 steps
    envs = SeededCartPoleVectorEnv(K)
    obs, _ = envs.reset(seed=seeds)
    rows, prev_done = [obs], np.zeros(K, dtype=bool)
    flags = []
    for t in range(steps):
        obs, reward, terminated, truncated, _ = envs.step(actions[t])
        rows.append(obs)
        flags.append((reward, terminated, truncated, prev_done.copy()))
        prev_done = terminated | truncated
    for i, seed in enumerate(seeds):
        single = gym.make("CartPole-v1")
        o, _ = single.reset(seed=seed)
        np.testing.assert_array_equal(rows[0][i], o)
        done, resets = False, 0
        for t in range(steps):
            reward, terminated, truncated, was_done = flags[t]
            assert was_done[i] == done
            if done:  # the vector env's NEXT_STEP autoreset row: the single env resets, unseeded
                o, _ = single.reset()
                resets += 1
                assert reward[i] == 0.0 and not terminated[i] and not truncated[i]
                done = False
            else:
                o, r, term, trunc, _ = single.step(int(actions[t, i]))
                assert (reward[i], terminated[i], truncated[i]) == (r, term, trunc)
                done = term or trunc
            np.testing.assert_array_equal(rows[t + 1][i], o, err_msg=f"sub-env {i}, step {t}")
        assert resets >= 5  # the check crossed several autoresets
        single.close()


def test_partial_reset_restarts_only_the_masked_sub_envs():
    envs = SeededCartPoleVectorEnv(3)
    envs.reset(seed=[1, 2, 3])
    for _ in range(5):
        before, _, _, _, _ = envs.step(np.array([1, 0, 1]))
    mask = np.array([False, True, False])
    obs, _ = envs.reset(seed=[None, 42, None], options={"reset_mask": mask})
    single = gym.make("CartPole-v1")
    start, _ = single.reset(seed=42)
    np.testing.assert_array_equal(obs[1], start)
    np.testing.assert_array_equal(obs[[0, 2]], before[[0, 2]])
    assert envs.steps.tolist()[1] == 0 and envs.steps.tolist()[0] == 5


@pytest.mark.parametrize("bad", [np.ones(3, dtype=int), np.ones(2, dtype=bool)])
def test_bad_reset_mask_is_rejected(bad):
    envs = SeededCartPoleVectorEnv(3)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="reset_mask"):
        envs.reset(options={"reset_mask": bad})


def test_make_vector_env_uses_it_for_cartpole_with_the_registered_time_limit():
    envs = make_vector_env("CartPole-v1", 4)
    assert isinstance(envs, SeededCartPoleVectorEnv) and envs.max_episode_steps == 500
    assert make_vector_env("CartPole-v0", 2).max_episode_steps == 200


def test_episodes_do_not_depend_on_how_many_run_at_once():
    one = run_episodes("CartPole-v1", _ShakyExpert(), 40, seed=5, num_envs=1)
    many = run_episodes("CartPole-v1", _ShakyExpert(), 40, seed=5, num_envs=16)
    lengths = [r.length for r in one]
    assert len(set(lengths)) > 3  # varied episodes, not all 500
    assert [(r.episode_id, r.seed, r.episode_return, r.length, r.terminated) for r in one] == \
        [(r.episode_id, r.seed, r.episode_return, r.length, r.terminated) for r in many]
