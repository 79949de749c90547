"""``robonet logs``: inspect a sensor log (``info``) and join logs of one env (``merge``).

Both read the log shard by shard from the memory-mapped files (:mod:`robonet.streaming`), so
they work on logs larger than memory.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import numpy as np

from robonet.errors import UserError

HELP = "inspect sensor logs (counts, sensor statistics, action balance, histograms) or merge them"
DESCRIPTION = (
    "`robonet logs info DIR` prints the episode and step counts, per-sensor statistics (mean, std, "
    "min, max), the balance of the expert's actions, and writes per-sensor histograms as a PNG. "
    "`robonet logs merge OUT DIR1 DIR2 ...` joins logs of the same env into a new log OUT "
    "(episode ids renumbered in order); logs of different envs or sensors are refused."
)

HISTOGRAM_BINS = 50


# --------------------------------------------------------------------------------------
# info
# --------------------------------------------------------------------------------------


def log_info(log_dir: str | os.PathLike, *, bins: int = HISTOGRAM_BINS, verify: bool = True) -> dict:
    """Counts, per-sensor statistics, action balance and histograms of a sensor log, streamed.

    Returns a JSON-ready dict: "logs", "env_id", "episodes", "steps", "shards",
    "mean_return", "collections", "sensors" (name -> mean, std, min, max), "actions" and
    "executed_actions" (name -> count, fraction), and "histograms" (name -> edges, counts).
    """
    from robonet.streaming import RunningMoments, StreamingLog

    log = StreamingLog(log_dir, verify=verify)
    names, actions = log.observation_names, log.action_names
    moments = RunningMoments(log.observation_size)
    label_counts = np.zeros(len(actions), dtype=np.int64)
    executed_counts = np.zeros(len(actions), dtype=np.int64)
    reward_sum = 0.0
    for chunk in log.iter_chunks():
        moments.update(log.field(chunk, "observations"))
        label_counts += np.bincount(log.field(chunk, "actions"), minlength=len(actions))[:len(actions)]
        executed_counts += np.bincount(log.field(chunk, "executed_actions"), minlength=len(actions))[:len(actions)]
        reward_sum += float(np.sum(log.field(chunk, "rewards"), dtype=np.float64))
    # second pass: histograms over the now known [min, max] of each sensor
    lo, hi = moments.min.copy(), moments.max.copy()
    hi[hi <= lo] = lo[hi <= lo] + 1.0  # a constant sensor gets one non-empty bin
    edges = [np.linspace(lo[j], hi[j], bins + 1) for j in range(len(names))]
    counts = np.zeros((len(names), bins), dtype=np.int64)
    for chunk in log.iter_chunks():
        obs = log.field(chunk, "observations")
        for j in range(len(names)):
            counts[j] += np.histogram(obs[:, j], bins=edges[j])[0]

    def balance(c: np.ndarray) -> dict:
        total = max(1, int(c.sum()))
        return {name: {"count": int(n), "fraction": float(n) / total} for name, n in zip(actions, c)}

    return {
        "logs": str(log.path),
        "env_id": log.env_id,
        "episodes": log.n_episodes,
        "steps": log.n_rows,
        "shards": len(log.shards),
        "mean_return": reward_sum / log.n_episodes,
        "mean_length": log.n_rows / log.n_episodes,
        "collections": len(log.manifest.get("collections", [])),
        "sensors": {name: {"mean": float(moments.mean[j]), "std": float(moments.std[j]),
                           "min": float(moments.min[j]), "max": float(moments.max[j])}
                    for j, name in enumerate(names)},
        "actions": balance(label_counts),
        "executed_actions": balance(executed_counts),
        "histograms": {name: {"edges": edges[j].tolist(), "counts": counts[j].tolist()}
                       for j, name in enumerate(names)},
    }


def plot_histograms(info: dict, path: str | os.PathLike) -> Path:
    """One small histogram per sensor, plus the action balance, in one PNG (Agg, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sensors = list(info["histograms"])
    panels = len(sensors) + 1
    cols = min(4, panels)
    rows = -(-panels // cols)
    fig = Figure(figsize=(3.2 * cols, 2.4 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, sensors):
        h = info["histograms"][name]
        edges = np.asarray(h["edges"])
        ax.stairs(h["counts"], edges, fill=True, alpha=0.8)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    ax = axes[len(sensors)]
    labels = list(info["actions"])
    ax.bar(labels, [info["actions"][a]["count"] for a in labels], color=["tab:blue", "tab:orange"][:len(labels)])
    ax.set_title("expert actions", fontsize=9)
    ax.tick_params(labelsize=7)
    for ax in axes[panels:]:
        ax.set_visible(False)
    fig.suptitle(f"{info['env_id']}: {info['episodes']} episodes, {info['steps']:,} steps", fontsize=10)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    return path


def histograms_path(log_dir: str | os.PathLike) -> Path:
    """Default PNG: ``LOG_histograms.png`` beside the log directory (the log itself is left alone)."""
    log_dir = Path(log_dir).absolute()
    return log_dir.with_name(log_dir.name + "_histograms.png")


def format_info(info: dict) -> str:
    lines = [
        f"{info['logs']}: {info['env_id']}",
        f"  {info['episodes']:,} episodes, {info['steps']:,} steps in {info['shards']} shards "
        f"({info['collections']} collections); mean return {info['mean_return']:.2f}, "
        f"mean length {info['mean_length']:.1f}",
        "  actions (expert label):  " + ", ".join(
            f"{name} {v['count']:,} ({100 * v['fraction']:.1f}%)" for name, v in info["actions"].items()),
        "  actions (executed):      " + ", ".join(
            f"{name} {v['count']:,} ({100 * v['fraction']:.1f}%)" for name, v in info["executed_actions"].items()),
        f"  {'sensor':<16} {'mean':>10} {'std':>10} {'min':>10} {'max':>10}",
    ]
    for name, s in info["sensors"].items():
        lines.append(f"  {name:<16} {s['mean']:>10.4f} {s['std']:>10.4f} {s['min']:>10.4f} {s['max']:>10.4f}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# merge
# --------------------------------------------------------------------------------------

_SAME = ("env_id", "observation_size", "observation_names", "action_names")


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link (shards are never modified in place, so sharing the file is safe), else copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def merge_logs(out: str | os.PathLike, sources: list[str | os.PathLike]) -> dict:
    """Join the sensor logs ``sources`` (same env, sensors and actions) into the new log ``out``.

    Episodes keep their order (all of the first log, then the second...), renumbered 0..E-1.
    Each source is validated (with checksums) first; a mix of envs is refused naming both logs.
    Returns the new manifest.
    """
    from robonet.logs import (FIELDS, FORMAT_NAME, FORMAT_VERSION, MANIFEST, _fsync_dir, _now, _sha256,
                              _write_json_atomic, iter_shards, read_manifest)

    if len(sources) < 2:
        raise UserError("logs merge needs at least two logs to join")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} exists and is not empty; merge writes a new log")
    manifests = [read_manifest(source) for source in sources]
    first = manifests[0]
    for source, manifest in zip(sources[1:], manifests[1:]):
        for key in _SAME:
            if manifest[key] != first[key]:
                raise UserError(
                    f"cannot merge {source} with {sources[0]}: {source} holds {key} {manifest[key]!r}, "
                    f"{sources[0]} holds {first[key]!r} (only logs of the same env and sensors can be joined)")
    from robonet import __version__

    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "robonet_version": __version__,
        **{key: first[key] for key in _SAME}, "env_version": first.get("env_version"),
        "created": _now(), "updated": _now(), "counts": {"episodes": 0, "steps": 0},
        "collections": [], "shards": [], "merged_from": [str(Path(s).absolute()) for s in sources],
    }
    offset = 0
    index = 0
    try:
        for source, source_manifest in zip(sources, manifests):
            first_new = offset
            for shard in iter_shards(source, verify=True):
                ids = np.asarray(shard.arrays["episode_ids"])
                # renumber: rank of the episode within its source log, after the episodes before it
                starts = np.r_[True, ids[1:] != ids[:-1]]
                new_ids = offset + np.cumsum(starts) - 1
                name = f"shard-{index:06d}"
                tmp = out / f".{name}.tmp-{os.getpid()}"
                tmp.mkdir()
                checksums = {}
                for field in FIELDS:
                    target = tmp / f"{field}.npy"
                    if field == "episode_ids":
                        with open(target, "wb") as fh:
                            np.save(fh, new_ids.astype(np.int64), allow_pickle=False)
                            fh.flush()
                            os.fsync(fh.fileno())
                        checksums[target.name] = _sha256(target)
                    else:
                        _link_or_copy(shard.path / f"{field}.npy", target)
                        checksums[target.name] = shard.entry["sha256"][target.name]  # verified above
                _fsync_dir(tmp)
                os.rename(tmp, out / name)
                episodes = int(starts.sum())
                manifest["shards"].append({
                    "name": name, "rows": len(ids), "episodes": episodes, "first_episode": int(new_ids[0]),
                    "last_episode": int(new_ids[-1]), "sha256": checksums})
                manifest["counts"]["episodes"] += episodes
                manifest["counts"]["steps"] += len(ids)
                offset += episodes
                index += 1
            for collection in source_manifest.get("collections", []):
                manifest["collections"].append({**collection, "merged_from": str(Path(source).absolute()),
                                                "merged_first_episode": first_new})
        _fsync_dir(out)
        _write_json_atomic(out / MANIFEST, manifest)  # the log exists only once this is written
    except BaseException:
        if not (out / MANIFEST).exists():
            shutil.rmtree(out, ignore_errors=True)
        raise
    return manifest


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="logs_command", metavar="ACTION", required=True,
                                help="info: inspect one log; merge: join logs of the same env")
    info = sub.add_parser("info", help="counts, per-sensor statistics, action balance, histograms (PNG)",
                          formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    info.add_argument("log", metavar="DIR", help="sensor-log directory")
    info.add_argument("--plot", metavar="PNG", default=None,
                      help="where to write the histograms (default: DIR_histograms.png beside the log)")
    info.add_argument("--no-plot", action="store_true", help="do not write the histograms PNG")
    info.add_argument("--bins", type=int, default=HISTOGRAM_BINS, help="histogram bins per sensor")
    info.add_argument("--no-verify", action="store_true", help="skip the checksum check (faster on big logs)")
    info.add_argument("--json", action="store_true", help="print one JSON object (without the histograms)")
    merge = sub.add_parser("merge", help="join logs of the same env into a new log",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    merge.add_argument("out", metavar="OUT", help="new sensor-log directory to write")
    merge.add_argument("logs", metavar="DIR", nargs="+", help="sensor logs to join, in this order")


def run(args: argparse.Namespace) -> int:
    if args.logs_command == "info":
        if args.bins < 1:
            raise ValueError(f"--bins must be >= 1, got {args.bins}")
        info = log_info(args.log, bins=args.bins, verify=not args.no_verify)
        plot = None if args.no_plot else plot_histograms(info, args.plot or histograms_path(args.log))
        if args.json:
            print(json.dumps({**{k: v for k, v in info.items() if k != "histograms"},
                              "histograms_png": str(plot) if plot else None}))
        else:
            print(format_info(info))
            if plot:
                print(f"  histograms: {plot}")
        return 0
    manifest = merge_logs(args.out, args.logs)
    print(f"merged {len(args.logs)} logs into {args.out}: {manifest['counts']['episodes']} episodes, "
          f"{manifest['counts']['steps']} steps of {manifest['env_id']}")
    return 0
