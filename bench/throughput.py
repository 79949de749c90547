"""Comparison 3: training throughput (samples per second), Adam, same initial weights.

Networks: the CartPole controller (4-16-16-1), the robot controller (robot observation - 32-32-1,
the sizes `robonet train` uses by default) and a 64-64 net on the robot's observation. Data sets
of 1e5 and 1e6 samples (float32, labels from a fixed random rule), minibatches of 32 and 1,024,
drawn from one NumPy permutation shared by both frameworks, Adam (lr 1e-3). robonet runs
``Trainer.step(X[idx], y[idx])`` in a loop; PyTorch runs the canonical loop (index, zero_grad,
BCEWithLogitsLoss, backward, step) in float32 with one thread. Where an epoch exceeds the step cap,
a fixed number of steps is timed and reported as samples per second (marked "capped").
"""
from __future__ import annotations

import math
import time

import numpy as np

from bench.harness import (Config, Section, Table, Target, Unavailable, fmt_rate, fmt_ratio,
                           fmt_stat, interleaved, profile_top, ratio)
from bench.peers import need, robonet_nn, torch_mlp
from bench import pipeline

TITLE = "3. Training throughput (samples/s), Adam"
LR = 1e-3


def robot_obs_size(notes: list) -> int:
    try:
        env = pipeline.make(pipeline.ROBOT)
        n = int(np.prod(env.observation_space.shape))
        env.close()
        return n
    except Exception as exc:  # robot not landed yet
        notes.append(f"robot env not available ({exc}); assumed 16 observations")
        return 16


def make_data(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    w = rng.standard_normal(d).astype(np.float32)
    y = (X @ w + 0.3 * rng.standard_normal(n, dtype=np.float32) > 0).astype(np.float32)
    return X, y


def _robonet_run(nn, sizes, X, y, perm, batch, steps, seed):
    net = nn.Network(nn.sizes_to_architecture(sizes), seed=seed, dtype=np.float32)
    trainer = nn.Trainer(net, optimizer="adam", learning_rate=LR)
    t0 = time.perf_counter()
    for s in range(steps):
        idx = perm[s * batch:(s + 1) * batch]
        trainer.step(X[idx], y[idx])
    return time.perf_counter() - t0, net


def _torch_run(torch, sizes, init, X_t, y_t, perm_t, batch, steps):
    model = torch_mlp(sizes, "relu", init)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    t0 = time.perf_counter()
    for s in range(steps):
        idx = perm_t[s * batch:(s + 1) * batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(X_t[idx]).squeeze(1), y_t[idx])
        loss.backward()
        opt.step()
    return time.perf_counter() - t0, model


def run(cfg: Config) -> Section:
    sec = Section("throughput", TITLE, intro=__doc__.split("\n\n", 1)[1].strip())
    try:
        nn = robonet_nn()
        torch = need("torch")
    except Unavailable as exc:
        sec.notes.append(f"skipped: {exc}")
        return sec
    d_robot = robot_obs_size(sec.notes)
    nets = {"CartPole 4-16-16-1": [4, 16, 16, 1],
            f"robot {d_robot}-32-32-1": [d_robot, 32, 32, 1],
            f"64-64 ({d_robot}-64-64-1)": [d_robot, 64, 64, 1]}
    sizes_n = cfg.pick([100_000, 1_000_000], [100_000, 1_000_000], [2_000])
    batches = [32, 1024] if cfg.mode != "tiny" else [32, 256]
    cap = cfg.pick(4000, 500, 4)
    rows, plot_rows = [], []
    worst_small, worst_all = math.inf, math.inf
    checked = False
    for net_name, sizes in nets.items():
        for n in sizes_n:
            X, y = make_data(n, sizes[0], cfg.seed)
            X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
            perm = np.random.default_rng(cfg.seed + 1).permutation(n)
            perm_t = torch.from_numpy(perm)
            for batch in batches:
                steps_epoch = math.ceil(n / batch)
                steps = min(steps_epoch, cap)
                capped = steps < steps_epoch
                steps = max(1, min(steps, n // batch))  # only whole batches
                ref = nn.Network(nn.sizes_to_architecture(sizes), seed=cfg.seed, dtype=np.float32)
                init = [np.array(p) for p in ref.parameters()]
                if not checked:
                    checked = True
                    sec.notes.append(_agreement(nn, torch, sizes, X, y, perm, perm_t, X_t, y_t,
                                                init, cfg.seed))
                contenders = {
                    "robonet": lambda: _robonet_run(nn, sizes, X, y, perm, batch, steps, cfg.seed)[0],
                    "PyTorch": lambda: _torch_run(torch, sizes, init, X_t, y_t, perm_t, batch, steps)[0],
                }
                stats, _, skipped = interleaved(contenders, cfg.repeats, cfg.warmup)
                samples = steps * batch
                sps = {k: samples / s.median for k, s in stats.items()}
                r = ratio(sps.get("robonet"), sps.get("PyTorch"))
                rows.append([net_name, f"{n:.0e}", batch, f"{steps}{' (capped)' if capped else ''}",
                             fmt_rate(sps.get("robonet", math.nan)) + "/s",
                             fmt_rate(sps.get("PyTorch", math.nan)) + "/s", fmt_ratio(r),
                             fmt_stat(stats["robonet"]) if "robonet" in stats else "n/a",
                             fmt_stat(stats["PyTorch"]) if "PyTorch" in stats else "n/a"])
                plot_rows.append((net_name, n, batch, r))
                worst_all = min(worst_all, r) if math.isfinite(r) else worst_all
                if batch <= 64:
                    worst_small = min(worst_small, r) if math.isfinite(r) else worst_small
                sec.raw[f"{net_name}|{n}|{batch}"] = {k: s.values for k, s in stats.items()}
                if r < 1.0 or (batch <= 64 and r < 3.0):
                    key = f"robonet Trainer.step, {net_name}, batch {batch}, {steps} steps"
                    if len(sec.profiles) < 3:
                        sec.profiles[key] = profile_top(
                            lambda: _robonet_run(nn, sizes, X, y, perm, batch, steps, cfg.seed))
    sec.tables.append(Table(
        f"Samples per second (median of {cfg.repeats} interleaved repeats; ratio = robonet / PyTorch)",
        ["network", "samples", "batch", "steps timed", "robonet", "PyTorch", "ratio",
         "robonet time", "PyTorch time"], rows,
        note=f"'capped': an epoch has more steps than the cap of {cap}; the first {cap} steps of the "
             "epoch were timed (samples/s is what is compared)."))
    sec.targets.append(Target("robonet / PyTorch samples/s, worst case of all", worst_all, ">=", 1.0))
    sec.targets.append(Target("robonet / PyTorch samples/s, worst case at batch <= 64", worst_small,
                              ">=", 3.0))
    if cfg.plot_dir is not None and plot_rows:
        sec.plots.append(_plot(cfg, plot_rows))
    return sec


def _agreement(nn, torch, sizes, X, y, perm, perm_t, X_t, y_t, init, seed) -> str:
    """Same init, same batches, same Adam: the parameters must end up (nearly) equal."""
    steps, batch = 20, 32
    _, net = _robonet_run(nn, sizes, X, y, perm, batch, steps, seed)
    _, model = _torch_run(torch, sizes, init, X_t, y_t, perm_t, batch, steps)
    theirs = [p.detach().numpy().reshape(-1) for p in model.parameters()]
    ours = [np.asarray(p).reshape(-1) for p in net.parameters()]
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs))
    start = max(float(np.max(np.abs(a.reshape(-1) - b))) for a, b in
                zip(init, [np.asarray(p).reshape(-1) for p in nn.Network(
                    nn.sizes_to_architecture(sizes), seed=seed, dtype=np.float32).parameters()]))
    return (f"same work check ({'-'.join(map(str, sizes))}, {steps} Adam steps of batch {batch} from "
            f"the same initial weights, same batches): max |robonet - PyTorch| parameter difference "
            f"{diff:.2e} (initial weights identical: {start == 0.0})")


def _plot(cfg: Config, plot_rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{net}\n{n:.0e}, batch {b}" for net, n, b, _ in plot_rows]
    vals = [r for *_, r in plot_rows]
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(labels) + 1.2))
    y = np.arange(len(labels))
    ax.barh(y, vals, color=["#1f77b4" if v >= (3 if "batch 32" in lab else 1) else "#d62728"
                            for v, lab in zip(vals, labels)])
    ax.axvline(1.0, color="k", lw=0.8)
    ax.axvline(3.0, color="k", lw=0.8, ls="--")
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("robonet samples/s divided by PyTorch samples/s (targets: 1x, 3x at batch <= 64)")
    ax.set_title("Training throughput, Adam, one thread")
    fig.tight_layout()
    path = cfg.plot_dir / "throughput.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
