"""Seeded batches of episodes on a process pool or a Dask cluster (``--workers N``, ``--dask ADDRESS``).

A run of E episodes starting at episode id F is cut into *tasks* of ``task_episodes`` episodes:
task t runs episode ids ``F + t*B .. F + (t+1)*B - 1``. Episode i is reset with
``episode_seed(seed, i)`` and draws its noise from ``(seed, i)`` (:mod:`robonet.collect`), so a
task's episodes do not depend on which worker, how many envs or which backend ran it.

Backends (same tasks, same results):

* ``workers == 1``, no Dask: the tasks run one after the other in this process;
* ``workers > 1``: a :class:`concurrent.futures.ProcessPoolExecutor` (forkserver start: safe
  next to threads, and cheap after the first worker);
* ``dask``: a Dask distributed scheduler address (``tcp://host:8786``), a ``Client``, or
  ``"local"`` for a LocalCluster of ``workers`` processes. Workers must see the log directory
  at the same path (a shared file system) since each task writes its own shard.

Collection: every task writes its own shard, ``shard-ep<first>-<last>/``, under a temporary
name renamed into place when complete (with ``task.json``: the manifest entry and the task's
settings). The coordinator lists finished shards in the manifest **in episode order**, so the
manifest always describes a complete prefix of the run: a log that loads, whose episodes are
exactly those of an uninterrupted run, whatever finished first.

Faults: a worker that dies mid-task leaves only its temporary directory (ignored, then
removed); the pool is rebuilt and the unfinished tasks are resubmitted (each task at most
``max_attempts`` times); Dask reschedules tasks of a lost worker itself. A run that was
interrupted is continued with ``resume=True`` (``--resume``): the last collection in the
manifest says which episodes were asked for and which are committed; shards that finished but
were not yet listed are adopted after their checksums are verified, the rest is run again. No
episode is ever duplicated.

Testing hook: if the environment variable ``ROBONET_FAULT_ONCE`` names a file that does not
exist, the first collection task to reach the middle of writing its shard creates that file and
kills its own process (``os._exit``), as a crashing worker would.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from robonet.errors import TaskFailed, UserError

DEFAULT_TASK_EPISODES = 10
MAX_ATTEMPTS = 3
# the manifest lists every shard with its checksums: rewriting it after every task would cost
# O(shards^2) bytes on a long run, so committed shards are batched at most once a second.
MANIFEST_INTERVAL = 1.0
TASK_FILE = "task.json"
FAULT_ENV = "ROBONET_FAULT_ONCE"


@dataclass(frozen=True)
class EpisodeTask:
    """One batch of seeded episodes: ``episodes`` episodes from id ``first_episode``.

    ``log_dir`` set: collect (the env's scripted expert drives, the task writes one shard).
    ``model`` set: evaluate the controller file; else evaluate the scripted expert.
    """

    env_id: str
    seed: int
    first_episode: int
    episodes: int
    num_envs: int = 1
    noise: float = 0.0
    expert: str = "scripted"
    log_dir: str | None = None
    model: str | None = None

    @property
    def last_episode(self) -> int:
        return self.first_episode + self.episodes - 1

    @property
    def shard_name(self) -> str:
        return shard_name(self.first_episode, self.last_episode)

    def settings(self) -> dict:
        """What makes the task's episodes what they are (num_envs does not: results are equal)."""
        return {"env_id": self.env_id, "seed": self.seed, "noise": self.noise, "expert": self.expert,
                "first_episode": self.first_episode, "episodes": self.episodes}


def shard_name(first_episode: int, last_episode: int) -> str:
    return f"shard-ep{first_episode:010d}-{last_episode:010d}"


def split_tasks(first_episode: int, episodes: int, task_episodes: int, **fields: Any) -> list[EpisodeTask]:
    """Cut episodes ``first_episode ..`` into tasks of ``task_episodes`` (the last may be shorter)."""
    if task_episodes < 1:
        raise ValueError(f"--task-episodes must be >= 1, got {task_episodes}")
    return [EpisodeTask(first_episode=first_episode + k, episodes=min(task_episodes, episodes - k), **fields)
            for k in range(0, episodes, task_episodes)]


# --------------------------------------------------------------------------------------
# Worker side
# --------------------------------------------------------------------------------------


def _episode_arrays(records: list) -> dict[str, np.ndarray]:
    """Whole episodes (EpisodeResult, EpisodeData), in episode order -> the log's field arrays."""
    from robonet.logs import FIELDS

    parts: dict[str, list[np.ndarray]] = {name: [] for name in FIELDS}
    for result, data in records:
        n = len(data.observations)
        end = np.zeros(n, dtype=bool)
        end[-1] = True
        parts["observations"].append(data.observations)
        parts["actions"].append(data.labels)
        parts["executed_actions"].append(data.executed)
        parts["rewards"].append(data.rewards)
        parts["terminations"].append(end if result.terminated else np.zeros(n, dtype=bool))
        parts["truncations"].append(np.zeros(n, dtype=bool) if result.terminated else end)
        parts["episode_ids"].append(np.full(n, result.episode_id, dtype=np.int64))
    return {name: np.ascontiguousarray(np.concatenate(values), dtype=FIELDS[name][0])
            for name, values in parts.items()}


def _maybe_fail() -> None:
    marker = os.environ.get(FAULT_ENV)
    if marker and not os.path.exists(marker):
        with open(marker, "w", encoding="ascii") as fh:
            fh.write(f"{os.getpid()}\n")
        os._exit(17)


def write_shard(log_dir: str | os.PathLike, name: str, arrays: dict[str, np.ndarray],
                extra: dict | None = None) -> dict:
    """Write ``arrays`` as shard ``name`` of ``log_dir`` atomically; returns its manifest entry.

    The files go to a temporary directory, are fsynced, and the directory is renamed into place;
    ``task.json`` inside holds the entry (and ``extra``) so a finished but unlisted shard can be
    adopted later. If a complete shard of that name already exists it is kept and its entry returned.
    """
    from robonet.logs import FIELDS, _fsync_dir, _sha256

    log_dir = Path(log_dir)
    final = log_dir / name
    tmp = log_dir / f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        checksums = {}
        for index, field_name in enumerate(FIELDS):
            file = tmp / f"{field_name}.npy"
            with open(file, "wb") as fh:
                np.save(fh, np.ascontiguousarray(arrays[field_name], dtype=FIELDS[field_name][0]), allow_pickle=False)
                fh.flush()
                os.fsync(fh.fileno())
            checksums[file.name] = _sha256(file)
            if index == 0:
                _maybe_fail()
        ids = arrays["episode_ids"]
        ends = np.r_[ids[1:] != ids[:-1], True]
        entry = {"name": name, "rows": int(len(ids)), "episodes": int(ends.sum()),
                 "first_episode": int(ids[0]), "last_episode": int(ids[-1]), "sha256": checksums}
        with open(tmp / TASK_FILE, "w", encoding="utf-8") as fh:
            json.dump({"entry": entry, **(extra or {})}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(tmp)
    except BaseException:  # a failed write (a full disk...) leaves nothing behind; a retry starts afresh
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        os.rename(tmp, final)
    except OSError:
        # the same task finished elsewhere first (a retried or duplicated task): keep that one
        shutil.rmtree(tmp, ignore_errors=True)
        existing = adopt_shard(log_dir, name, extra)
        if existing is None:
            raise
        return existing
    _fsync_dir(log_dir)
    return entry


def adopt_shard(log_dir: str | os.PathLike, name: str, extra: dict | None = None) -> dict | None:
    """The entry of a finished shard ``name`` if it is complete, intact and was written by a
    task with the same settings ``extra``; else None."""
    from robonet.logs import _sha256

    path = Path(log_dir) / name
    try:
        record = json.loads((path / TASK_FILE).read_text(encoding="utf-8"))
        entry = record["entry"]
        if any(record.get(key) != value for key, value in (extra or {}).items()):
            return None
        for file_name, digest in entry["sha256"].items():
            if _sha256(path / file_name) != digest:
                return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return entry


def run_collect_task(task: EpisodeTask) -> dict:
    """Collect the task's episodes with the scripted expert into its own shard; returns the entry."""
    from robonet.collect import get_expert, run_episodes

    settings = {"task": task.settings()}
    existing = adopt_shard(task.log_dir, task.shard_name, settings)
    if existing is not None:  # finished by an earlier, interrupted run
        return existing
    stale = Path(task.log_dir) / task.shard_name
    if stale.exists():  # unlisted, and from other settings or damaged: not part of any log
        trash = stale.with_name(f".{stale.name}.tmp-stale-{uuid.uuid4().hex[:8]}")
        os.rename(stale, trash)
        shutil.rmtree(trash, ignore_errors=True)
    records: list = []
    run_episodes(task.env_id, get_expert(task.env_id, task.expert), task.episodes, task.seed,
                 first_episode=task.first_episode, num_envs=task.num_envs, noise=task.noise, record=True,
                 on_episode=lambda result, data: records.append((result, data)), desc=f"task {task.first_episode}")
    records.sort(key=lambda record: record[0].episode_id)
    return write_shard(task.log_dir, task.shard_name, _episode_arrays(records), settings)


_POLICIES: dict[tuple, Any] = {}


def _task_policy(task: EpisodeTask):
    """The task's policy, loaded once per worker process (controller files are small)."""
    if task.model is None:
        from robonet.collect import get_expert

        return get_expert(task.env_id, task.expert)
    stat = os.stat(task.model)
    key = (os.path.abspath(task.model), stat.st_mtime_ns, stat.st_size)
    if key not in _POLICIES:
        from robonet.controller import load_controller

        _POLICIES.clear()
        _POLICIES[key] = load_controller(task.model)
    return _POLICIES[key]


def run_evaluate_task(task: EpisodeTask) -> list[dict]:
    """Run the task's episodes with its policy; returns one result dict per episode, in order."""
    from robonet.collect import run_episodes

    results = run_episodes(task.env_id, _task_policy(task), task.episodes, task.seed,
                           first_episode=task.first_episode, num_envs=task.num_envs,
                           desc=f"task {task.first_episode}")
    return [asdict(result) for result in results]


# --------------------------------------------------------------------------------------
# Coordinator side: backends
# --------------------------------------------------------------------------------------



def _pool_context():
    """forkserver: forking this process directly is unsafe once it has threads (tqdm's monitor,
    a Dask client), and the server's preloaded imports make each new worker start warm."""
    import multiprocessing as mp

    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["numpy", "gymnasium", "robonet.parallel", "robonet.collect", "robonet.envs"])
        return ctx
    return mp.get_context("spawn")  # pragma: no cover - Windows, macOS without forkserver


def _init_worker(fault_marker: str | None, coordinator: int | None = None) -> None:
    # forkserver workers inherit the environment of the server's start, not of this pool's
    os.environ["ROBONET_NO_PROGRESS"] = "1"  # one progress bar (the coordinator's), not one per task
    if fault_marker:
        os.environ[FAULT_ENV] = fault_marker
    else:
        os.environ.pop(FAULT_ENV, None)
    if coordinator is not None:
        _exit_with(coordinator)


def _exit_with(pid: int) -> None:
    """End this worker when process ``pid`` (the coordinator) ends, however it ends.

    A coordinator killed with SIGKILL cannot shut its pool down, and the workers (children of
    the forkserver, not of the coordinator) would wait for work forever. A daemon thread waits
    on a pidfd of the coordinator (or polls it where pidfds are missing) and ends the process;
    a shard being written is left as a temporary directory, which the next run removes.
    """
    import threading

    def watch() -> None:
        try:
            import select

            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            select.select([fd], [], [])  # readable once the process has ended
        else:  # pragma: no cover - kernels without pidfd_open
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
                time.sleep(1.0)
        os._exit(70)

    threading.Thread(target=watch, name="robonet-coordinator-watch", daemon=True).start()


def _describe_task(task: Any) -> str:
    if isinstance(task, EpisodeTask):
        return f"the task of episodes {task.first_episode}-{task.last_episode} ({task.env_id})"
    return f"task {task!r}"


def _run_local(fn: Callable, tasks: Sequence, on_result: Callable[[int, Any], None]) -> None:
    for index, task in enumerate(tasks):
        on_result(index, fn(task))


def _run_pool(fn: Callable, tasks: Sequence, on_result: Callable[[int, Any], None], workers: int,
              max_attempts: int) -> dict:
    """Run ``tasks`` on a process pool, rebuilt after a worker death; returns counters.

    At most ``workers`` tasks are in flight, so when a worker dies (the whole pool breaks:
    every unfinished future fails) only those tasks are charged an attempt, and queued tasks
    are never blamed for someone else's crash.
    """
    from collections import deque
    from concurrent.futures.process import BrokenProcessPool

    attempts = [0] * len(tasks)
    todo = deque(range(len(tasks)))
    stats = {"pool_restarts": 0, "retries": 0}
    ctx = _pool_context()
    while todo:
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                      initargs=(os.environ.get(FAULT_ENV), os.getpid()))
        broken = False
        try:
            futures: dict[cf.Future, int] = {}
            while (todo or futures) and not broken:
                while todo and len(futures) < workers:
                    index = todo.popleft()
                    futures[pool.submit(fn, tasks[index])] = index
                done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
                if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    broken = True  # every other in-flight future fails too: settle them all now
                    done = set(futures)
                failed = []
                for future in sorted(done, key=futures.get):
                    index = futures.pop(future)
                    error = future.exception()
                    if error is None:
                        on_result(index, future.result())
                        continue
                    attempts[index] += 1
                    if attempts[index] >= max_attempts:
                        raise TaskFailed(f"{_describe_task(tasks[index])} failed {attempts[index]} times; "
                                         f"last error: {error!r}") from error
                    stats["retries"] += 1
                    failed.append(index)
                todo.extendleft(reversed(failed))  # retried first, in episode order
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if broken:
            stats["pool_restarts"] += 1
    return stats


def _dask_client(address: Any, workers: int):
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the install
        raise UserError("--dask needs Dask distributed: pip install 'robonet[dask]'") from None
    if not isinstance(address, str):
        return address, None  # a Client given by the caller
    if address == "local":
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(address, timeout="10s"), None
    except (OSError, TimeoutError) as exc:
        raise UserError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def _run_dask(fn: Callable, tasks: Sequence, on_result: Callable[[int, Any], None], address: Any, workers: int,
              max_attempts: int) -> dict:
    from distributed import as_completed

    client, cluster = _dask_client(address, workers)
    owned = client is not address
    try:
        # pure=False: every submission is a new task (re-running a command re-runs its tasks);
        # retries covers exceptions, the scheduler reschedules tasks of a worker that dies.
        futures = {client.submit(fn, task, pure=False, retries=max_attempts - 1): i for i, task in enumerate(tasks)}
        for future in as_completed(list(futures)):
            index = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001
                raise TaskFailed(f"{_describe_task(tasks[index])} failed on Dask: {exc!r}") from exc
            on_result(index, result)
            future.release()
    finally:
        if owned:
            client.close()
        if cluster is not None:
            cluster.close()
    return {"pool_restarts": 0, "retries": 0}


def run_tasks(fn: Callable, tasks: Sequence, on_result: Callable[[int, Any], None], *, workers: int = 1,
              dask: Any = None, max_attempts: int = MAX_ATTEMPTS) -> dict:
    """Run ``fn(task)`` for every task on the chosen backend; ``on_result(index, result)`` is
    called in this process as results arrive (in any order). Returns counters (retries...)."""
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if dask is not None:
        return _run_dask(fn, tasks, on_result, dask, workers, max_attempts)
    if workers == 1 or len(tasks) <= 1:
        _run_local(fn, tasks, on_result)
        return {"pool_restarts": 0, "retries": 0}
    return _run_pool(fn, tasks, on_result, min(workers, len(tasks)), max_attempts)


def backend_name(workers: int, dask: Any) -> str:
    if dask is not None:
        return "dask" if not isinstance(dask, str) else f"dask:{dask}"
    return "local" if workers == 1 else f"pool:{workers}"


# --------------------------------------------------------------------------------------
# Collect and evaluate
# --------------------------------------------------------------------------------------


def _new_manifest(env_id: str) -> dict:
    from robonet import __version__
    from robonet.logs import FORMAT_NAME, FORMAT_VERSION, _describe, _env_version, _now

    description = _describe(env_id)
    names = list(description["observation_names"])
    return {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "robonet_version": __version__,
        "env_id": env_id, "env_version": _env_version(env_id), "observation_size": len(names),
        "observation_names": names, "action_names": list(description["action_names"]),
        "created": _now(), "updated": _now(), "counts": {"episodes": 0, "steps": 0},
        "collections": [], "shards": [],
    }


def _same_run(collection: dict, env_id: str, expert: str, seed: int, noise: float, episodes: int) -> bool:
    return (collection.get("expert") == expert and collection.get("seed") == seed
            and float(collection.get("noise", 0.0)) == float(noise)
            and collection.get("requested_episodes") == episodes)


def _clean_temporaries(log_dir: Path) -> None:
    """Remove temporary shard directories that died with their worker (never listed anywhere)."""
    for path in log_dir.glob(".shard-ep*.tmp-*"):
        shutil.rmtree(path, ignore_errors=True)


def collect_parallel(
    env_id: str,
    out: str | os.PathLike,
    episodes: int,
    *,
    expert: str = "scripted",
    seed: int = 0,
    num_envs: int = 1,
    noise: float = 0.0,
    append: bool = False,
    resume: bool = False,
    workers: int = 1,
    dask: Any = None,
    task_episodes: int = DEFAULT_TASK_EPISODES,
    max_attempts: int = MAX_ATTEMPTS,
) -> dict:
    """Collect ``episodes`` scripted-expert episodes into the log ``out`` in seeded tasks.

    ``resume``: continue the interrupted run recorded last in ``out`` (same env, expert, seed,
    noise and episodes); nothing is collected twice. Returns the summary dict of
    :func:`robonet.collect.collect` plus "tasks", "retries", "pool_restarts", "backend".
    """
    from robonet.collect import check_collect_options
    from robonet.logs import MANIFEST, _now, _write_json_atomic, read_manifest

    check_collect_options(episodes, seed, num_envs, noise)
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if expert != "scripted":
        raise ValueError("--workers, --dask and --resume run the scripted expert (a human drives one window)")
    out = Path(out).absolute()
    if (out / MANIFEST).exists():
        manifest = read_manifest(out)
        if manifest["env_id"] != env_id:
            raise UserError(f"cannot add {env_id} episodes to {out}: it holds {manifest['env_id']} episodes")
        if not (append or resume):
            raise UserError(f"{out} already holds a sensor log; pass --append to add episodes to it, --resume to "
                            "finish an interrupted collect, or choose another --out directory")
    else:
        # shards of tasks that finished before the first manifest write are ours (adopted or replaced)
        if out.exists() and (not out.is_dir() or any(not p.name.lstrip(".").startswith("shard-ep")
                                                     for p in out.iterdir())):
            raise UserError(f"{out} exists and is not a sensor log; choose an empty or new directory")
        out.mkdir(parents=True, exist_ok=True)
        manifest = _new_manifest(env_id)
    _clean_temporaries(out)

    collections = manifest.setdefault("collections", [])
    last = collections[-1] if collections else None
    if resume and last is not None and _same_run(last, env_id, expert, seed, noise, episodes):
        collection = last
        task_episodes = int(collection.get("task_episodes", task_episodes))
        collection.setdefault("resumed", []).append(_now())
    elif resume and last is not None:
        asked = last.get("requested_episodes")
        ran = f"{asked} episodes" if asked is not None else f"an unrecorded number of episodes ({last.get('episodes')} logged)"
        raise UserError(
            f"--resume: the last collect recorded in {out} is not this one (it ran {ran} "
            f"of expert {last.get('expert')!r} with seed {last.get('seed')} and noise {last.get('noise')}); "
            "repeat the interrupted command exactly, or use --append to add a new run")
    else:
        next_id = int(manifest["shards"][-1]["last_episode"]) + 1 if manifest["shards"] else 0
        collection = {"expert": expert, "policy": "expert", "seed": seed, "noise": noise, "num_envs": num_envs,
                      "first_episode": next_id, "episodes": 0, "requested_episodes": episodes,
                      "task_episodes": task_episodes, "backend": backend_name(workers, dask), "started": _now()}
        collections.append(collection)
    start = int(collection["first_episode"]) + int(collection["episodes"])
    end = int(collection["first_episode"]) + episodes
    tasks = split_tasks(start, end - start, task_episodes, env_id=env_id, seed=seed, num_envs=num_envs,
                        noise=noise, expert=expert, log_dir=str(out)) if end > start else []

    from robonet.progress import progress

    entries: dict[int, dict] = {}
    state = {"next": 0, "written": time.monotonic(), "dirty": False, "rows": 0}
    bar = progress(len(tasks), desc=f"collect {env_id}", unit="task")

    def commit(force: bool = False) -> None:
        while state["next"] in entries:
            entry = entries.pop(state["next"])
            manifest["shards"].append(entry)
            manifest["counts"]["episodes"] += entry["episodes"]
            manifest["counts"]["steps"] += entry["rows"]
            collection["episodes"] += entry["episodes"]
            state["rows"] += entry["rows"]
            state["next"] += 1
            state["dirty"] = True
        if state["dirty"] and (force or time.monotonic() - state["written"] >= MANIFEST_INTERVAL):
            manifest["updated"] = _now()
            _write_json_atomic(out / MANIFEST, manifest)
            state["written"], state["dirty"] = time.monotonic(), False

    def on_result(index: int, entry: dict) -> None:
        bar.update(1)
        entries[index] = entry
        commit()

    counters = {"pool_restarts": 0, "retries": 0}
    try:
        if tasks:
            counters = run_tasks(run_collect_task, tasks, on_result, workers=workers, dask=dask,
                                 max_attempts=max_attempts)
    except TaskFailed as exc:
        raise TaskFailed(f"{exc}; the log keeps every episode before it: fix the cause and run the same "
                         "command with --resume") from exc
    finally:
        bar.close()
        commit(force=True)  # also on Ctrl-C or a failed task: keep the finished prefix
        _clean_temporaries(out)
    return {
        "logs": str(out), "env": env_id, "episodes": end - start, "steps": int(state["rows"]),
        "total_episodes": manifest["counts"]["episodes"], "tasks": len(tasks),
        "backend": backend_name(workers, dask), **counters,
    }


def evaluate_parallel(env_id: str, policy_model: str | None, episodes: int, seed: int, *, num_envs: int = 1,
                      workers: int = 1, dask: Any = None, task_episodes: int = DEFAULT_TASK_EPISODES,
                      max_attempts: int = MAX_ATTEMPTS) -> list:
    """Episode results (robonet.collect.EpisodeResult) of ``episodes`` seeded episodes, in order."""
    from robonet.collect import EpisodeResult, check_collect_options

    check_collect_options(episodes, seed, num_envs)
    model = None if policy_model is None else str(Path(policy_model).absolute())
    tasks = split_tasks(0, episodes, task_episodes, env_id=env_id, seed=seed, num_envs=num_envs, model=model)
    results: list = []
    run_tasks(run_evaluate_task, tasks, lambda index, rows: results.extend(rows), workers=workers, dask=dask,
              max_attempts=max_attempts)
    results.sort(key=lambda row: row["episode_id"])
    return [EpisodeResult(**row) for row in results]
