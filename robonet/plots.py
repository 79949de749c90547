"""Figures: learning curves (the article's Figure 8) and decision boundaries (its Figure 7).

matplotlib is imported inside the functions and drawn with the Agg canvas, so importing robonet
never opens a window and the figures render the same with or without a display.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np


def _figure(*subplots: int, size: tuple[float, float], layout: str | None = "constrained"):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout=layout)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(*subplots) if subplots else fig.add_subplot()


def _save(fig: Any, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def plot_learning_curves(
    history: Mapping[str, Sequence[float]], path: str | os.PathLike, title: str | None = None
) -> Path:
    """Cost and accuracy per epoch (train, and validation when the history has it) as one PNG.

    ``history`` is what :meth:`robonet.nn.Network.fit` returns: lists under "cost", "accuracy"
    and optionally "val_cost", "val_accuracy". Returns the path written.
    """
    if not history.get("cost"):
        raise ValueError("the history holds no epoch (empty 'cost'): nothing to plot")
    # A fixed layout: `robonet train` draws this after every run, and constrained layout
    # (measuring every tick label) would take more than half of the drawing time.
    fig, (ax_cost, ax_acc) = _figure(1, 2, size=(9.0, 3.6), layout=None)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.84 if title else 0.9, wspace=0.25)
    epochs = np.arange(1, len(history["cost"]) + 1)
    for key, axis, label in (("cost", ax_cost, "train"), ("val_cost", ax_cost, "validation"),
                             ("accuracy", ax_acc, "train"), ("val_accuracy", ax_acc, "validation")):
        values = history.get(key)
        if values:
            axis.plot(epochs[: len(values)], values, label=label, linewidth=1.5)
    ax_cost.set(xlabel="epoch", ylabel="cost (cross-entropy)")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(0.0, 1.02))
    for axis, name in ((ax_cost, "cost"), (ax_acc, "accuracy")):
        axis.set_title(name, y=1.0)  # a fixed y: no search for overlapping tick labels on each draw
    if len(history["cost"]) > 1 and min(history["cost"]) > 0:
        ax_cost.set_yscale("log")
    for axis in (ax_cost, ax_acc):
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_decision_boundary(
    net: Any, X: np.ndarray, y: np.ndarray, path: str | os.PathLike, title: str | None = None,
    resolution: int = 300,
) -> Path:
    """The network's probability over the plane of a 2-feature data set, with the points on top.

    ``net`` has ``predict_proba`` (n, 2) -> (n,); ``X`` is (n, 2) and ``y`` (n,) in {0, 1}.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs X of shape (n, 2), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
    margin = 0.5
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    proba = np.asarray(net.predict_proba(grid)).reshape(gx.shape)

    fig, ax = _figure(size=(6.0, 5.0))
    surface = ax.contourf(gx, gy, proba, levels=np.linspace(0.0, 1.0, 21), cmap="RdBu_r", alpha=0.8)
    ax.contour(gx, gy, proba, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", linewidths=0.5, s=18)
    fig.colorbar(surface, ax=ax, label="P(class 1)")
    ax.set(xlabel="x1", ylabel="x2", xlim=(x0, x1), ylim=(y0, y1))
    if title:
        ax.set_title(title)
    return _save(fig, path)
