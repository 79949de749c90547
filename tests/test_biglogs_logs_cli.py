"""robonet logs info / merge."""
import json

import numpy as np
import pytest
from PIL import Image

from robonet.cli import main
from robonet.collect import collect
from robonet.logs import load_logs


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("logscli")
    collect("CartPole-v1", root / "a", 4, seed=0, noise=0.3)
    collect("CartPole-v1", root / "b", 3, seed=1, noise=0.3)
    collect("robonet/ObstacleAvoidance-v0", root / "robot", 1, seed=0)
    return root


def test_info_prints_counts_statistics_balance_and_writes_histograms(logs, capsys):
    assert main(["logs", "info", str(logs / "a"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    log = load_logs(logs / "a")
    assert info["episodes"] == 4 and info["steps"] == len(log)
    X = np.asarray(log.observations, dtype=np.float64)
    assert set(info["sensors"]) == set(log.observation_names)
    first = info["sensors"][log.observation_names[0]]
    assert first["mean"] == pytest.approx(X[:, 0].mean()) and first["std"] == pytest.approx(X[:, 0].std())
    assert first["min"] == pytest.approx(X[:, 0].min()) and first["max"] == pytest.approx(X[:, 0].max())
    counts = np.bincount(log.actions, minlength=2)
    assert [v["count"] for v in info["actions"].values()] == counts.tolist()
    assert sum(v["fraction"] for v in info["actions"].values()) == pytest.approx(1.0)
    png = logs / "a_histograms.png"
    assert info["histograms_png"] == str(png)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width > 200
    assert main(["logs", "info", str(logs / "robot"), "--no-plot"]) == 0
    text = capsys.readouterr().out
    assert "range_+0deg" in text and "steer_left" in text and "1 episodes" in text


def test_merge_joins_logs_in_order_and_renumbers_episodes(logs, tmp_path, capsys):
    out = tmp_path / "merged"
    assert main(["logs", "merge", str(out), str(logs / "a"), str(logs / "b")]) == 0
    assert "7 episodes" in capsys.readouterr().out
    merged, a, b = load_logs(out), load_logs(logs / "a"), load_logs(logs / "b")  # validated, checksums too
    np.testing.assert_array_equal(merged.observations, np.concatenate([a.observations, b.observations]))
    np.testing.assert_array_equal(merged.actions, np.concatenate([a.actions, b.actions]))
    np.testing.assert_array_equal(np.unique(merged.episode_ids), np.arange(7))
    assert merged.n_episodes == 7 and len(merged.manifest["collections"]) == 2


def test_merge_refuses_logs_of_different_envs_naming_both(logs, tmp_path, capsys):
    out = tmp_path / "mixed"
    assert main(["logs", "merge", str(out), str(logs / "a"), str(logs / "robot")]) == 2
    err = capsys.readouterr().err
    assert f"cannot merge {logs / 'robot'} with {logs / 'a'}" in err
    assert "CartPole-v1" in err and "robonet/ObstacleAvoidance-v0" in err
    assert not out.exists()
    assert main(["logs", "merge", str(tmp_path / "one"), str(logs / "a")]) == 2
    assert "at least two logs" in capsys.readouterr().err
