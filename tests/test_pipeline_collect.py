"""Collection: seeded episodes independent of --num-envs, autoreset masking, kill safety."""
import json
import os
import signal
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest

from robonet import collect as collect_module
from robonet.collect import collect, episode_seed, get_expert
from robonet.logs import load_logs

CARTPOLE = "CartPole-v1"


def _episodes(log):
    ids = np.asarray(log.episode_ids)
    return {int(e): np.flatnonzero(ids == e) for e in np.unique(ids)}


def test_episode_seed_depends_on_seed_and_index():
    seeds = {episode_seed(s, i) for s in range(3) for i in range(50)}
    assert len(seeds) == 150  # no collisions between runs or episodes
    assert episode_seed(4, 7) == episode_seed(4, 7)


def test_logs_do_not_depend_on_the_number_of_envs(tmp_path):
    one = collect(CARTPOLE, tmp_path / "k1", 5, seed=3, noise=0.3, num_envs=1)
    three = collect(CARTPOLE, tmp_path / "k3", 5, seed=3, noise=0.3, num_envs=3)
    a, b = load_logs(tmp_path / "k1"), load_logs(tmp_path / "k3")
    assert one["steps"] == three["steps"] == len(a) == len(b)
    for field in ("observations", "actions", "executed_actions", "rewards", "terminations", "episode_ids"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    # noise executed some random actions while the expert's label was logged
    assert np.any(a.actions != a.executed_actions)


def test_append_continues_episode_ids_and_seeds(tmp_path):
    collect(CARTPOLE, tmp_path / "a", 2, seed=5, noise=0.5)
    collect(CARTPOLE, tmp_path / "a", 2, seed=5, noise=0.5, append=True)
    collect(CARTPOLE, tmp_path / "b", 4, seed=5, noise=0.5, num_envs=2)
    a, b = load_logs(tmp_path / "a"), load_logs(tmp_path / "b")
    np.testing.assert_array_equal(a.observations, b.observations)
    np.testing.assert_array_equal(np.unique(a.episode_ids), [0, 1, 2, 3])


class _NoMaskedResetVectorEnv(gym.vector.SyncVectorEnv):
    """A vector env without seeded partial resets (like most array-program vector envs)."""

    def reset(self, *, seed=None, options=None):
        if options and "reset_mask" in options:
            raise ValueError("partial resets not supported")
        return super().reset(seed=seed, options=options)


def test_vector_env_without_partial_reset_still_gives_the_same_episodes(tmp_path, monkeypatch):
    monkeypatch.setattr(collect_module, "make_vector_env",
                        lambda env_id, n: _NoMaskedResetVectorEnv([lambda: gym.make(env_id)] * n))
    collect(CARTPOLE, tmp_path / "k1", 7, seed=4, noise=0.5)
    collect(CARTPOLE, tmp_path / "k3", 7, seed=4, noise=0.5, num_envs=3)
    a, b = load_logs(tmp_path / "k1"), load_logs(tmp_path / "k3")
    np.testing.assert_array_equal(a.observations, b.observations)
    np.testing.assert_array_equal(a.executed_actions, b.executed_actions)


def test_robot_vector_env_gives_the_same_episodes_as_single_envs(tmp_path):
    collect("robonet/ObstacleAvoidance-v0", tmp_path / "k1", 2, seed=6, noise=0.2)
    collect("robonet/ObstacleAvoidance-v0", tmp_path / "k2", 2, seed=6, noise=0.2, num_envs=2)
    a, b = load_logs(tmp_path / "k1"), load_logs(tmp_path / "k2")
    np.testing.assert_array_equal(a.episode_ids, b.episode_ids)
    np.testing.assert_array_equal(a.observations, b.observations)


def test_autoreset_step_is_never_logged():
    episodes = []
    # random actions (noise 1) make short episodes of different lengths: the envs end at different steps
    collect_module.run_episodes(
        CARTPOLE, get_expert(CARTPOLE), 12, seed=1, noise=1.0, num_envs=3, record=True,
        vector_reset="autoreset", on_episode=lambda result, data: episodes.append((result, data)))
    assert [r.episode_id for r, _ in episodes] == list(range(12))
    for result, data in episodes:
        assert len(data.rewards) == len(data.observations) == result.length
        # CartPole pays 1 for every real step; the ignored autoreset step pays 0
        assert np.all(data.rewards == 1.0)
        # every episode starts from a reset state (|s| <= 0.05), not from the previous terminal state
        assert np.all(np.abs(data.observations[0]) <= 0.05)
    lengths = sorted(r.length for r, _ in episodes)
    assert lengths[0] < lengths[-1] < 500


def test_collect_killed_mid_run_keeps_every_flushed_episode(tmp_path):
    out = tmp_path / "log"
    env = {**os.environ, "ROBONET_NO_PROGRESS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "robonet", "collect", "--env", CARTPOLE, "--episodes", "100000",
         "--out", str(out), "--seed", "2", "--noise", "0.1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            manifest = out / "manifest.json"
            if manifest.exists() and len(json.loads(manifest.read_text())["shards"]) >= 2:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        time.sleep(0.15)  # land somewhere in the middle of the next shard
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    log = load_logs(out)
    episodes = _episodes(log)
    assert len(episodes) == log.n_episodes >= 20
    assert sorted(episodes) == list(range(len(episodes)))  # no episode lost between flushed ones
    # the kept episodes are exactly what an uninterrupted collect produces
    collect(CARTPOLE, tmp_path / "reference", 3, seed=2, noise=0.1)
    reference = load_logs(tmp_path / "reference")
    n = len(reference)
    np.testing.assert_array_equal(log.observations[:n], reference.observations)
    np.testing.assert_array_equal(log.executed_actions[:n], reference.executed_actions)


def test_bad_arguments_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="--episodes must be >= 1, got 0"):
        collect(CARTPOLE, tmp_path / "x", 0)
    with pytest.raises(ValueError, match=r"--noise must be a probability in \[0, 1\], got 1.5"):
        collect(CARTPOLE, tmp_path / "x", 1, noise=1.5)
    with pytest.raises(ValueError, match="--seed must be >= 0, got -1"):
        collect(CARTPOLE, tmp_path / "x", 1, seed=-1)
    assert not (tmp_path / "x" / "manifest.json").exists()


def test_an_interrupted_plain_collect_is_finished_by_resume(tmp_path, monkeypatch):
    """Ctrl-C in a plain (one-process) collect keeps the finished episodes; the same command
    with --resume adds the rest, and the log equals an uninterrupted one."""
    from robonet.cli import main

    expert = get_expert(CARTPOLE)

    class Interrupting:  # the user presses Ctrl-C in the middle of episode 7
        calls = 0

        def __call__(self, obs):
            Interrupting.calls += 1
            if Interrupting.calls == 7 * 500 + 100:
                raise KeyboardInterrupt
            return expert(obs)

    monkeypatch.setattr(collect_module, "get_expert", lambda env_id, kind="scripted": Interrupting())
    argv = ["collect", "--env", CARTPOLE, "--episodes", "12", "--seed", "5", "--out", str(tmp_path / "log")]
    assert main(argv) == 130
    assert load_logs(tmp_path / "log").n_episodes == 7
    monkeypatch.undo()
    assert main([*argv, "--resume"]) == 0
    collect(CARTPOLE, tmp_path / "reference", 12, seed=5)
    log, reference = load_logs(tmp_path / "log"), load_logs(tmp_path / "reference")
    for name in ("observations", "actions", "rewards", "terminations", "truncations", "episode_ids"):
        np.testing.assert_array_equal(getattr(log, name), getattr(reference, name), err_msg=name)
