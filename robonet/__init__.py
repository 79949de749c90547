"""robonet: a plain-NumPy neural network that learns to drive simulated robots.

The network (``robonet.nn``) is the article "Let's code a Neural Network in plain NumPy" done
right and fast; the robots live in ``robonet.envs``; the rest of the package is the pipeline
that joins them: collect sensor logs, train a controller, evaluate it, watch it drive.

Heavy modules are imported lazily so that ``import robonet`` stays cheap and ``robonet.nn``
needs nothing but NumPy.
"""
from __future__ import annotations

__version__ = "0.1.0"

# name -> module that defines it; resolved on first access (PEP 562).
_LAZY = {
    "Network": "robonet.nn",
    "load_logs": "robonet.logs",
    "load_controller": "robonet.controller",
    "Controller": "robonet.controller",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'robonet' has no attribute {name!r}")
