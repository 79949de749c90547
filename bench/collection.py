"""Comparison 5: sensor-log collection, logged transitions per second with the expert acting.

Every contender runs the same logging loop: the scripted expert picks the actions of a batch of
observations (``expert.batch``), the env steps, and each real transition (observation, expert
action, reward) is copied into preallocated NumPy arrays. Vector envs autoreset (Gymnasium's
NEXT_STEP mode for SyncVectorEnv, the robot's vector env and Gymnasium's CartPoleVectorEnv): the
row after an episode ends is not a transition and is masked out with the previous step's
``terminated | truncated``, exactly as ``robonet collect`` does. Counted: logged transitions
only, divided by the wall time of the loop (env creation and the first reset excluded). Every
contender runs the same number of steps per env, more than one episode's length, so that the
autoresets (new worlds) weigh in at their natural rate.

Contenders, for the robot and for CartPole-v1:

* plain loop: one ``gymnasium.make`` env, ``expert(obs)`` per step;
* ``gymnasium.vector.SyncVectorEnv`` of 8 envs;
* robot: robonet's vectorized robot (``gym.make_vec(..., vectorization_mode="vector_entry_point")``,
  one NumPy program for all robots) at 16, 256 and 1,024 robots; CartPole: Gymnasium's own
  vectorized CartPole (``CartPoleVectorEnv``, the same kind of array program) at 16, 256, 1,024.

Also reported, not a target: ``robonet.collect.collect`` end to end (seeded episodes, the shard
writer and its manifest) at ``--num-envs`` 1 and 1,024 for the robot, 1 and 8 for CartPole.
"""
from __future__ import annotations

import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import pipeline
from bench.harness import (Config, Section, Table, Target, Unavailable, fmt_rate, fmt_ratio,
                           fmt_stat, interleaved, profile_top, ratio)
from bench.peers import need

TITLE = "5. Sensor-log collection: logged transitions per second, expert acting"


def _single_loop(env_id: str, n_transitions: int, seed: int) -> dict:
    """A plain env loop logging into preallocated arrays; returns time and count."""
    env = pipeline.make(env_id)
    pilot = pipeline.expert(env_id)
    d = int(np.prod(env.observation_space.shape))
    obs_log = np.empty((n_transitions, d), np.float32)
    act_log = np.empty(n_transitions, np.int64)
    rew_log = np.empty(n_transitions, np.float32)
    obs, _ = env.reset(seed=seed)
    episode = 0
    t0 = time.perf_counter()
    for i in range(n_transitions):
        a = int(pilot(obs))
        obs_log[i] = obs
        act_log[i] = a
        obs, r, term, trunc, _ = env.step(a)
        rew_log[i] = r
        if term or trunc:
            episode += 1
            obs, _ = env.reset(seed=seed + episode)
    dt = time.perf_counter() - t0
    env.close()
    return {"time": dt, "transitions": n_transitions, "rate": n_transitions / dt}


def _make_vec(env_id: str, kind: str, num_envs: int):
    gym = need("gymnasium")
    if env_id.startswith("robonet/"):
        pipeline.envs()
    if kind == "sync":
        return gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(num_envs)])
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")


def _vector_loop(env_id: str, kind: str, num_envs: int, n_transitions: int, seed: int) -> dict:
    """A vector env loop logging real transitions (NEXT_STEP autoreset rows masked out)."""
    envs = _make_vec(env_id, kind, num_envs)
    pilot = pipeline.expert(env_id)
    d = int(np.prod(envs.single_observation_space.shape))
    cap = n_transitions + num_envs
    obs_log = np.empty((cap, d), np.float32)
    act_log = np.empty(cap, np.int64)
    rew_log = np.empty(cap, np.float32)
    obs, _ = envs.reset(seed=seed)
    prev_done = np.zeros(num_envs, dtype=bool)
    n = 0
    t0 = time.perf_counter()
    while n < n_transitions:
        actions = pilot.batch(obs)
        next_obs, rewards, term, trunc, _ = envs.step(actions)
        valid = ~prev_done
        k = int(valid.sum())
        if k == num_envs:
            obs_log[n:n + k] = obs
            act_log[n:n + k] = actions
            rew_log[n:n + k] = rewards
        else:
            obs_log[n:n + k] = obs[valid]
            act_log[n:n + k] = actions[valid]
            rew_log[n:n + k] = rewards[valid]
        n += k
        prev_done = np.logical_or(term, trunc)
        obs = next_obs
    dt = time.perf_counter() - t0
    envs.close()
    return {"time": dt, "transitions": n, "rate": n / dt}


def _stepping_only(env_id: str, k: int, cfg: Config, seed: int, r_with_resets: float) -> str:
    """The same ratio over a window inside the first episode (no new worlds but after collisions):
    how much of the gap the resets make."""
    steps = cfg.pick(150, 100, 5)
    st, ex, _ = interleaved({
        "sync": lambda: _vector_loop(env_id, "sync", 8, 8 * steps, seed),
        "vector": lambda: _vector_loop(env_id, "entry", k, k * steps, seed),
    }, cfg.repeats, cfg.warmup)
    rate = {n: ex[n]["transitions"] / st[n].median for n in st}
    r = ratio(rate.get("vector", math.nan), rate.get("sync", math.nan))
    return (f"Why the robot misses 50x: every new episode builds a new world in Python, robot by robot "
            f"(envs/obstacle_avoidance.py generate_world: rejection sampling of obstacles, see the "
            f"profile), which costs the vector env as much per episode as SyncVectorEnv. Over the "
            f"first {steps} steps of each env (no episode has reached its 1,000-step limit; only "
            f"collisions reset) the vectorized robot at {k} logs {fmt_ratio(r)} the transitions/s of "
            f"SyncVectorEnv(8) ({fmt_rate(rate.get('vector', math.nan))}/s against "
            f"{fmt_rate(rate.get('sync', math.nan))}/s), against {fmt_ratio(r_with_resets)} with "
            "resets at their natural rate. What would close it: generate the worlds of all robots "
            "that reset on the same step as one array program (batched rejection sampling), or keep "
            "a pool of pre-generated worlds; that is envs/ code, owned by the env work.")


def _collect_e2e(env_id: str, num_envs: int, episodes: int, seed: int, work: Path) -> dict:
    collect_mod = need("robonet.collect", "robonet.collect (issue 4)")
    out = Path(tempfile.mkdtemp(prefix="collect-", dir=work)) / "logs"
    t0 = time.perf_counter()
    summary = pipeline.quiet(collect_mod.collect, env_id, out, episodes, seed=seed, num_envs=num_envs)
    dt = time.perf_counter() - t0
    shutil.rmtree(out.parent, ignore_errors=True)
    return {"time": dt, "transitions": summary["steps"], "rate": summary["steps"] / dt}


def run(cfg: Config) -> Section:
    sec = Section("collection", TITLE, intro=__doc__.split("\n\n", 1)[1].strip())
    try:
        pipeline.envs()
        need("gymnasium")
    except Unavailable as exc:
        sec.notes.append(f"skipped: {exc}")
        return sec
    counts = cfg.pick((1024, 256, 16), (1024, 256, 16), (16, 4))
    # Every contender runs the same number of steps per env, longer than an episode (1,000 steps
    # for the robot, up to 500 for CartPole), so episode resets weigh in at their natural rate:
    # a window shorter than an episode would skip the resets of the vector envs entirely (all
    # their sub-envs start together) and flatter them.
    steps_per_env = cfg.pick(2200, 1100, 25)
    n_single = steps_per_env
    n_sync = 8 * steps_per_env
    work = Path(tempfile.mkdtemp(prefix="robonet-bench-collect-", dir=cfg.out_dir))
    rows = []
    raw = {}
    for env_id, label, peer in ((pipeline.ROBOT, "robot", "robonet vectorized robot"),
                                (pipeline.CARTPOLE, "CartPole", "Gymnasium CartPoleVectorEnv")):
        seed = cfg.seed
        contenders = {
            "plain env loop": lambda e=env_id: _single_loop(e, n_single, seed),
            "SyncVectorEnv(8)": lambda e=env_id: _vector_loop(e, "sync", 8, n_sync, seed),
        }
        for k in counts:
            contenders[f"{peer}({k})"] = (lambda e=env_id, k=k: _vector_loop(
                e, "entry", k, k * steps_per_env, seed))
        stats, extras, skipped = interleaved(contenders, cfg.repeats, cfg.warmup)
        # Rates: transitions / time per repeat (counts differ slightly between repeats at most by K).
        rates = {n: [extras[n]["transitions"] / t for t in s.values] for n, s in stats.items()}
        med = {n: float(np.median(v)) for n, v in rates.items()}
        base = med.get("SyncVectorEnv(8)", math.nan)
        for name in contenders:
            if name not in stats:
                rows.append([label, name, "n/a", "", "", skipped.get(name, "")])
                continue
            v = rates[name]
            rows.append([label, name, f"{fmt_rate(med[name])}/s [{fmt_rate(min(v))}, {fmt_rate(max(v))}]",
                         extras[name]["transitions"], fmt_ratio(ratio(med[name], base)),
                         fmt_stat(stats[name])])
        raw[label] = {n: {"rates": rates[n], "times": stats[n].values} for n in stats}
        if label == "robot":
            top = f"{peer}({max(counts)})"
            r = ratio(med.get(top, math.nan), base)
            sec.targets.append(Target(f"vectorized robot at {max(counts)} vs SyncVectorEnv(8), "
                                      "transitions/s", r, ">=", 50.0))
            if sec.targets[-1].met is False:
                sec.profiles[f"{top} logging loop"] = profile_top(
                    lambda: _vector_loop(env_id, "entry", max(counts), max(counts) * steps_per_env, seed))
                sec.notes.append(_stepping_only(env_id, max(counts), cfg, seed, r))
        else:
            top = f"{peer}({max(counts)})"
            sec.notes.append(f"CartPole: Gymnasium's vectorized CartPole at {max(counts)} logs "
                             f"{fmt_ratio(ratio(med.get(top, math.nan), base))} the transitions/s of "
                             "SyncVectorEnv(8) (no target; the robot's figure is the target).")
    sec.tables.append(Table(
        f"Logged transitions per second (median [min, max] of {cfg.repeats} interleaved repeats)",
        ["env", "contender", "transitions/s", "transitions per repeat", "vs SyncVectorEnv(8)",
         "loop time"], rows))

    # robonet collect end to end (not a target): what a user gets from `robonet collect`.
    e2e_rows = []
    e2e_cases = cfg.pick(
        [(pipeline.ROBOT, 1, 20), (pipeline.ROBOT, 1024, 1024), (pipeline.CARTPOLE, 1, 40),
         (pipeline.CARTPOLE, 8, 40)],
        [(pipeline.ROBOT, 1, 5), (pipeline.ROBOT, 1024, 1024), (pipeline.CARTPOLE, 1, 10),
         (pipeline.CARTPOLE, 8, 16)],
        [(pipeline.ROBOT, 4, 4), (pipeline.CARTPOLE, 1, 1)])
    e2e_contenders = {f"{e} --num-envs {k} ({n} episodes)": (lambda e=e, k=k, n=n: _collect_e2e(
        e, k, n, cfg.seed, work)) for e, k, n in e2e_cases}
    st, ex, sk = interleaved(e2e_contenders, cfg.pick(3, 1, 1), 0)
    for name in e2e_contenders:
        if name not in st:
            e2e_rows.append([name, "n/a", "", sk.get(name, "")])
            continue
        e2e_rows.append([name, f"{fmt_rate(ex[name]['transitions'] / st[name].median)}/s",
                         ex[name]["transitions"], fmt_stat(st[name])])
    sec.tables.append(Table("`robonet collect` end to end (seeded episodes, shards written), "
                            "in-process", ["run", "transitions/s", "transitions", "time"], e2e_rows,
                            note="collect keeps every episode seeded by its index, so a vector "
                                 "run resets finished slots with seeded partial resets, and it "
                                 "records transitions row by row into per-episode lists (see "
                                 "robonet/collect.py `_run_vector`); the array loop above has "
                                 "neither cost."))
    sec.raw = raw
    shutil.rmtree(work, ignore_errors=True)
    if cfg.plot_dir is not None and raw:
        sec.plots.append(_plot(cfg, raw))
    return sec


def _plot(cfg: Config, raw: dict):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(raw), figsize=(9, 3.2))
    axes = np.atleast_1d(axes)
    for ax, (label, d) in zip(axes, raw.items()):
        names = list(d)
        vals = [float(np.median(d[n]["rates"])) for n in names]
        y = np.arange(len(names))
        ax.barh(y, vals, color=["#1f77b4" if "robonet" in n else "#ff7f0e" for n in names])
        ax.set_yticks(y, names, fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("logged transitions/s (log)", fontsize=8)
    fig.tight_layout()
    path = cfg.plot_dir / "collection.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
