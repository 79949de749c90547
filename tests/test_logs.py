"""Sensor-log format: round trip, append rule, and clear errors for damaged logs."""
import json

import numpy as np
import pytest

from robonet.errors import DataError, UserError
from robonet.logs import LogWriter, iter_shards, load_logs

ENV = "CartPole-v1"


def _episode(rng, length, obs_size=4):
    return rng.normal(size=(length, obs_size)).astype(np.float32), rng.integers(0, 2, length), np.ones(length)


def write_log(path, lengths=(3, 5, 2, 4), flush_episodes=2, seed=0, append=False):
    rng = np.random.default_rng(seed)
    episodes = []
    with LogWriter(path, ENV, append=append, flush_episodes=flush_episodes, flush_seconds=1e9,
                   collection={"expert": "test"}) as writer:
        for length in lengths:
            obs, actions, rewards = _episode(rng, length)
            episode_id = writer.new_episode_id()
            writer.add_episode(episode_id, obs, actions, rewards, terminated=length % 2 == 0)
            episodes.append((episode_id, obs, actions))
    return episodes


def test_round_trip_keeps_every_episode_in_order(tmp_path):
    episodes = write_log(tmp_path / "log")
    log = load_logs(tmp_path / "log")
    assert len(log.shards) == 2  # flushed every 2 episodes
    assert log.n_episodes == 4 and len(log) == 14
    assert log.observations.dtype == np.float32 and log.observations.shape == (14, 4)
    np.testing.assert_array_equal(log.observations, np.concatenate([e[1] for e in episodes]))
    np.testing.assert_array_equal(log.actions, np.concatenate([e[2] for e in episodes]))
    np.testing.assert_array_equal(np.unique(log.episode_ids), [0, 1, 2, 3])
    # exactly one end flag per episode, on its last step; terminated for even lengths here
    ends = np.flatnonzero(log.terminations | log.truncations)
    np.testing.assert_array_equal(ends, np.cumsum([3, 5, 2, 4]) - 1)
    np.testing.assert_array_equal(log.terminations[ends], [False, False, True, True])
    assert log.observation_names == ["cart_position", "cart_velocity", "pole_angle", "pole_angular_velocity"]
    manifest = json.loads((tmp_path / "log" / "manifest.json").read_text())
    assert manifest["counts"] == {"episodes": 4, "steps": 14}
    assert manifest["env_id"] == ENV and manifest["format_version"] == 1


def test_single_shard_log_is_memory_mapped(tmp_path):
    write_log(tmp_path / "log", lengths=(3, 4), flush_episodes=10)
    log = load_logs(tmp_path / "log")
    assert isinstance(log.observations, np.memmap)
    assert [len(s) for s in iter_shards(tmp_path / "log")] == [7]


def test_existing_log_is_refused_without_append_and_ids_continue_with_it(tmp_path):
    write_log(tmp_path / "log", lengths=(3, 4))
    with pytest.raises(UserError, match="already holds a sensor log; pass --append"):
        write_log(tmp_path / "log", lengths=(2,))
    write_log(tmp_path / "log", lengths=(2, 2), append=True, seed=1)
    log = load_logs(tmp_path / "log")
    np.testing.assert_array_equal(np.unique(log.episode_ids), [0, 1, 2, 3])
    assert len(log.manifest["collections"]) == 2


def test_append_of_another_env_is_refused(tmp_path):
    write_log(tmp_path / "log", lengths=(3,))
    with pytest.raises(UserError, match="cannot append robonet/ObstacleAvoidance-v0 episodes .* CartPole-v1"):
        LogWriter(tmp_path / "log", "robonet/ObstacleAvoidance-v0", append=True)


def test_non_log_directory_is_never_overwritten(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not a sensor log"):
        LogWriter(tmp_path, ENV)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_unlisted_and_temporary_shards_are_ignored(tmp_path):
    write_log(tmp_path / "log", lengths=(3, 4), flush_episodes=10)
    log_dir = tmp_path / "log"
    # what a kill leaves behind: a half-written temp shard and a renamed shard not yet listed
    (log_dir / ".shard-000001.tmp-999").mkdir()
    (log_dir / ".shard-000001.tmp-999" / "observations.npy").write_bytes(b"\x93NUMPY partial")
    (log_dir / "shard-000001").mkdir()
    assert len(load_logs(log_dir)) == 7
    write_log(log_dir, lengths=(2,), append=True)  # does not overwrite the unlisted shard
    log = load_logs(log_dir)
    assert len(log) == 9 and log.shards == ["shard-000000", "shard-000002"]


def _corrupt(log_dir, field, array, fix_checksum=True):
    path = log_dir / "shard-000000" / f"{field}.npy"
    np.save(path, array)
    if fix_checksum:
        from robonet.logs import _sha256

        manifest = json.loads((log_dir / "manifest.json").read_text())
        manifest["shards"][0]["sha256"][path.name] = _sha256(path)
        (log_dir / "manifest.json").write_text(json.dumps(manifest))
    return path


@pytest.fixture
def log_dir(tmp_path):
    write_log(tmp_path / "log", lengths=(3, 4), flush_episodes=10)
    return tmp_path / "log"


def test_checksum_mismatch_names_the_file(log_dir):
    path = log_dir / "shard-000000" / "rewards.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"rewards\.npy: checksum mismatch"):
        load_logs(log_dir)


def test_nan_observation_names_file_and_row(log_dir):
    obs = np.array(np.load(log_dir / "shard-000000" / "observations.npy"))
    obs[5, 2] = np.nan
    _corrupt(log_dir, "observations", obs)
    with pytest.raises(DataError, match=r"observations\.npy: contains NaN or inf \(first at row 5\)"):
        load_logs(log_dir)


def test_wrong_shape_and_dtype_are_named(log_dir):
    _corrupt(log_dir, "actions", np.zeros(6, dtype=np.int64))
    with pytest.raises(DataError, match=r"actions\.npy: shape \(6,\) does not match the manifest \(expected \(7,\)\)"):
        load_logs(log_dir)
    _corrupt(log_dir, "actions", np.zeros(7, dtype=np.float64))
    with pytest.raises(DataError, match=r"actions\.npy: dtype float64 is wrong"):
        load_logs(log_dir)


def test_truncated_file_is_a_data_error(log_dir):
    path = log_dir / "shard-000000" / "observations.npy"
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(DataError, match="observations.npy"):
        load_logs(log_dir, verify=False)


def test_inconsistent_episode_boundaries_are_reported(log_dir):
    _corrupt(log_dir, "terminations", np.zeros(7, dtype=bool))
    _corrupt(log_dir, "truncations", np.zeros(7, dtype=bool))
    with pytest.raises(DataError, match="episode boundaries are inconsistent at row 2"):
        load_logs(log_dir)


def test_manifest_errors(log_dir, tmp_path):
    manifest_path = log_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(DataError, match="format_version 99 is not supported"):
        load_logs(log_dir)
    manifest_path.write_text("{not json")
    with pytest.raises(DataError, match="manifest.json: not valid JSON"):
        load_logs(log_dir)
    manifest_path.write_text(json.dumps({**manifest, "counts": {"episodes": 3, "steps": 7}}))
    with pytest.raises(DataError, match="counts say 3 episodes / 7 steps, the shards hold 2 / 7"):
        load_logs(log_dir)
    with pytest.raises(DataError, match="manifest.json is missing"):
        load_logs(tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        load_logs(tmp_path / "nowhere")
