"""Comparison 2: per-step control latency, one observation in, one action out.

robonet: ``controller(obs)`` end to end (standardisation, network, action) on a controller file
loaded with ``robonet.load_controller``: the CartPole controller (4-16-16-1, trained by
``robonet train --hidden 16,16``) and the robot controller (``robonet train`` defaults).
PyTorch: the same layer sizes as an ``nn.Sequential``, raw forward of a prepared (1, n) float32
tensor inside one ``torch.inference_mode()`` block: no conversion from NumPy, no standardisation,
no action, so the peer does strictly less work. One thread each. Observations are real ones from
expert rollouts, cycled.
"""
from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.harness import (Config, Section, Table, Target, Unavailable, fmt_ratio, fmt_stat,
                           interleaved, profile_top, ratio)
from bench.peers import need, robonet_nn, torch_mlp
from bench import pipeline

TITLE = "2. Per-step control latency"


def _robonet_controller(env_id: str, workdir: Path, seed: int, hidden: str | None, notes: list):
    """A loaded controller file; falls back to a Controller built in memory if train is missing."""
    train_args = ["--hidden", hidden] if hidden else []
    try:
        path = pipeline.controller_file(env_id, workdir, episodes=2, seed=seed,
                                        train_args=train_args + ["--epochs", "2"])
        return pipeline.load_controller(path), f"load_controller({path.name})"
    except Unavailable as exc:
        notes.append(f"{env_id}: controller file not available ({exc}); measured a Controller built "
                     "in memory from a robonet Network with the same sizes (the same code path)")
    nn = robonet_nn()
    ctrl_mod = need("robonet.controller", "robonet.controller (issue 4)")
    obs = pipeline.sample_observations(env_id, 200, seed)
    sizes = [obs.shape[1]] + [int(h) for h in (hidden or "32,32").split(",")] + [1]
    net = nn.Network(nn.sizes_to_architecture(sizes), seed=seed)
    return ctrl_mod.Controller(net, obs.mean(0), obs.std(0) + 1e-8, env_id=env_id), "Controller(...) in memory"


def run(cfg: Config) -> Section:
    sec = Section("latency", TITLE, intro=__doc__.split("\n\n", 1)[1].strip())
    torch = None
    try:
        torch = need("torch")
    except Unavailable as exc:
        sec.notes.append(f"PyTorch side skipped: {exc}")
    n_calls = cfg.pick(20_000, 5_000, 200)
    rows = []
    work = Path(tempfile.mkdtemp(prefix="robonet-bench-latency-", dir=cfg.out_dir))
    for env_id, hidden, label in ((pipeline.CARTPOLE, "16,16", "CartPole"),
                                  (pipeline.ROBOT, None, "robot")):
        try:
            ctrl, how = _robonet_controller(env_id, work, cfg.seed, hidden, sec.notes)
            obs = pipeline.sample_observations(env_id, 256, cfg.seed + 1)
        except Unavailable as exc:
            sec.notes.append(f"{label}: skipped: {exc}")
            continue
        sizes = pipeline.sizes_of(ctrl.network.architecture)
        hidden_act = ctrl.network.architecture[0]
        hidden_act = hidden_act["activation"] if isinstance(hidden_act, dict) else hidden_act.activation
        seq = [np.ascontiguousarray(o) for o in obs] * (n_calls // len(obs) + 1)
        seq = seq[:n_calls]
        contenders = {}

        def robonet_call(ctrl=ctrl, seq=seq):
            t0 = time.perf_counter()
            for o in seq:
                ctrl(o)
            return (time.perf_counter() - t0) / len(seq)

        contenders[f"robonet controller(obs), {label}"] = robonet_call
        if torch is not None:
            model = torch_mlp(sizes, hidden_act,
                              [np.asarray(p, dtype=np.float32) for p in ctrl.network.parameters()])
            model.eval()
            tseq = [torch.from_numpy(np.asarray(o, dtype=np.float32)).reshape(1, -1) for o in seq]

            def torch_call(model=model, tseq=tseq):
                with torch.inference_mode():
                    t0 = time.perf_counter()
                    for x in tseq:
                        model(x)
                    return (time.perf_counter() - t0) / len(tseq)

            def torch_e2e(model=model, seq=seq):
                with torch.inference_mode():
                    t0 = time.perf_counter()
                    for o in seq:
                        int(model(torch.from_numpy(o).reshape(1, -1)).item() > 0.0)
                    return (time.perf_counter() - t0) / len(seq)

            contenders[f"PyTorch raw forward, {label}"] = torch_call
            contenders[f"PyTorch end to end (from_numpy, forward, action), {label}"] = torch_e2e
        # Agreement check: the same weights must give the same actions.
        if torch is not None:
            with torch.inference_mode():
                t_act = (model(torch.from_numpy(obs.astype(np.float32))).numpy().ravel() > 0)
            # torch got raw (unstandardised) weights; compare robonet's network on standardised obs
            # only when the controller exposes its standardisation.
            if hasattr(ctrl, "standardize"):
                r_act = np.array([ctrl(o) for o in obs])
                s_obs = ctrl.standardize(obs).astype(np.float32)
                with torch.inference_mode():
                    t_act = (model(torch.from_numpy(s_obs)).numpy().ravel() > 0)
                agree = float(np.mean(r_act == t_act))
                sec.notes.append(f"{label}: robonet and PyTorch (same weights, standardised input) "
                                 f"pick the same action on {agree:.1%} of {len(obs)} observations")
        stats, _, skipped = interleaved(contenders, cfg.repeats, cfg.warmup)
        base = stats.get(f"PyTorch raw forward, {label}")
        for name, st in stats.items():
            rows.append([name, "-".join(map(str, sizes)), fmt_stat(st, _us),
                         fmt_ratio(ratio(st.median, base.median)) if base else "n/a",
                         how if name.startswith("robonet") else "float32, inference_mode"])
        rn = stats.get(f"robonet controller(obs), {label}")
        r = ratio(rn.median if rn else math.nan, base.median if base else math.nan)
        sec.targets.append(Target(f"{label} controller(obs) vs PyTorch raw forward", r, "<=", 0.15))
        if sec.targets[-1].met is False:
            sec.profiles[f"robonet controller(obs), {label}, {len(seq)} calls"] = profile_top(
                lambda: robonet_call())
        sec.raw[label] = {n: s.values for n, s in stats.items()}
    sec.tables.append(Table(f"Per-call latency (median [min, max] over {cfg.repeats} interleaved "
                            f"repeats of {n_calls} calls)",
                            ["contender", "sizes", "per call", "vs PyTorch raw forward", "how"], rows))
    if cfg.plot_dir is not None and sec.raw:
        sec.plots.append(_plot(cfg, sec.raw))
    return sec


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} us" if math.isfinite(seconds) else "n/a"


def _plot(cfg: Config, raw: dict):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, med = [], []
    for label, d in raw.items():
        for n, v in d.items():
            names.append(n)
            med.append(np.median(v) * 1e6)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.2))
    y = np.arange(len(names))
    ax.barh(y, med, color=["#1f77b4" if n.startswith("robonet") else "#ff7f0e" for n in names])
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("microseconds per observation (median)")
    for yi, m in zip(y, med):
        ax.text(m, yi, f" {m:.2f}", va="center", fontsize=8)
    ax.set_title("One observation -> one action, one thread")
    fig.tight_layout()
    path = cfg.plot_dir / "latency.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
