"""Big sensor logs: out-of-core training memory and speed, parallel collection speed-up.

``python -m bench.bigdata [--rows 1e8] [--quick] [--dir DIR] [--keep]``

1. **Collection speed-up.** The scripted expert drives the vector robot
   (``robonet collect --workers N --num-envs 8``) for the same seeded episodes with 1 and with
   2 worker processes; the two logs must be identical. The 1-worker log is the *base log*.
2. **A robot-shaped big log.** ``--rows`` transitions (default 1e8, ~6.6 GB) written as shards of
   1,000 episodes x 1,000 steps: observations are the base log's real robot observations,
   episode by episode, jittered (N(0, 0.02), clipped to the sensors' ranges) so that rows are not
   copies; labels are the scripted expert's decisions on the jittered observations; rewards
   are copied from the base log. Only the base log comes from simulation: simulating 1e8 steps
   would take hours on 2 cores.
3. **One streamed epoch** (``robonet train --stream --epochs 1``) in a subprocess; this process
   polls the child's ``RssAnon`` (/proc/PID/status) every 20 ms and reports its peak, beside
   the peak of the same command on the small base log (memory must not grow with the log).

Results go to ``bench/out/bigdata.json`` (and stdout). The big log is deleted at the end unless
``--keep``.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ENV_ID = "robonet/ObstacleAvoidance-v0"
EPISODE_STEPS = 1000
SHARD_EPISODES = 1000
OUT = Path(__file__).resolve().parent / "out"


def clean_env() -> dict:
    """The child environment: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed (this command only)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["ROBONET_NO_PROGRESS"] = "1"
    return env


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed (pip install '.[bench]')"}]
    return [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads")} for d in threadpool_info()]


# --------------------------------------------------------------------------------------
# 1. collection speed-up
# --------------------------------------------------------------------------------------


def timed_collect(out: Path, episodes: int, workers: int, num_envs: int, task_episodes: int) -> float:
    cmd = [sys.executable, "-m", "robonet", "collect", "--env", ENV_ID, "--episodes", str(episodes),
           "--out", str(out), "--seed", "0", "--num-envs", str(num_envs), "--workers", str(workers),
           "--task-episodes", str(task_episodes)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=clean_env(), stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def collection_speedup(root: Path, episodes: int, num_envs: int, task_episodes: int) -> dict:
    from robonet.logs import load_logs

    times = {}
    for workers in (1, 2):
        out = root / f"base-w{workers}"
        shutil.rmtree(out, ignore_errors=True)
        times[workers] = timed_collect(out, episodes, workers, num_envs, task_episodes)
    a, b = load_logs(root / "base-w1"), load_logs(root / "base-w2")
    identical = all(np.array_equal(getattr(a, f), getattr(b, f))
                    for f in ("observations", "actions", "rewards", "episode_ids", "truncations"))
    steps = len(a)
    return {
        "episodes": episodes, "steps": steps, "num_envs": num_envs, "task_episodes": task_episodes,
        "seconds_1_worker": round(times[1], 2), "seconds_2_workers": round(times[2], 2),
        "steps_per_second_1_worker": round(steps / times[1]), "steps_per_second_2_workers": round(steps / times[2]),
        "speedup_2_workers": round(times[1] / times[2], 2), "identical_logs": bool(identical),
        "note": "wall time of the whole `robonet collect` command (process start and pool start-up included)",
    }


# --------------------------------------------------------------------------------------
# 2. the big log
# --------------------------------------------------------------------------------------


def _write_big_shard(job: tuple) -> dict:
    """Shard ``index``: SHARD_EPISODES jittered base episodes, labelled by the expert."""
    from robonet.collect import get_expert
    from robonet.logs import load_logs
    from robonet.parallel import shard_name, write_shard

    log_dir, base_dir, index, episodes, seed = job
    base = load_logs(base_dir, verify=False)
    base_obs = np.asarray(base.observations).reshape(-1, EPISODE_STEPS, base.observations.shape[1])
    base_rewards = np.asarray(base.rewards).reshape(-1, EPISODE_STEPS)
    rng = np.random.default_rng([seed, index])
    pick = rng.integers(len(base_obs), size=episodes)
    obs = base_obs[pick].reshape(-1, base_obs.shape[2])
    obs += rng.normal(0.0, 0.02, size=obs.shape).astype(np.float32)
    k = obs.shape[1] - 2
    np.clip(obs[:, :k], 0.0, 1.0, out=obs[:, :k])       # ranges are fractions of the sensor reach
    np.clip(obs[:, k:], -1.0, 1.0, out=obs[:, k:])      # goal bearing as sin, cos
    labels = get_expert(ENV_ID).batch(obs)
    n = len(obs)
    first = index * SHARD_EPISODES
    ends = np.zeros(n, dtype=bool)
    ends[EPISODE_STEPS - 1::EPISODE_STEPS] = True
    arrays = {
        "observations": obs, "actions": labels, "executed_actions": labels,
        "rewards": base_rewards[pick].reshape(-1), "terminations": np.zeros(n, dtype=bool), "truncations": ends,
        "episode_ids": first + np.repeat(np.arange(episodes, dtype=np.int64), EPISODE_STEPS),
    }
    return write_shard(log_dir, shard_name(first, first + episodes - 1), arrays)


def write_big_log(log_dir: Path, base_dir: Path, rows: int, workers: int, seed: int = 0) -> dict:
    from robonet.logs import MANIFEST, _write_json_atomic
    from robonet.parallel import _new_manifest

    episodes = rows // EPISODE_STEPS
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    jobs = [(str(log_dir), str(base_dir), i, min(SHARD_EPISODES, episodes - i * SHARD_EPISODES), seed)
            for i in range(-(-episodes // SHARD_EPISODES))]
    started = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=workers) as pool:
        entries = list(pool.map(_write_big_shard, jobs))
    manifest = _new_manifest(ENV_ID)
    manifest["shards"] = entries
    manifest["counts"] = {"episodes": sum(e["episodes"] for e in entries), "steps": sum(e["rows"] for e in entries)}
    manifest["collections"] = [{"expert": "scripted", "policy": "synthetic", "seed": seed,
                                "note": "bench.bigdata: jittered base-log episodes relabelled by the expert",
                                "first_episode": 0, "episodes": manifest["counts"]["episodes"]}]
    _write_json_atomic(log_dir / MANIFEST, manifest)
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in log_dir.rglob("*.npy"))
    return {"rows": manifest["counts"]["steps"], "episodes": manifest["counts"]["episodes"], "shards": len(entries),
            "bytes_on_disk": size, "gigabytes_on_disk": round(size / 1e9, 2), "seconds_to_write": round(seconds, 1),
            "source": "synthetic: real robot observations of the base log (simulated), jittered, relabelled "
                      "by the scripted expert; not simulated step by step"}


# --------------------------------------------------------------------------------------
# 3. one streamed epoch, RssAnon polled
# --------------------------------------------------------------------------------------


def _rss_anon(pid: int) -> int | None:
    from robonet.streaming import rss_anon_bytes

    return rss_anon_bytes(pid)


def streamed_epoch(log_dir: Path, model: Path, batch_size: int, validation_split: float) -> dict:
    cmd = [sys.executable, "-m", "robonet", "train", "--logs", str(log_dir), "--out", str(model), "--stream",
           "--epochs", "1", "--batch-size", str(batch_size), "--validation-split", str(validation_split),
           "--no-plot"]
    peak = {"rss_anon": 0, "samples": 0}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def poll() -> None:
        while proc.poll() is None:
            value = _rss_anon(proc.pid)
            if value is not None:
                peak["rss_anon"] = max(peak["rss_anon"], value)
                peak["samples"] += 1
            time.sleep(0.02)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    out, err = proc.communicate()
    thread.join()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"train failed ({proc.returncode}): {err.strip()[-2000:]}")
    epoch_line = next((line for line in out.splitlines() if line.strip().startswith("epoch")), "")
    from robonet.controller import load_controller

    info = load_controller(model).info
    tps = None
    if "transitions/s)" in epoch_line:
        tps = float(epoch_line.rsplit("(", 1)[1].split()[0].replace(",", ""))
    return {
        "command": " ".join(cmd),
        "peak_rss_anon_bytes": peak["rss_anon"], "peak_rss_anon_mb": round(peak["rss_anon"] / 2**20, 1),
        "rss_samples": peak["samples"],
        "train_rows": info["train_steps"], "validation_rows": info["validation_steps"],
        "epoch_transitions_per_second": tps,
        "wall_seconds_whole_command": round(seconds, 1),
        "end_to_end_transitions_per_second": round(info["train_steps"] / seconds),
        "epoch_line": epoch_line.strip(),
        "final": info["final"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bigdata", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=float, default=1e8, help="transitions in the big log")
    parser.add_argument("--quick", action="store_true", help="a small run: 2e6 rows, 16 collection episodes")
    parser.add_argument("--dir", type=Path, default=OUT / "bigdata", help="where to write the logs")
    parser.add_argument("--keep", action="store_true", help="keep the big log at the end")
    parser.add_argument("--batch-size", type=int, default=64, help="training minibatch (robonet train's default)")
    parser.add_argument("--validation-split", type=float, default=0.01)
    parser.add_argument("--collect-episodes", type=int, default=64, help="episodes of the speed-up run / base log")
    parser.add_argument("--gen-workers", type=int, default=2, help="processes writing the big log")
    parser.add_argument("--results", type=Path, default=OUT / "bigdata.json")
    args = parser.parse_args(argv)
    rows = int(2e6 if args.quick else args.rows)
    collect_episodes = 16 if args.quick else args.collect_episodes
    root = args.dir.absolute()
    root.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "numpy": np.__version__, "blas": blas_info()}}

    print(f"1. collection: {collect_episodes} robot episodes, 1 vs 2 workers ...", flush=True)
    results["collection"] = collection_speedup(root, collect_episodes, num_envs=8, task_episodes=8)
    print(json.dumps(results["collection"], indent=2), flush=True)

    base = root / "base-w1"
    print("   streamed epoch on the small base log (memory baseline) ...", flush=True)
    results["train_small"] = streamed_epoch(base, root / "small.npz", args.batch_size, args.validation_split)
    results["train_small"]["rows"] = int(results["collection"]["steps"])
    print(f"   peak RssAnon {results['train_small']['peak_rss_anon_mb']} MB", flush=True)

    big = root / "big"
    print(f"2. writing a robot-shaped log of {rows:,} transitions to {big} ...", flush=True)
    results["big_log"] = write_big_log(big, base, rows, args.gen_workers)
    print(json.dumps(results["big_log"], indent=2), flush=True)

    print("3. one streamed epoch on the big log ...", flush=True)
    try:
        results["train_big"] = streamed_epoch(big, root / "big.npz", args.batch_size, args.validation_split)
    finally:
        if not args.keep:
            shutil.rmtree(big, ignore_errors=True)
    results["train_big"]["rows"] = rows
    results["target"] = {"peak_rss_anon_under_1_GB": results["train_big"]["peak_rss_anon_bytes"] < 1e9}
    print(json.dumps(results["train_big"], indent=2), flush=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
