"""Out-of-core training: every transition once per epoch, seeded shuffle, streamed moments, train --stream."""
import numpy as np
import pytest

from robonet.cli import main
from robonet.collect import collect
from robonet.logs import load_logs
from robonet.streaming import (RunningMoments, StreamingLog, iter_minibatches, streaming_statistics,
                               validation_mask)

CARTPOLE = "CartPole-v1"


@pytest.fixture(scope="module")
def cartpole_log(tmp_path_factory):
    """A CartPole log of several shards (flushed every 3 episodes), with noise so labels vary."""
    path = tmp_path_factory.mktemp("stream") / "log"
    collect(CARTPOLE, path, 12, seed=1, noise=0.3, num_envs=3)
    return path


def test_minibatches_cover_every_training_row_exactly_once(cartpole_log):
    log = StreamingLog(cartpole_log, chunk_rows=97)  # chunks cross no shard; many windows
    full = load_logs(cartpole_log)
    assert len(log.shards) > 1 and len(log.chunks) > 8
    for split in (0.0, 0.3):
        val = validation_mask(full.episode_ids, split, seed=5)
        rows, sizes = [], []
        for obs, labels, idx in iter_minibatches(log, 32, seed=5, epoch=2, window_chunks=3, validation_split=split):
            np.testing.assert_array_equal(obs, full.observations[idx])  # rows carry their own data
            np.testing.assert_array_equal(labels, full.actions[idx])
            rows.append(idx)
            sizes.append(len(idx))
        rows = np.concatenate(rows)
        np.testing.assert_array_equal(np.sort(rows), np.flatnonzero(~val))  # each training row once
        assert all(s == 32 for s in sizes[:-1]) and 0 < sizes[-1] <= 32
        assert not np.array_equal(rows, np.sort(rows))  # shuffled, across shards
    assert 0 < validation_mask(full.episode_ids, 0.3, seed=5).sum() < len(full)


def test_shuffle_is_seeded(cartpole_log):
    log = StreamingLog(cartpole_log, chunk_rows=97)

    def order(seed, epoch):
        return np.concatenate([idx for _, _, idx in iter_minibatches(log, 16, seed=seed, epoch=epoch)])

    np.testing.assert_array_equal(order(3, 0), order(3, 0))
    assert not np.array_equal(order(3, 0), order(3, 1))  # a new order every epoch
    assert not np.array_equal(order(3, 0), order(4, 0))


def test_streaming_moments_equal_numpy(cartpole_log):
    full = load_logs(cartpole_log)
    log = StreamingLog(cartpole_log, chunk_rows=50)
    stats = streaming_statistics(log, validation_split=0.25, seed=2)
    train = ~validation_mask(full.episode_ids, 0.25, seed=2)
    X = np.asarray(full.observations, dtype=np.float64)[train]
    np.testing.assert_allclose(stats.mean, X.mean(axis=0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(stats.moments.std, X.std(axis=0), rtol=1e-11)
    assert stats.train_rows == train.sum() and stats.validation_rows == (~train).sum()
    np.testing.assert_array_equal(stats.action_counts, np.bincount(full.actions, minlength=2))
    # badly conditioned data: a large offset does not destroy the variance (naive sum of squares would)
    rng = np.random.default_rng(0)
    Y = 1e8 + rng.normal(size=(10_000, 3))
    moments = RunningMoments(3)
    for start in range(0, len(Y), 333):
        moments.update(Y[start:start + 333])
    np.testing.assert_allclose(moments.std, Y.std(axis=0), rtol=1e-7)


def test_train_stream_gives_a_working_controller(tmp_path, capsys):
    logs, model = tmp_path / "robot", tmp_path / "robot.npz"
    collect("robonet/ObstacleAvoidance-v0", logs, 6, seed=0, num_envs=6)
    assert main(["train", "--logs", str(logs), "--out", str(model), "--stream", "--epochs", "6",
                 "--validation-split", "0.2", "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert out.count("transitions/s") == 6 and "val_acc" in out
    from robonet.controller import load_controller

    controller = load_controller(model)
    assert controller.info["settings"]["streaming"] is True
    assert controller.info["logs"]["steps"] == len(load_logs(logs))
    assert controller.info["final"]["accuracy"] > 0.8
    log = load_logs(logs)
    agreement = np.mean(controller.batch(np.asarray(log.observations)) == log.actions)
    assert agreement > 0.8  # it learned the expert, not a constant


def test_small_logs_keep_the_in_memory_path(cartpole_log, tmp_path, monkeypatch):
    import robonet.streaming as streaming

    from robonet.train import train

    calls = []
    monkeypatch.setattr(streaming, "train_streaming", lambda *a, **k: calls.append(1))
    _, history = train(cartpole_log, tmp_path / "m", epochs=2, verbose=False, plot=False)
    assert not calls and "transitions_per_second" not in history
    # above the threshold, the same call streams
    assert streaming.should_stream(cartpole_log, threshold=1)
    assert not streaming.should_stream(cartpole_log)


def test_open_files_do_not_grow_with_the_number_of_shards(tmp_path, monkeypatch):
    """A log of many shards is streamed (and loaded) with a bounded number of open files:
    the per-process limits on file descriptors and memory maps cap the shards held at once."""
    import os

    from robonet import streaming
    from robonet.parallel import collect_parallel

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    path = tmp_path / "many"
    collect_parallel(CARTPOLE, path, 80, seed=2, task_episodes=1)  # one shard per episode
    before = open_fds()
    log = StreamingLog(path, chunk_rows=200)
    assert len(log.shards) == 80 and open_fds() - before <= 1
    peak = 0
    for obs, labels, idx in iter_minibatches(log, 64, seed=1, epoch=0, window_chunks=8):
        peak = max(peak, open_fds() - before)
    assert 0 < peak <= streaming.OPEN_FILES + 2  # far below 80 shards x 3 fields read
    # load_logs copies shard by shard: count the open files each time it maps one
    import robonet.logs as logs_module

    during = []
    real_load_array = logs_module.load_array
    before_load = open_fds()  # the StreamingLog above keeps its few files open

    def counting_load_array(*args, **kwargs):
        during.append(open_fds() - before_load)
        return real_load_array(*args, **kwargs)

    monkeypatch.setattr(logs_module, "load_array", counting_load_array)
    full = load_logs(path)
    assert len(full) == 80 * 500 and len(during) == 80 * 7
    assert max(during) <= 2 * 7 + 2  # this shard's files and the last one's, not 80 shards' worth


def test_streamed_training_never_ends_on_diverged_weights(cartpole_log):
    """As fit does: a NaN validation cost, or a last update that breaks the weights, raises
    TrainingDiverged and puts back the weights of the epoch's start (finite, finite cost)."""
    from robonet.nn import Network, TrainingDiverged, sizes_to_architecture
    from robonet.streaming import train_streaming

    log = StreamingLog(cartpole_log)
    full = load_logs(cartpole_log)
    caught = set()
    for epochs in (1, 2, 3):
        for split in (0.0, 0.3):
            net = Network(sizes_to_architecture([4, 8, 1], "linear"), seed=0)
            try:  # one batch per epoch: every cost the loop sees is of weights before an update
                _, stats = train_streaming(net, log, epochs=epochs, batch_size=10**6, optimizer="sgd",
                                           learning_rate=1e200, validation_split=split)
            except TrainingDiverged as exc:
                caught.add("validation" if "validation cost after" in str(exc) else "last update"
                           if "last update" in str(exc) else "cost")
            assert np.isfinite(net.flat_parameters).all()
            with np.errstate(all="ignore"):
                X = (np.asarray(full.observations) - full.observations.mean(0)) / (full.observations.std(0) + 1e-6)
                assert np.isfinite(net.loss(X, full.actions))
    assert {"validation", "last update"} <= caught
