"""Out-of-core behaviour cloning: train on a sensor log larger than memory, with bounded memory.

Every array of a sensor log is a plain ``.npy`` file, so the shards are memory-mapped
(:func:`robonet.logs.iter_shards`) and only small pieces of them are ever copied into memory
the process owns. The page cache of the mapped files is the kernel's to evict; the process's
*anonymous* memory (``RssAnon`` in ``/proc/self/status``) stays bounded by the window size below,
whatever the log's size.

Three pieces:

* **Chunks.** Each shard is cut into chunks of at most ``chunk_rows`` consecutive rows. A chunk
  is the unit of reading: one contiguous slice of each mapped file.

* **Seeded shuffle across shards.** Epoch ``e`` draws a permutation of all chunks from
  ``default_rng([seed, e, 11])``; the chunks are taken ``window_chunks`` at a time, their
  training rows are gathered into one window (plus the fewer-than-a-batch rows left over from
  the previous window), and the window's rows are permuted again. Minibatches are consecutive
  slices of the shuffled window, so every training row is visited exactly once per epoch,
  in an order that depends only on (seed, epoch, chunk_rows, window_chunks, batch_size).
  Memory: ``window_chunks * chunk_rows`` rows at a time (default 8 * 65,536 rows, about 40 MB
  of float64 inputs for 9 sensors).

* **Streaming standardisation.** The input mean and standard deviation are computed in one
  pass over the chunks, each chunk's (count, mean, M2) merged into the running totals with
  Chan, Golub and LeVeque's update (numerically stable, exact up to rounding)::

      n = n_a + n_b,  delta = mean_b - mean_a
      mean = mean_a + delta * n_b / n
      M2   = M2_a + M2_b + delta**2 * n_a * n_b / n,    std = sqrt(M2 / n)   (ddof = 0)

Validation holds out whole episodes, as :func:`robonet.train.episode_split` does, but chosen by
a hash of (seed, episode id) so that no list of episodes is ever held in memory: episode ``i``
is held out when ``u(seed, i) < fraction``, ``u`` uniform in [0, 1). Its loss and accuracy are
computed in a streaming pass after every epoch.
"""
from __future__ import annotations

import math
import os
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from robonet.errors import DataError
from robonet.logs import MANIFEST, iter_shards, load_array, read_manifest

CHUNK_ROWS = 65_536
WINDOW_CHUNKS = 8
# robonet train streams automatically when the in-memory path would hold more than this:
# it keeps about four float64 copies of the observations (X, standardised X, the training
# split and fit's shuffled epoch buffer), so 1 GiB is reached at ~3.7 million robot steps.
AUTO_STREAM_BYTES = 1 << 30
IN_MEMORY_COPIES = 4


def in_memory_bytes(manifest: dict) -> int:
    """Estimated bytes the in-memory training path would allocate for this log."""
    return int(manifest["counts"]["steps"]) * int(manifest["observation_size"]) * 8 * IN_MEMORY_COPIES


def should_stream(log_dir: str | os.PathLike, threshold: int = AUTO_STREAM_BYTES) -> bool:
    """True when training on ``log_dir`` in memory would need more than ``threshold`` bytes."""
    return in_memory_bytes(read_manifest(log_dir)) > threshold


# --------------------------------------------------------------------------------------
# Episode hold-out by hash
# --------------------------------------------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a uint64 array (a bijective, well-mixing hash)."""
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def validation_mask(episode_ids: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the rows whose episode is held out for validation.

    Episode ``i`` is held out when ``u(seed, i) < fraction`` with ``u`` a hash of
    (seed, i) mapped to [0, 1); the same episode is held out in every chunk and every epoch.
    """
    ids = np.asarray(episode_ids)
    if fraction <= 0:
        return np.zeros(ids.shape, dtype=bool)
    salt = _splitmix64(np.array([int(seed)], dtype=np.uint64) ^ np.uint64(0x5EED))[0]
    key = _splitmix64(np.asarray(ids, dtype=np.uint64) ^ salt)
    u = (key >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    return u < fraction


# --------------------------------------------------------------------------------------
# Streaming moments
# --------------------------------------------------------------------------------------


class RunningMoments:
    """Count, mean, M2 (sum of squared deviations), min and max of rows seen chunk by chunk.

    ``update(X)`` merges a chunk X (m, d) with Chan et al.'s pairwise update; the result equals
    ``X_all.mean(axis=0)`` and ``X_all.std(axis=0)`` of the concatenated rows up to rounding.
    """

    def __init__(self, size: int) -> None:
        self.n = 0
        self.mean = np.zeros(size, dtype=np.float64)
        self.m2 = np.zeros(size, dtype=np.float64)
        self.min = np.full(size, np.inf)
        self.max = np.full(size, -np.inf)

    def update(self, X: np.ndarray) -> None:
        m = int(X.shape[0])
        if m == 0:
            return
        chunk = np.array(X, dtype=np.float64)  # a copy: centred in place below
        mean_b = chunk.mean(axis=0)
        np.minimum(self.min, chunk.min(axis=0), out=self.min)
        np.maximum(self.max, chunk.max(axis=0), out=self.max)
        chunk -= mean_b
        m2_b = np.einsum("ij,ij->j", chunk, chunk)
        n_a, n = self.n, self.n + m
        delta = mean_b - self.mean
        self.mean += delta * (m / n)
        self.m2 += m2_b + delta * delta * (n_a * m / n)
        self.n = n

    def merge(self, other: "RunningMoments") -> "RunningMoments":
        """Fold another accumulator into this one (same update, for partial results)."""
        if other.n:
            n_a, m, n = self.n, other.n, self.n + other.n
            delta = other.mean - self.mean
            self.mean += delta * (m / n)
            self.m2 += other.m2 + delta * delta * (n_a * m / n)
            self.n = n
            np.minimum(self.min, other.min, out=self.min)
            np.maximum(self.max, other.max, out=self.max)
        return self

    @property
    def var(self) -> np.ndarray:
        return self.m2 / self.n if self.n else np.full_like(self.m2, np.nan)

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.var)


# --------------------------------------------------------------------------------------
# The log, chunk by chunk
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """Rows ``start:stop`` of shard ``shard``; ``offset`` is the global index of ``start``."""

    shard: int
    start: int
    stop: int
    offset: int


@dataclass(frozen=True)
class ShardRef:
    """Where a validated shard lives and how many rows it holds (its files are opened on use)."""

    path: Path
    entry: dict
    rows: int

    def __len__(self) -> int:
        return self.rows


#: Shard files kept memory-mapped at once. Each open file costs a file descriptor and a memory
#: map, both limited per process (``ulimit -n``, often 1,024; ``vm.max_map_count``, 65,530):
#: a log of 10,000 shards must not hold them all open. A shuffle window touches at most
#: WINDOW_CHUNKS shards, three fields each.
OPEN_FILES = 32


class StreamingLog:
    """A sensor log opened for streaming: validated shards, memory-mapped on use, cut into chunks.

    Opening reads every shard once to validate it (and, with ``verify``, to check its
    checksums), one shard at a time. Nothing of size proportional to the log is kept except the
    list of shards and chunks (a few dozen bytes per 65,536 rows); at most :data:`OPEN_FILES`
    shard files are mapped at a time, whatever the number of shards.
    """

    def __init__(self, log_dir: str | os.PathLike, *, verify: bool = True, chunk_rows: int = CHUNK_ROWS) -> None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
        self.path = Path(log_dir)
        self.manifest = read_manifest(self.path)
        # iter_shards maps each shard while validating it; only the reference is kept.
        self.shards: list[ShardRef] = [ShardRef(shard.path, shard.entry, len(shard))
                                       for shard in iter_shards(self.path, verify=verify)]
        self._open: OrderedDict[tuple[int, str], np.ndarray] = OrderedDict()
        if not self.shards:
            raise DataError(f"{self.path}: the sensor log holds no episodes yet")
        rows = sum(len(s) for s in self.shards)
        episodes = sum(int(s.entry["episodes"]) for s in self.shards)
        counts = self.manifest["counts"]
        if counts.get("steps") != rows or counts.get("episodes") != episodes:
            raise DataError(
                f"{self.path / MANIFEST}: counts say {counts.get('episodes')} episodes / {counts.get('steps')} steps, "
                f"the shards hold {episodes} / {rows}")
        self.n_rows = rows
        self.n_episodes = episodes
        self.chunk_rows = int(chunk_rows)
        self.chunks: list[Chunk] = []
        offset = 0
        for index, shard in enumerate(self.shards):
            n = len(shard)
            for start in range(0, n, self.chunk_rows):
                stop = min(start + self.chunk_rows, n)
                self.chunks.append(Chunk(index, start, stop, offset + start))
            offset += n

    def __len__(self) -> int:
        return self.n_rows

    @property
    def env_id(self) -> str:
        return self.manifest["env_id"]

    @property
    def observation_names(self) -> list[str]:
        return list(self.manifest["observation_names"])

    @property
    def action_names(self) -> list[str]:
        return list(self.manifest["action_names"])

    @property
    def observation_size(self) -> int:
        return int(self.manifest["observation_size"])

    def field(self, chunk: Chunk, name: str) -> np.ndarray:
        """A read-only, memory-mapped view of ``name`` over the chunk's rows (no copy)."""
        key = (chunk.shard, name)
        array = self._open.get(key)
        if array is None:
            shard = self.shards[chunk.shard]
            # checked again on opening (shape, dtype): the file may have changed since validation
            array = load_array(shard.path / f"{name}.npy", name, shard.rows, self.observation_size)
            self._open[key] = array
            if len(self._open) > OPEN_FILES:
                self._open.popitem(last=False)  # unmapped once no view of it is left
        else:
            self._open.move_to_end(key)
        return array[chunk.start:chunk.stop]

    def iter_chunks(self) -> Iterator[Chunk]:
        return iter(self.chunks)


@dataclass
class LogStatistics:
    """What one streaming pass learns: the training rows' moments and the log's counts."""

    moments: RunningMoments  # of the training rows' observations
    train_rows: int
    validation_rows: int
    action_counts: np.ndarray  # over all rows (the labels)
    reward_sum: float

    @property
    def mean(self) -> np.ndarray:
        return self.moments.mean

    @property
    def std(self) -> np.ndarray:
        """The standard deviation used for standardising (a constant sensor gets 1)."""
        std = self.moments.std.copy()
        std[~(std >= 1e-6)] = 1.0
        return std


def streaming_statistics(log: StreamingLog, validation_split: float = 0.0, seed: int = 0) -> LogStatistics:
    """One pass over the chunks: moments of the training rows' observations, counts."""
    moments = RunningMoments(log.observation_size)
    n_actions = len(log.action_names)
    counts = np.zeros(n_actions, dtype=np.int64)
    train_rows = val_rows = 0
    reward_sum = 0.0
    for chunk in log.iter_chunks():
        obs = log.field(chunk, "observations")
        val = validation_mask(log.field(chunk, "episode_ids"), validation_split, seed)
        n_val = int(val.sum())
        moments.update(obs[~val] if n_val else obs)
        train_rows += len(val) - n_val
        val_rows += n_val
        counts += np.bincount(log.field(chunk, "actions"), minlength=n_actions)[:n_actions]
        reward_sum += float(np.sum(log.field(chunk, "rewards"), dtype=np.float64))
    return LogStatistics(moments, train_rows, val_rows, counts, reward_sum)


# --------------------------------------------------------------------------------------
# Shuffled windows and minibatches
# --------------------------------------------------------------------------------------


@dataclass
class Window:
    """Shuffled training rows of a few chunks: ``observations`` (m, d) float32, ``labels`` (m,),
    ``rows`` (m,) their global row indices. ``m`` is a multiple of the batch size except in
    the last window of an epoch."""

    observations: np.ndarray
    labels: np.ndarray
    rows: np.ndarray


def iter_windows(
    log: StreamingLog,
    batch_size: int,
    seed: int,
    epoch: int,
    *,
    window_chunks: int = WINDOW_CHUNKS,
    validation_split: float = 0.0,
) -> Iterator[Window]:
    """Windows of shuffled training rows; over one epoch every training row appears once."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if window_chunks < 1:
        raise ValueError(f"window_chunks must be >= 1, got {window_chunks}")
    rng = np.random.default_rng([int(seed), int(epoch), 11])
    order = rng.permutation(len(log.chunks))
    d = log.observation_size
    carry = Window(np.empty((0, d), np.float32), np.empty(0, np.int64), np.empty(0, np.int64))
    for w in range(0, len(order), window_chunks):
        obs_parts, label_parts, row_parts = [carry.observations], [carry.labels], [carry.rows]
        for c in order[w:w + window_chunks]:
            chunk = log.chunks[c]
            train = ~validation_mask(log.field(chunk, "episode_ids"), validation_split, seed)
            rows = np.arange(chunk.offset, chunk.offset + (chunk.stop - chunk.start), dtype=np.int64)
            if train.all():
                obs_parts.append(log.field(chunk, "observations"))
                label_parts.append(log.field(chunk, "actions"))
                row_parts.append(rows)
            else:
                obs_parts.append(log.field(chunk, "observations")[train])
                label_parts.append(log.field(chunk, "actions")[train])
                row_parts.append(rows[train])
        rows = np.concatenate(row_parts)
        perm = rng.permutation(len(rows))
        obs = np.concatenate(obs_parts)[perm]
        labels = np.concatenate(label_parts).astype(np.int64, copy=False)[perm]
        rows = rows[perm]
        full = (len(rows) // batch_size) * batch_size
        if full:
            yield Window(obs[:full], labels[:full], rows[:full])
        carry = Window(obs[full:], labels[full:], rows[full:])
    if len(carry.rows):
        yield carry


def iter_minibatches(log: StreamingLog, batch_size: int, seed: int, epoch: int, **kwargs: Any):
    """(observations, labels, rows) minibatches of one epoch, shuffled across shards."""
    for window in iter_windows(log, batch_size, seed, epoch, **kwargs):
        for start in range(0, len(window.rows), batch_size):
            stop = start + batch_size
            yield window.observations[start:stop], window.labels[start:stop], window.rows[start:stop]


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------


def _standardise_into(obs: np.ndarray, mean: np.ndarray, inv_std: np.ndarray, out: np.ndarray) -> np.ndarray:
    view = out[:len(obs)]
    np.subtract(obs, mean, out=view)
    view *= inv_std
    return view


def evaluate_validation(net, log: StreamingLog, mean: np.ndarray, std: np.ndarray, validation_split: float,
                        seed: int) -> tuple[float, float, int]:
    """(mean loss, accuracy, rows) of ``net`` on the held-out episodes, streamed chunk by chunk."""
    loss = net._loss
    inv_std = 1.0 / std
    buffer = np.empty((log.chunk_rows, log.observation_size), dtype=net.dtype)
    total = correct = 0.0
    n = 0
    for chunk in log.iter_chunks():
        val = validation_mask(log.field(chunk, "episode_ids"), validation_split, seed)
        if not val.any():
            continue
        X = _standardise_into(log.field(chunk, "observations")[val], mean, inv_std, buffer)
        T = np.asarray(log.field(chunk, "actions")[val], dtype=net.dtype).reshape(-1, 1)
        z = net._logits(X)
        total += loss.total(z, T)
        correct += loss.n_correct(z, T)
        n += len(T)
    return (total / n, correct / n, n) if n else (math.nan, math.nan, 0)


def train_streaming(
    net,
    log: StreamingLog,
    *,
    epochs: int,
    batch_size: int,
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    seed: int = 0,
    validation_split: float = 0.0,
    patience: int | None = None,
    callback: Callable[[int, dict], Any] | None = None,
    window_chunks: int = WINDOW_CHUNKS,
    statistics: LogStatistics | None = None,
) -> tuple[dict[str, list[float]], LogStatistics]:
    """Train ``net`` (sigmoid output) on the log's (observation, action) pairs out of core.

    Returns ``(history, statistics)``: the history has per-epoch "cost" and "accuracy" (the
    sample-weighted means over the epoch's minibatches, each of the weights before its update,
    as :func:`robonet.nn.fit` reports them), "val_cost" and "val_accuracy" with a validation
    split, and "transitions_per_second"; ``statistics.mean`` / ``statistics.std`` are the
    standardisation the network was trained with.
    """
    from robonet.nn import Trainer
    from robonet.nn.training import TrainingDiverged, diverged_update, finite_after_update

    if statistics is None:
        statistics = streaming_statistics(log, validation_split, seed)
    if statistics.train_rows == 0:
        raise DataError(f"{log.path}: no training rows left after holding out {validation_split:.0%} of the episodes")
    mean, std = statistics.mean, statistics.std
    inv_std = 1.0 / std
    trainer = Trainer(net, optimizer, learning_rate)
    loss = net._loss
    window_rows = window_chunks * log.chunk_rows + batch_size
    X_buf = np.empty((window_rows, log.observation_size), dtype=net.dtype)
    T_buf = np.empty((window_rows, 1), dtype=net.dtype)
    Z_buf = np.empty((window_rows, 1), dtype=net.dtype)
    theta = net.flat_parameters
    history: dict[str, list[float]] = {"cost": [], "accuracy": [], "transitions_per_second": []}
    has_validation = statistics.validation_rows > 0
    if has_validation:
        history["val_cost"], history["val_accuracy"] = [], []
    monitor = "val_cost" if has_validation else "cost"
    best, best_value, since_best = None, math.inf, 0
    last_good = None  # the weights at the start of the last epoch whose cost was finite
    # A diverging run overflows in the products before its cost turns NaN; the checks below
    # report it once, as TrainingDiverged, instead of a stream of RuntimeWarnings (as fit does).
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs):
            at_start = theta.copy()
            total = correct = 0.0
            seen = 0
            started = time.perf_counter()
            for window in iter_windows(log, batch_size, seed, epoch, window_chunks=window_chunks,
                                       validation_split=validation_split):
                m = len(window.rows)
                X = _standardise_into(window.observations, mean, inv_std, X_buf)
                T = T_buf[:m]
                T[:, 0] = window.labels
                Z = Z_buf[:m]
                for start in range(0, m, batch_size):
                    stop = start + batch_size
                    last_batch = (X[start:stop], T[start:stop])  # its rows stay in the buffers until a later batch
                    trainer.step_checked(*last_batch, Z[start:stop])
                total += loss.total(Z, T)
                correct += loss.n_correct(Z, T)
                seen += m
            elapsed = time.perf_counter() - started
            cost = total / seen
            if not math.isfinite(cost):
                # this epoch's batches saw NaN or infinite weights: back to the start of the one before
                np.copyto(theta, last_good if last_good is not None else at_start)
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch + 1}: the cost is {cost}; the network keeps its weights "
                    f"from the start of epoch {epoch if last_good is not None else 1}, the last with a finite cost "
                    f"(try a learning rate below {learning_rate:g})", epoch + 1, history)
            last_good = at_start
            logs = {"cost": cost, "accuracy": correct / seen, "transitions_per_second": seen / elapsed}
            if has_validation:
                logs["val_cost"], logs["val_accuracy"], _ = evaluate_validation(net, log, mean, std, validation_split, seed)
                if not math.isfinite(logs["val_cost"]):  # this epoch's update diverged
                    raise diverged_update(theta, at_start, epoch + 1,
                                          f"the validation cost after its update is {logs['val_cost']}",
                                          learning_rate, history)
            for key, value in logs.items():
                history[key].append(float(value))
            stop = bool(callback(epoch, logs)) if callback is not None else False
            if patience is not None:
                if logs[monitor] < best_value:
                    best_value, since_best = logs[monitor], 0
                    best = (at_start if monitor == "cost" else theta).copy()
                else:
                    since_best += 1
                    stop = stop or since_best >= patience
            if stop:
                break
    if best is not None:
        np.copyto(theta, best)
    # Each minibatch's cost checks the weights before its update: the last update is checked
    # here (the validation pass did it when there is one), on the epoch's last batch.
    if not (np.isfinite(theta).all() if has_validation else finite_after_update(net, *last_batch)):
        raise diverged_update(theta, at_start, epoch + 1, "its last update made the weights or the cost NaN or infinite",
                              learning_rate, history)
    return history, statistics


def log_summary(log: StreamingLog, statistics: LogStatistics) -> dict:
    """The same keys as :meth:`robonet.logs.SensorLog.summary`, without loading the log."""
    episodes = log.n_episodes
    return {
        "logs": str(log.path),
        "env_id": log.env_id,
        "episodes": episodes,
        "steps": log.n_rows,
        # every row belongs to exactly one episode: the mean return is the reward sum / episodes
        "mean_return": statistics.reward_sum / episodes if episodes else 0.0,
        "action_counts": {name: int(c) for name, c in zip(log.action_names, statistics.action_counts)},
        "experts": sorted({c.get("expert", "?") for c in log.manifest.get("collections", [])}),
    }


def rss_anon_bytes(pid: int | str = "self") -> int | None:
    """The process's anonymous resident memory (``RssAnon`` of /proc/PID/status), None off Linux."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None
