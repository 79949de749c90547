"""The article's experiment: two-moons data, the 2-25-50-50-25-1 network, `robonet moons`."""
from __future__ import annotations

import numpy as np
import pytest

from robonet.cli import main
from robonet.moons import (
    ARTICLE_SETTINGS,
    ARTICLE_SIZES,
    FAST_EPOCHS,
    FAST_SETTINGS,
    make_moons,
    run_experiment,
    train_test_split,
)


def test_make_moons_shapes_labels_and_seeding() -> None:
    X, y = make_moons(1000, noise=0.2, seed=3)
    assert X.shape == (1000, 2) and X.dtype == np.float64
    assert y.shape == (1000,) and set(np.unique(y)) == {0, 1} and y.sum() == 500
    X2, y2 = make_moons(1000, noise=0.2, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, make_moons(1000, noise=0.2, seed=4)[0])
    # the two classes overlap only through the noise: their means sit apart as in the article
    assert X[y == 0, 1].mean() > X[y == 1, 1].mean() + 0.5


def test_make_moons_without_noise_lies_on_the_half_circles() -> None:
    X, y = make_moons(201, noise=0.0, seed=0)
    assert (y == 0).sum() == 100 and (y == 1).sum() == 101
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert upper[:, 1].min() >= -1e-12 and lower[:, 1].max() <= 0.5 + 1e-12


@pytest.mark.parametrize("kwargs, message", [
    ({"n_samples": 1}, "n_samples must be an integer >= 2"),
    ({"n_samples": 10.5}, "n_samples must be an integer >= 2"),
    ({"noise": -0.1}, "noise must be a number >= 0"),
    ({"noise": float("nan")}, "noise must be a number >= 0"),
])
def test_make_moons_rejects_bad_arguments(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        make_moons(**{"n_samples": 100, "noise": 0.2, **kwargs})


def test_train_test_split_holds_out_ten_percent() -> None:
    X, y = make_moons(1000, 0.2, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.1, seed=1)
    assert len(X_train) == len(y_train) == 900 and len(X_test) == len(y_test) == 100
    rows = {tuple(row) for row in X_train}
    assert not any(tuple(row) in rows for row in X_test)
    with pytest.raises(ValueError, match="leaves no test"):
        train_test_split(X, y, 0.0001, seed=1)


def test_settings_are_the_articles() -> None:
    assert ARTICLE_SIZES == (2, 25, 50, 50, 25, 1)
    assert ARTICLE_SETTINGS["optimizer"] == "sgd" and ARTICLE_SETTINGS["batch_size"] is None
    assert ARTICLE_SETTINGS["learning_rate"] == 0.01 and ARTICLE_SETTINGS["epochs"] == 10_000
    assert ARTICLE_SETTINGS["init"] == "article" and ARTICLE_SETTINGS["dtype"] == "float64"
    assert {"optimizer", "learning_rate", "batch_size", "dtype"} <= set(FAST_SETTINGS)


def test_fast_settings_reach_95_percent_test_accuracy() -> None:
    """The article's network and data with robonet's best settings: >= 95% test accuracy
    (mean over five seeds, as a 100-point test set moves in steps of 1%)."""
    results = [run_experiment(fast=True, seed=seed, progress_bar=False) for seed in range(5)]
    accuracies = [r.test_accuracy for r in results]
    assert np.mean(accuracies) >= 0.95, accuracies
    assert min(accuracies) >= 0.92, accuracies
    for r in results:
        assert r.epochs_run == FAST_EPOCHS and r.net.dtype == np.float32
        assert r.net.architecture == [
            {"input_dim": a, "output_dim": b, "activation": "sigmoid" if b == 1 else "relu"}
            for a, b in zip(ARTICLE_SIZES, ARTICLE_SIZES[1:])
        ]
        assert len(r.data[1]) == 100 and r.train_seconds > 0


def test_cli_article_experiment_reaches_95_percent(tmp_path, capsys) -> None:
    """The article's experiment as published: its network, init, full-batch gradient descent,
    learning rate 0.01 and 10,000 epochs reach >= 95% test accuracy (the article's figure)."""
    out = tmp_path / "moons"
    assert main(["moons", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "network 2-25-50-50-25-1: sgd, lr 0.01, full batch, float64, init article, 10000 epochs" in text
    assert "training time" in text
    accuracy = float(text.split("test accuracy ")[1].split()[0])
    assert accuracy >= 0.95
    for name in ("decision_boundary.png", "learning_curves.png"):
        path = out / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_cli_fast(tmp_path, capsys) -> None:
    assert main(["moons", "--fast", "--out", str(tmp_path), "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert f"adam, lr 0.01, batches of 32, float32, init xavier, {FAST_EPOCHS} epochs" in text
    assert float(text.split("test accuracy ")[1].split()[0]) >= 0.95
    assert (tmp_path / "decision_boundary.png").exists() and (tmp_path / "learning_curves.png").exists()


def test_cli_small_network_and_no_plot(tmp_path, capsys) -> None:
    assert main(["moons", "--sizes", "2-4-6-6-4-1", "--init", "article", "--epochs", "50",
                 "--no-plot", "--out", str(tmp_path / "none")]) == 0
    assert "network 2-4-6-6-4-1" in capsys.readouterr().out
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--sizes", "3-4-1"], None),
    (["--noise", "-1"], "noise must be a number >= 0"),
])
def test_cli_bad_options(argv, message, capsys, tmp_path) -> None:
    if message is None:  # argparse rejects the value itself
        with pytest.raises(SystemExit) as info:
            main(["moons", *argv, "--out", str(tmp_path)])
        assert info.value.code == 2
        assert "widths must start with 2 inputs" in capsys.readouterr().err
        return
    assert main(["moons", *argv, "--no-plot"]) == 2
    assert message in capsys.readouterr().err
