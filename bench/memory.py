"""Comparison 6: memory, peak resident set size of ``robonet train`` on big sensor logs.

A robot sensor log of N transitions (N = 1e6 and 1e7 in the full run) is written once with
robonet's own ``LogWriter`` (episodes of 1,000 steps, shards of 1,000 episodes) by tiling real
expert transitions of the vectorized robot, and kept in bench/out/memory-logs/ for later runs.
Then ``python -m robonet train --logs LOG --out MODEL --epochs 1`` runs as a fresh process and
its peak RSS is read from the kernel as it exits (``VmHWM`` in ``/proc/self/status``, written by
an atexit hook: exact, no polling; ``ru_maxrss`` would not do, Linux carries it over from the
parent, here the benchmark process with PyTorch loaded, across fork and exec). One epoch is enough: the peak is reached when the log is loaded, standardised and
shuffled for the first epoch; later epochs reuse the same buffers.

Re-run this comparison alone with::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python -m bench --only memory

(it writes bench/out/RESULTS-full-memory.md; the logs are built once and kept in
bench/out/memory-logs/).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import pipeline
from bench.harness import Config, Section, Table, Unavailable
from bench.peers import need

TITLE = "6. Memory: peak RSS of `robonet train` on big logs"
EPISODE_STEPS = 1000


def _base_transitions(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` real robot transitions (obs, expert action, reward) from the vectorized robot."""
    from bench.collection import _make_vec

    envs = _make_vec(pipeline.ROBOT, "entry", 256)
    pilot = pipeline.expert(pipeline.ROBOT)
    obs, _ = envs.reset(seed=seed)
    out_o, out_a, out_r = [], [], []
    prev_done = np.zeros(256, dtype=bool)
    total = 0
    while total < n:
        a = pilot.batch(obs)
        nxt, r, term, trunc, _ = envs.step(a)
        valid = ~prev_done
        out_o.append(obs[valid].astype(np.float32))
        out_a.append(a[valid])
        out_r.append(r[valid].astype(np.float32))
        total += int(valid.sum())
        prev_done = term | trunc
        obs = nxt
    envs.close()
    return np.concatenate(out_o)[:n], np.concatenate(out_a)[:n], np.concatenate(out_r)[:n]


def make_log(path: Path, n_transitions: int, seed: int = 0) -> Path:
    """A robot sensor log of ``n_transitions`` rows at ``path`` (reused when already complete)."""
    logs_mod = need("robonet.logs", "robonet.logs (issue 4)")
    path = Path(path)
    if (path / logs_mod.MANIFEST).exists():
        manifest = logs_mod.read_manifest(path)
        if manifest["counts"]["steps"] == n_transitions:
            return path
        raise RuntimeError(f"{path} holds {manifest['counts']['steps']} transitions, not "
                           f"{n_transitions}; delete it to rebuild")
    base_n = min(n_transitions, 200_000)
    obs, act, rew = _base_transitions(base_n, seed)
    episodes = -(-n_transitions // EPISODE_STEPS)
    with logs_mod.LogWriter(path, pipeline.ROBOT, collection={"expert": "scripted", "policy": "expert",
                                                             "seed": seed, "bench": "tiled for memory"},
                            flush_episodes=1000, flush_seconds=1e9) as writer:
        for e in range(episodes):
            lo = e * EPISODE_STEPS
            hi = min(lo + EPISODE_STEPS, n_transitions)
            idx = np.arange(lo, hi) % base_n
            writer.add_episode(e, obs[idx], act[idx], rew[idx], terminated=False)
    return path


# Runs ``python -m MODULE ARGS`` (argv[1:] = MODULE ARGS) and reports the process's own peak RSS.
_HWM_MARK = "BENCH_VMHWM_KB"
_WRAPPER = f"""
import atexit, runpy, sys

def _report_peak():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                sys.stderr.write("\\n{_HWM_MARK} " + line.split()[1] + "\\n")
                sys.stderr.flush()

atexit.register(_report_peak)
sys.argv = sys.argv[1:]
if sys.argv[0] != "-":
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def peak_rss_of(module_argv: list[str], env: dict | None = None, imports: str = "") -> dict:
    """Run ``python -m MODULE ARGS`` (``module_argv`` = [MODULE, *ARGS]; MODULE "-" runs only
    ``imports``) in a fresh process; its peak RSS in bytes (VmHWM), wall time and exit code."""
    code = (imports + "\n" if imports else "") + _WRAPPER
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *module_argv], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    marks = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith(_HWM_MARK)]
    peak = int(marks[-1]) * 1024 if marks else 0
    return {"peak_rss": peak, "wall": dt, "returncode": proc.returncode,
            "stderr": proc.stderr[-600:]}


def train_peak(log: Path, work: Path, epochs: int = 1, mode: str = "") -> dict:
    """Peak RSS of ``robonet train`` on ``log``; ``mode`` is "", "--stream" or "--no-stream"."""
    model = Path(tempfile.mkdtemp(prefix="mem-", dir=work)) / "model.npz"
    cmd = ["robonet", "train", "--logs", str(log), "--out", str(model), "--epochs", str(epochs),
           *([mode] if mode else [])]
    res = peak_rss_of(cmd, pipeline.quiet_env())
    if res["returncode"] != 0:
        raise RuntimeError(f"robonet train failed (exit {res['returncode']}): {res['stderr']}")
    return res


def _modes() -> list[str]:
    """The train modes to measure: default, and --no-stream / --stream when train has them."""
    try:
        import robonet.streaming  # noqa: F401
    except ImportError:
        return [""]
    return ["", "--no-stream", "--stream"]


def _log_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*.npy"))


def run(cfg: Config) -> Section:
    sec = Section("memory", TITLE, intro=__doc__.split("\n\n", 1)[1].strip())
    sizes = cfg.pick([1_000_000, 10_000_000], [1_000_000], [3_000])
    store = cfg.out_dir / ("memory-logs" if cfg.mode != "tiny" else f"memory-logs-tiny-{os.getpid()}")
    store.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="robonet-bench-mem-", dir=cfg.out_dir))
    rows = []
    # Baseline: the interpreter with robonet's train imported, no data (what is not the log).
    base = peak_rss_of(["-"], pipeline.quiet_env(),
                       imports="import numpy, robonet.train, robonet.logs, robonet.controller, "
                               "robonet.nn, matplotlib.pyplot")
    sec.raw["baseline_peak_rss"] = base["peak_rss"]
    modes = _modes()
    for n in sizes:
        try:
            t0 = time.perf_counter()
            cached = (store / f"robot-{n}" / "manifest.json").exists()
            log = make_log(store / f"robot-{n}", n, cfg.seed)
            built = "log reused" if cached else f"log built in {time.perf_counter() - t0:.1f} s"
        except (Unavailable, RuntimeError) as exc:
            rows.append([f"{n:.0e}", "", "n/a", "", "", "", str(exc)[:200]])
            continue
        nbytes = _log_bytes(log)
        obs_bytes = n * 9 * 4
        for mode in modes:
            try:
                res = train_peak(log, work, mode=mode)
            except RuntimeError as exc:
                rows.append([f"{n:.0e}", mode or "(default)", "n/a", "", "", "", str(exc)[:200]])
                continue
            rows.append([f"{n:.0e}", mode or "(default: automatic)", f"{nbytes / 2**20:.0f} MiB",
                         f"{obs_bytes / 2**20:.0f} MiB", f"{res['peak_rss'] / 2**20:.0f} MiB",
                         f"{(res['peak_rss'] - base['peak_rss']) / obs_bytes:.2f}x",
                         f"{res['wall']:.1f} s ({built})"])
            sec.raw[f"{n}|{mode or 'default'}"] = {"peak_rss": res["peak_rss"], "wall": res["wall"],
                                                   "log_bytes": nbytes}
    sec.tables.append(Table(
        "Peak RSS of `python -m robonet train --logs LOG --out MODEL --epochs 1` (robot, 9 "
        "observations, default 9-32-32-1 net)",
        ["transitions", "train mode", "log on disk (all fields)", "observations (float32)", "peak RSS",
         "(peak - baseline) / observations", "train wall time"], rows,
        note=f"Baseline (interpreter with robonet's train imported, no log): "
             f"{base['peak_rss'] / 2**20:.0f} MiB."))
    if modes == [""]:
        sec.notes.append(
            "`robonet train` here has no streaming path: it loads the whole log into memory. A "
            "streaming path over memory-mapped shards for big logs is being added (issue 6); "
            "re-run this table with the command above once it lands.")
    else:
        sec.notes.append(
            "Streaming (issue 6, robonet/streaming.py) landed while this benchmark was written: "
            "`robonet train` streams minibatches from the memory-mapped shards when the in-memory "
            "path would need more than robonet.streaming.AUTO_STREAM_BYTES; --no-stream forces "
            "the in-memory path (the whole log as float64, standardised into a second copy), "
            "--stream forces streaming. The table measures all three. Peak RSS (VmHWM) counts "
            "the pages of memory-mapped shards that were read as resident too; those are file "
            "pages the kernel can drop under pressure, unlike the in-memory path's float64 copies.")
    import shutil
    shutil.rmtree(work, ignore_errors=True)
    if cfg.mode == "tiny":
        shutil.rmtree(store, ignore_errors=True)
    return sec
