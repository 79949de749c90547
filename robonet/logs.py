"""Sensor logs: what the expert saw and did, on disk, safe to interrupt and to load.

A sensor log is a directory::

    LOG/
      manifest.json              format + version, env, sensor and action names, counts, shards
      shard-000000/              one directory per flushed batch of whole episodes
        observations.npy         float32 (N, obs_dim)  observation the action was taken in
        actions.npy              int64   (N,)          the expert's label for that observation
        executed_actions.npy     int64   (N,)          the action actually executed (noise, DAgger)
        rewards.npy              float32 (N,)          reward received after the action
        terminations.npy         bool    (N,)          the episode ended in a terminal state
        truncations.npy          bool    (N,)          the episode was cut (time limit)
        episode_ids.npy          int64   (N,)          episode index, contiguous and increasing
      shard-000001/ ...

Field meanings follow Minari (``observations`` here holds the N observations in which the N
actions were taken; the final observation of an episode is not stored: behaviour cloning
never needs it). Every file is a plain ``.npy`` so :func:`load_logs` can memory-map it.

Crash safety: a shard is written under a temporary name and renamed into place only once all
its files are complete, then ``manifest.json`` is replaced atomically (write + ``os.replace``).
The manifest is the source of truth: a shard directory it does not list is ignored, so a
collect killed at any instant leaves a log that loads with every episode flushed before the
kill and nothing half-written.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from robonet.errors import DataError, UserError, load_failure

FORMAT_NAME = "robonet-sensor-log"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

# name -> (dtype written, allowed dtype kinds when reading, 2-D?)
FIELDS: dict[str, tuple[np.dtype, str, bool]] = {
    "observations": (np.dtype(np.float32), "f", True),
    "actions": (np.dtype(np.int64), "iu", False),
    "executed_actions": (np.dtype(np.int64), "iu", False),
    "rewards": (np.dtype(np.float32), "f", False),
    "terminations": (np.dtype(np.bool_), "b", False),
    "truncations": (np.dtype(np.bool_), "b", False),
    "episode_ids": (np.dtype(np.int64), "iu", False),
}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def read_manifest(log_dir: str | os.PathLike) -> dict:
    """Read and validate ``LOG/manifest.json``; raises :class:`DataError` naming the file."""
    log_dir = Path(log_dir)
    path = log_dir / MANIFEST
    if not log_dir.exists():
        raise UserError(f"sensor log {log_dir} does not exist")
    if not log_dir.is_dir():
        raise DataError(f"{log_dir} is not a sensor-log directory (expected a directory with {MANIFEST})")
    if not path.exists():
        raise DataError(f"{log_dir} is not a sensor log: {MANIFEST} is missing")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise DataError(f"{path}: not a robonet sensor log (format is {manifest.get('format') if isinstance(manifest, dict) else None!r}, expected {FORMAT_NAME!r})")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise DataError(f"{path}: format_version {version!r} is not supported (this robonet reads version {FORMAT_VERSION})")
    required = {"env_id": str, "observation_size": int, "observation_names": list,
                "action_names": list, "shards": list, "counts": dict}
    for key, kind in required.items():
        if not isinstance(manifest.get(key), kind):
            raise DataError(f"{path}: field {key!r} is missing or not a {kind.__name__}")
    if len(manifest["observation_names"]) != manifest["observation_size"]:
        raise DataError(f"{path}: {len(manifest['observation_names'])} observation_names for observation_size {manifest['observation_size']}")
    return manifest


@dataclass
class Shard:
    """One shard's arrays (memory-mapped, read-only) and its manifest entry."""

    path: Path
    entry: dict
    arrays: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(self.arrays["actions"].shape[0])

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(name)


def load_array(path: Path, name: str, n_rows: int, obs_size: int) -> np.ndarray:
    """One field file of a shard, memory-mapped read-only, checked against the manifest's rows."""
    if not path.exists():
        raise DataError(f"{path}: missing file of the sensor log")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy array ({load_failure(exc)})") from None
    _, kinds, two_d = FIELDS[name]
    if array.dtype.kind not in kinds:
        raise DataError(f"{path}: dtype {array.dtype} is wrong for {name} (expected kind {kinds!r})")
    expected = (n_rows, obs_size) if two_d else (n_rows,)
    if array.shape != expected:
        raise DataError(f"{path}: shape {array.shape} does not match the manifest (expected {expected})")
    return array


def _validate_shard(shard: Shard, n_actions: int) -> None:
    a = shard.arrays
    where = shard.path
    for name in ("observations", "rewards"):
        if not np.isfinite(a[name]).all():
            bad = int(np.flatnonzero(~np.isfinite(a[name]).reshape(len(shard), -1).all(axis=1))[0])
            raise DataError(f"{where / (name + '.npy')}: contains NaN or inf (first at row {bad})")
    for name in ("actions", "executed_actions"):
        values = a[name]
        if len(values) and (values.min() < 0 or values.max() >= n_actions):
            raise DataError(f"{where / (name + '.npy')}: actions outside 0..{n_actions - 1}")
    ids = np.asarray(a["episode_ids"])
    if len(ids) == 0:
        raise DataError(f"{where}: empty shard")
    if np.any(np.diff(ids) < 0):
        raise DataError(f"{where / 'episode_ids.npy'}: episode ids are not in increasing order")
    done = np.asarray(a["terminations"]) | np.asarray(a["truncations"])
    last = np.r_[ids[1:] != ids[:-1], True]  # last row of each episode
    if not np.array_equal(done, last):
        row = int(np.flatnonzero(done != last)[0])
        raise DataError(
            f"{where}: episode boundaries are inconsistent at row {row} (every episode must end with "
            "exactly one terminations/truncations flag on its last row)")
    entry = shard.entry
    episodes = int(last.sum())
    if entry.get("episodes") != episodes:
        raise DataError(f"{where}: holds {episodes} episodes, the manifest says {entry.get('episodes')}")
    if entry.get("first_episode") != int(ids[0]):
        raise DataError(f"{where}: first episode id {int(ids[0])}, the manifest says {entry.get('first_episode')}")


def iter_shards(log_dir: str | os.PathLike, *, verify: bool = True) -> Iterator[Shard]:
    """Yield the log's shards in order, each validated, its arrays memory-mapped.

    ``verify`` also checks every file's SHA-256 against the manifest (reads each file once).
    This is the streaming entry point: a reader that cannot hold the whole log in memory
    walks the shards one by one.
    """
    log_dir = Path(log_dir)
    manifest = read_manifest(log_dir)
    obs_size = manifest["observation_size"]
    n_actions = len(manifest["action_names"])
    next_episode = None
    for index, entry in enumerate(manifest["shards"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not isinstance(entry.get("rows"), int):
            raise DataError(f"{log_dir / MANIFEST}: shard entry {index} is malformed")
        path = log_dir / entry["name"]
        if not path.is_dir():
            raise DataError(f"{path}: shard listed in the manifest is missing")
        arrays = {}
        checksums = entry.get("sha256", {})
        for name in FIELDS:
            file = path / f"{name}.npy"
            arrays[name] = load_array(file, name, entry["rows"], obs_size)
            if verify:
                expected = checksums.get(file.name)
                if expected is None:
                    raise DataError(f"{log_dir / MANIFEST}: no checksum for {file}")
                if _sha256(file) != expected:
                    raise DataError(f"{file}: checksum mismatch (the file was modified or corrupted)")
        shard = Shard(path, entry, arrays)
        _validate_shard(shard, n_actions)
        first = int(shard.arrays["episode_ids"][0])
        if next_episode is not None and first < next_episode:
            raise DataError(f"{path}: episode ids overlap the previous shard (starts at {first}, expected >= {next_episode})")
        next_episode = int(shard.arrays["episode_ids"][-1]) + 1
        yield shard


@dataclass
class SensorLog:
    """A whole sensor log in memory (or memory-mapped when it has a single shard).

    Arrays: ``observations`` (N, obs_dim) float32, ``actions`` (N,) int, ``executed_actions``,
    ``rewards``, ``terminations``, ``truncations``, ``episode_ids``; ``manifest`` is the parsed
    manifest.json.
    """

    path: Path
    manifest: dict
    observations: np.ndarray
    actions: np.ndarray
    executed_actions: np.ndarray
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    episode_ids: np.ndarray
    shards: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.actions.shape[0])

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
    def n_episodes(self) -> int:
        return int(self.manifest["counts"]["episodes"])

    def episode_returns(self) -> np.ndarray:
        """Sum of rewards per episode, in episode order."""
        _, start = np.unique(self.episode_ids, return_index=True)
        return np.add.reduceat(np.asarray(self.rewards, dtype=np.float64), np.sort(start))

    def summary(self) -> dict:
        """Counts and per-episode return statistics, JSON-ready."""
        returns = self.episode_returns() if len(self) else np.zeros(0)
        counts = np.bincount(np.asarray(self.actions), minlength=len(self.action_names))
        return {
            "logs": str(self.path),
            "env_id": self.env_id,
            "episodes": int(len(returns)),
            "steps": len(self),
            "mean_return": float(returns.mean()) if len(returns) else 0.0,
            "action_counts": {name: int(c) for name, c in zip(self.action_names, counts)},
            "experts": sorted({c.get("expert", "?") for c in self.manifest.get("collections", [])}),
        }


def load_logs(log_dir: str | os.PathLike, *, verify: bool = True) -> SensorLog:
    """Load and validate a sensor log; names the file at fault on any inconsistency.

    Single-shard logs come back memory-mapped (read-only); several shards are concatenated.
    Raises :class:`robonet.errors.DataError` for a corrupt, truncated or inconsistent log.
    """
    log_dir = Path(log_dir)
    manifest = read_manifest(log_dir)
    entries = manifest["shards"]
    if not entries:
        raise DataError(f"{log_dir}: the sensor log holds no episodes yet")
    if len(entries) == 1:
        shard = next(iter_shards(log_dir, verify=verify))
        arrays, rows, episodes = shard.arrays, len(shard), shard.entry["episodes"]
    else:
        # Copied shard by shard into arrays sized from the manifest (iter_shards checks every
        # shard's rows against it): one shard is mapped at a time, whatever their number.
        total = sum(entry["rows"] for entry in entries if isinstance(entry, dict) and isinstance(entry.get("rows"), int))
        obs_size = manifest["observation_size"]
        arrays = {name: np.empty((total, obs_size) if two_d else (total,), dtype=dtype)
                  for name, (dtype, _, two_d) in FIELDS.items()}
        rows = episodes = 0
        for shard in iter_shards(log_dir, verify=verify):
            for name in FIELDS:
                arrays[name][rows:rows + len(shard)] = shard.arrays[name]
            rows += len(shard)
            episodes += shard.entry["episodes"]
    counts = manifest["counts"]
    if counts.get("steps") != rows or counts.get("episodes") != episodes:
        raise DataError(
            f"{log_dir / MANIFEST}: counts say {counts.get('episodes')} episodes / {counts.get('steps')} steps, "
            f"the shards hold {episodes} / {rows}")
    return SensorLog(path=log_dir, manifest=manifest, shards=[e["name"] for e in entries], **arrays)


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def _describe(env_id: str) -> dict:
    """Observation and action names of ``env_id`` (robonet.envs.describe, generic if absent)."""
    import robonet.envs

    describe = getattr(robonet.envs, "describe", None)
    if describe is not None:
        return describe(env_id)
    from robonet.collect import make_env  # pragma: no cover - only before robonet.envs.describe exists

    env = make_env(env_id)
    try:
        size = int(np.prod(env.observation_space.shape))
        return {"observation_names": [f"obs_{i}" for i in range(size)],
                "action_names": [f"action_{i}" for i in range(int(env.action_space.n))]}
    finally:
        env.close()


def _env_version(env_id: str) -> int | None:
    import gymnasium as gym

    try:
        return gym.spec(env_id).version
    except Exception:  # noqa: BLE001 - unknown env: the version is simply unknown
        return None


class LogWriter:
    """Append whole episodes to a sensor log, flushing shards atomically.

    Rule for existing logs: a directory that already holds a sensor log is refused unless
    ``append=True``; appending requires the same env id and observation size, and episode ids
    continue after the last one stored. A non-empty directory that is not a sensor log is always
    refused. Nothing is ever overwritten.

    Episodes are buffered and flushed as a new shard every ``flush_episodes`` episodes or
    ``flush_seconds`` seconds, whichever comes first, and on :meth:`close` (also on an
    exception inside a ``with`` block, so Ctrl-C keeps every finished episode).
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        env_id: str,
        *,
        append: bool = False,
        collection: dict | None = None,
        flush_episodes: int = 10,
        flush_seconds: float = 2.0,
    ) -> None:
        self.path = Path(log_dir)
        self.flush_episodes = int(flush_episodes)
        self.flush_seconds = float(flush_seconds)
        description = _describe(env_id)
        obs_names = list(description["observation_names"])
        action_names = list(description["action_names"])
        manifest_path = self.path / MANIFEST
        if manifest_path.exists():
            if not append:
                raise UserError(
                    f"{self.path} already holds a sensor log; pass --append to add episodes to it "
                    "or choose another --out directory")
            manifest = read_manifest(self.path)
            if manifest["env_id"] != env_id:
                raise UserError(f"cannot append {env_id} episodes to {self.path}: it holds {manifest['env_id']} episodes")
            if manifest["observation_size"] != len(obs_names):
                raise UserError(
                    f"cannot append to {self.path}: it holds observations of size {manifest['observation_size']}, "
                    f"{env_id} gives {len(obs_names)}")
        else:
            if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
                raise UserError(f"{self.path} exists and is not a sensor log; choose an empty or new directory")
            self.path.mkdir(parents=True, exist_ok=True)
            from robonet import __version__

            manifest = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "robonet_version": __version__,
                "env_id": env_id,
                "env_version": _env_version(env_id),
                "observation_size": len(obs_names),
                "observation_names": obs_names,
                "action_names": action_names,
                "created": _now(),
                "updated": _now(),
                "counts": {"episodes": 0, "steps": 0},
                "collections": [],
                "shards": [],
            }
            # The manifest is first written with the first shard: a collect that fails before
            # finishing an episode leaves no log behind to refuse the next attempt.
        self.manifest = manifest
        self.obs_size = manifest["observation_size"]
        self.next_episode_id = self._next_episode_id()
        self._collection = dict(collection or {})
        self._collection.update(first_episode=self.next_episode_id, episodes=0, started=_now())
        manifest.setdefault("collections", []).append(self._collection)
        self._pending: list[dict[str, np.ndarray]] = []
        self._last_flush = time.monotonic()

    def _next_episode_id(self) -> int:
        shards = self.manifest["shards"]
        if not shards:
            return 0
        return int(shards[-1]["last_episode"]) + 1

    def new_episode_id(self) -> int:
        """Reserve the next episode id (ids are dense and increasing)."""
        episode_id = self.next_episode_id
        self.next_episode_id += 1
        return episode_id

    def add_episode(
        self,
        episode_id: int,
        observations: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        terminated: bool,
        executed_actions: np.ndarray | None = None,
    ) -> None:
        """Queue one finished episode of T steps: observations (T, obs_dim), actions (T,),
        rewards (T,); ``terminated`` False means truncated (time limit or a stop)."""
        obs = np.asarray(observations, dtype=np.float32)
        n = len(obs)
        if n == 0:
            return
        if obs.shape != (n, self.obs_size):
            raise ValueError(f"episode {episode_id}: observations shape {obs.shape}, expected ({n}, {self.obs_size})")
        actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        executed = actions if executed_actions is None else np.asarray(executed_actions, dtype=np.int64).reshape(-1)
        rewards = np.asarray(rewards, dtype=np.float32).reshape(-1)
        if not (len(actions) == len(executed) == len(rewards) == n):
            raise ValueError(f"episode {episode_id}: {n} observations but {len(actions)} actions and {len(rewards)} rewards")
        terminations = np.zeros(n, dtype=bool)
        truncations = np.zeros(n, dtype=bool)
        (terminations if terminated else truncations)[-1] = True
        self._pending.append({
            "observations": obs, "actions": actions, "executed_actions": executed, "rewards": rewards,
            "terminations": terminations, "truncations": truncations,
            "episode_ids": np.full(n, episode_id, dtype=np.int64),
        })
        if (len(self._pending) >= self.flush_episodes
                or time.monotonic() - self._last_flush >= self.flush_seconds):
            self.flush()

    def flush(self) -> None:
        """Write the queued episodes as one new shard (atomically), then update the manifest."""
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        pending = sorted(self._pending, key=lambda ep: int(ep["episode_ids"][0]))
        arrays = {name: np.concatenate([ep[name] for ep in pending]) for name in FIELDS}
        index = len(self.manifest["shards"])
        # A shard renamed into place just before a kill, but never listed in the manifest, is
        # not part of the log; it is left alone (never overwritten) and the next name is used.
        while (self.path / f"shard-{index:06d}").exists():
            index += 1
        name = f"shard-{index:06d}"
        final = self.path / name
        tmp = self.path / f".{name}.tmp-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        checksums = {}
        for field_name, array in arrays.items():
            file = tmp / f"{field_name}.npy"
            with open(file, "wb") as fh:
                np.save(fh, np.ascontiguousarray(array, dtype=FIELDS[field_name][0]), allow_pickle=False)
                fh.flush()
                os.fsync(fh.fileno())
            checksums[file.name] = _sha256(file)
        _fsync_dir(tmp)
        os.rename(tmp, final)
        _fsync_dir(self.path)
        rows = len(arrays["actions"])
        episodes = len(pending)
        entry = {
            "name": name, "rows": rows, "episodes": episodes,
            "first_episode": int(arrays["episode_ids"][0]), "last_episode": int(arrays["episode_ids"][-1]),
            "sha256": checksums,
        }
        self.manifest["shards"].append(entry)
        self.manifest["counts"]["episodes"] += episodes
        self.manifest["counts"]["steps"] += rows
        self._collection["episodes"] += episodes
        self.manifest["updated"] = _now()
        _write_json_atomic(self.path / MANIFEST, self.manifest)
        self._pending = []

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> "LogWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        # On an exception (Ctrl-C included) keep every finished episode: only whole episodes are queued.
        self.close()
