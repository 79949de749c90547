"""Smoke test of the benchmarks (bench/): every comparison at tiny size, no timing assertions.

Each module runs once in "tiny" mode (a few epochs, steps and episodes) and must return a
section whose tables are well formed and whose measurements are finite positive numbers; the
report writer must turn them into RESULTS.md. Speed itself is measured by ``python -m bench``,
never asserted here. Skipped, with the reason shown, when the benchmark peers are not
installed (``make test`` installs only .[test,dask]; ``pip install -e ".[bench]"`` adds them).
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import re
import sys
from pathlib import Path

import pytest

# bench/ lives at the top of the repository and is not installed: make it importable however
# pytest was started.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

_PEERS = ("torch", "keras", "sklearn", "stable_baselines3", "threadpoolctl", "psutil")
_missing = [name for name in _PEERS if importlib.util.find_spec(name) is None]
if _missing:
    pytest.skip(f"benchmark peers not installed ({', '.join(_missing)}): pip install -e \".[bench]\"",
                allow_module_level=True)

import numpy as np  # noqa: E402

from bench import MODULES  # noqa: E402

# Keras 3 on the torch backend warns about NumPy 2's __array__ copy keyword on every batch.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
from bench.harness import Config, Section, Stat, interleaved  # noqa: E402


@pytest.fixture(scope="module")
def sections(tmp_path_factory):
    """Every benchmark module run once at tiny size (about 30 s in all)."""
    import os

    import torch

    os.environ.setdefault("KERAS_BACKEND", "torch")
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("bench-out")
    cfg = Config(mode="tiny", out_dir=out, plot_dir=out / "plots", seed=0)
    cfg.plot_dir.mkdir()
    result = {}
    for name in MODULES:
        module = importlib.import_module(name)
        result[name.rsplit(".", 1)[1]] = module.run(cfg)
    return result, cfg


def _positive(x) -> bool:
    return isinstance(x, (int, float, np.floating)) and math.isfinite(x) and x > 0


def test_every_module_returns_a_well_formed_section(sections):
    result, _ = sections
    assert set(result) == {"moons", "latency", "throughput", "cloning", "collection", "memory"}
    for key, sec in result.items():
        assert isinstance(sec, Section) and sec.key == key
        assert sec.tables, f"{key}: no table"
        for table in sec.tables:
            assert table.rows, f"{key}: empty table {table.title!r}"
            for row in table.rows:
                assert len(row) == len(table.headers), f"{key}: row {row} vs headers {table.headers}"
        assert not any("skipped" in note for note in sec.notes), f"{key}: {sec.notes}"
        for plot in sec.plots:
            assert plot.exists() and plot.stat().st_size > 1000


def test_moons_times_and_accuracies(sections):
    sec = sections[0]["moons"]
    same = sec.raw["same_epochs"]
    assert {"(a) article's code", "(b) robonet, article settings"} <= set(same)
    assert all(_positive(t) for times in same.values() for t in times)
    for name, acc in sec.raw["final_acc"].items():
        assert 0.0 <= acc <= 1.0, name
    speedups = [t for t in sec.targets if t.name.startswith("(b)")]
    assert len(speedups) == 2 and all(_positive(t.measured) for t in speedups)


def test_latency_figures(sections):
    sec = sections[0]["latency"]
    assert {"CartPole", "robot"} <= set(sec.raw)
    for label, contenders in sec.raw.items():
        assert any(n.startswith("robonet") for n in contenders)
        assert any(n.startswith("PyTorch raw forward") for n in contenders)
        assert all(_positive(t) for times in contenders.values() for t in times)
    assert [_positive(t.measured) for t in sec.targets] == [True, True]
    # Same weights, same standardised input: robonet and PyTorch choose the same actions.
    agree = [float(m.group(1)) for n in sec.notes
             for m in [re.search(r"same action on ([\d.]+)%", n)] if m]
    assert agree and all(a == 100.0 for a in agree)


def test_throughput_same_work(sections):
    sec = sections[0]["throughput"]
    assert all(_positive(t.measured) for t in sec.targets)
    runs = [v for k, v in sec.raw.items() if "|" in k]
    assert len(runs) == 3 * 1 * 2  # 3 nets x 1 data size x 2 batch sizes in tiny mode
    assert all(_positive(t) for run in runs for times in run.values() for t in times)
    # The two frameworks start from the same weights and take the same Adam steps.
    note = next(n for n in sec.notes if n.startswith("same work check"))
    diff = float(re.search(r"parameter difference ([\d.e+-]+)", note).group(1))
    assert diff < 1e-4 and "initial weights identical: True" in note


def test_cloning_solves_and_times(sections):
    sec = sections[0]["cloning"]
    bc = sec.raw["bc"]
    assert len(bc) == 2 and all(_positive(t) for times in bc.values() for t in times)
    for run in sec.raw["pipeline"] + sec.raw["pipeline_cli"]:
        assert run["min_return"] == 500.0
        assert all(_positive(run[k]) for k in ("collect", "train", "evaluate"))
    assert len(sec.raw["ppo"]) == 1 and sec.raw["ppo"][0]["timesteps"] >= 512


def test_collection_rates(sections):
    sec = sections[0]["collection"]
    for label in ("robot", "CartPole"):
        contenders = sec.raw[label]
        assert {"plain env loop", "SyncVectorEnv(8)"} <= set(contenders)
        assert len(contenders) == 4
        assert all(_positive(r) for c in contenders.values() for r in c["rates"])
    assert _positive(sec.targets[0].measured)


def test_memory_peak_rss(sections):
    sec = sections[0]["memory"]
    base = sec.raw["baseline_peak_rss"]
    runs = {k: v for k, v in sec.raw.items() if k != "baseline_peak_rss"}
    assert _positive(base) and runs
    for key, run in runs.items():
        assert run["peak_rss"] > 0.5 * base, key  # a real process was measured
        assert _positive(run["wall"]) and run["log_bytes"] > 0


def test_report_lists_every_section_and_target(sections, tmp_path):
    from bench.__main__ import environment
    from bench.report import write_report

    result, cfg = sections
    path = tmp_path / "RESULTS.md"
    write_report(path, environment(), list(result.values()), cfg, ["--tiny"], 1.0)
    text = path.read_text()
    assert "## Machine and settings" in text and "## Targets" in text
    for sec in result.values():
        assert f"## {sec.title}" in text
        for target in sec.targets:
            assert target.name in text
    assert (cfg.out_dir / "RESULTS.json").exists()


def test_interleaved_rotates_order_and_reports_unavailable():
    from bench.harness import Unavailable

    calls = []

    def make(name):
        def fn():
            calls.append(name)
            return 1.0
        return fn

    def missing():
        raise Unavailable("not here")

    stats, _, skipped = interleaved({"a": make("a"), "b": make("b"), "x": missing}, repeats=2, warmup=1)
    assert calls == ["a", "b", "a", "b", "b", "a"]  # warm-up, then the order rotates
    assert skipped == {"x": "not here"}
    assert stats["a"].values == [1.0, 1.0] and isinstance(stats["b"], Stat)
