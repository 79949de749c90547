"""Imports of the optional peers (PyTorch, Keras, scikit-learn, SB3) and of robonet's pieces.

Every import goes through here so that a missing package becomes ``Unavailable`` with the
reason and the fix, which the runner prints in the results and the smoke test turns into a skip.
"""
from __future__ import annotations

import importlib
import os
from typing import Any

import numpy as np

from bench.harness import Unavailable

_INSTALL = 'install the benchmark peers with: pip install -e ".[bench]"'


def need(module: str, what: str | None = None) -> Any:
    """Import ``module`` or raise Unavailable naming it."""
    if module == "keras":
        # Keras 3 picks its backend at import; TensorFlow is not installed, PyTorch is.
        os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        hint = _INSTALL if module.split(".")[0] in {"torch", "keras", "sklearn",
                                                     "stable_baselines3"} else "not landed yet"
        raise Unavailable(f"{what or module} not importable ({exc}); {hint}") from exc


def robonet_nn():
    nn = need("robonet.nn", "robonet.nn (issue 2)")
    for name in ("Network", "Trainer"):
        if not hasattr(nn, name):
            raise Unavailable(f"robonet.nn.{name} not available yet (issue 2)")
    return nn


def torch_mlp(sizes: list[int], hidden: str = "relu", weights: list[np.ndarray] | None = None,
              dtype=None):
    """A PyTorch MLP with ``sizes`` (inputs ... outputs), logits out (no output activation).

    ``weights`` = robonet's ``[W1, b1, W2, b2, ...]`` (W as (out, in), the layout of
    ``torch.nn.Linear.weight``) to start both frameworks from the same parameters.
    """
    torch = need("torch")
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[hidden]
    layers: list = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(act())
    model = torch.nn.Sequential(*layers)
    if dtype is not None:
        model = model.to(dtype)
    if weights is not None:
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        with torch.no_grad():
            for lin, W, b in zip(linears, weights[0::2], weights[1::2]):
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
                lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(b).reshape(-1)))
    return model


def versions() -> dict[str, str]:
    """Installed versions of everything the results depend on (missing -> 'not installed')."""
    from importlib import metadata
    import platform

    out = {"python": platform.python_version()}
    for dist in ("numpy", "torch", "keras", "scikit-learn", "stable-baselines3", "gymnasium",
                 "robonet", "threadpoolctl", "psutil", "matplotlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out
