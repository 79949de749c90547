"""Activation functions and their derivatives (the article's Snippet 3, made overflow-safe).

Each activation is a pair: ``forward(z)`` computes ``a = g(z)`` and ``derivative(a)`` gives
``g'(z)`` written from the *output* ``a`` (as scikit-learn does), so the backward pass needs to
keep only the activations, never ``Z``. The ``*_`` variants work in place on preallocated buffers;
they are what the training step calls.

Hidden layers may use relu, leaky_relu, tanh, sigmoid or linear. The output layer uses sigmoid
(one unit, binary cross-entropy) or softmax (two units or more, categorical cross-entropy); there the
derivative is fused with the loss into ``(p - y) / n`` (see :mod:`robonet.nn.losses`), so softmax
has no elementwise derivative here.

Nothing here overflows or underflows for ``|z| = 1000``: sigmoid is ``(1 + tanh(z/2)) / 2`` and
softmax exponentiates ``z - max(z)`` clipped from below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

LEAKY_SLOPE = 0.01  # slope of leaky_relu for z < 0, as in Keras and PyTorch


def exp_floor(dtype: np.dtype) -> float:
    """Most negative argument whose exp is still a normal number (no underflow flag)."""
    return -700.0 if np.dtype(dtype) == np.float64 else -80.0


# --- In-place kernels, called by the training step on preallocated buffers:
# --- ``forward_(z, scratch, zero)`` overwrites z with g(z); ``backward_(delta, a, scratch)``
# --- multiplies delta by g'(z) in place, reading g(z) from a. ``scratch`` has z's shape and is
# --- clobbered, so that no kernel allocates. ``zero`` is 0.0 or, in the training step, an array of
# --- zeros of z's shape: NumPy runs ``maximum(z, zeros)`` on its fast same-shape loop, 2-5x faster
# --- than ``maximum(z, 0.0)``, whose scalar is converted and broadcast on every call (measured at
# --- 32 x 50 and 900 x 50, float32 and float64).


def _relu_forward_(z: np.ndarray, scratch: np.ndarray | None, zero: np.ndarray | float = 0.0) -> np.ndarray:
    return np.maximum(z, zero, out=z)


def _relu_backward_(delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    # g'(z) = 1 if z > 0 else 0, and a = relu(z) >= 0, so g'(z) = sign(a): a float ufunc with no
    # bool-to-float cast, which would allocate a buffer on every call.
    np.sign(a, out=scratch)
    return np.multiply(delta, scratch, out=delta)


def _leaky_relu_forward_(z: np.ndarray, scratch: np.ndarray | None, zero: np.ndarray | float = 0.0) -> np.ndarray:
    # max(z, s*z) is z for z > 0 and s*z below, for any slope 0 < s < 1.
    scratch = np.empty_like(z) if scratch is None else scratch
    np.multiply(z, LEAKY_SLOPE, out=scratch)
    return np.maximum(z, scratch, out=z)


def _leaky_relu_backward_(delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    np.greater(a, 0.0, out=scratch)  # 1 or 0, then mapped to 1 or the slope
    scratch *= 1.0 - LEAKY_SLOPE
    scratch += LEAKY_SLOPE
    return np.multiply(delta, scratch, out=delta)


def _tanh_forward_(z: np.ndarray, scratch: np.ndarray, zero: np.ndarray | float = 0.0) -> np.ndarray:
    return np.tanh(z, out=z)


def _tanh_backward_(delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    np.multiply(a, a, out=scratch)
    np.subtract(1.0, scratch, out=scratch)  # 1 - tanh^2
    return np.multiply(delta, scratch, out=delta)


def sigmoid_(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out <- sigma(z) = 1 / (1 + e^-z) = (1 + tanh(z/2)) / 2; the tanh form never overflows."""
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def _sigmoid_forward_(z: np.ndarray, scratch: np.ndarray, zero: np.ndarray | float = 0.0) -> np.ndarray:
    return sigmoid_(z, z)


def _sigmoid_backward_(delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    np.subtract(1.0, a, out=scratch)
    scratch *= a  # sigma' = sigma (1 - sigma)
    return np.multiply(delta, scratch, out=delta)


def _linear_forward_(z: np.ndarray, scratch: np.ndarray, zero: np.ndarray | float = 0.0) -> np.ndarray:
    return z


def _linear_backward_(delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    return delta


def softmax_(z: np.ndarray, out: np.ndarray, row_buf: np.ndarray) -> np.ndarray:
    """out <- softmax(z) row by row: e^(z_k - m) / sum_j e^(z_j - m), m = max_j z_j.

    ``row_buf`` is a (n, 1) scratch buffer. The shifted logits are clipped from below so that
    e^(z - m) never underflows (their share is below 1e-300 anyway).
    """
    np.max(z, axis=1, keepdims=True, out=row_buf)
    np.subtract(z, row_buf, out=out)
    np.maximum(out, exp_floor(z.dtype), out=out)
    np.exp(out, out=out)
    np.sum(out, axis=1, keepdims=True, out=row_buf)
    out /= row_buf
    return out


def _softmax_forward_(z: np.ndarray, scratch: np.ndarray, zero: np.ndarray | float = 0.0) -> np.ndarray:
    return softmax_(z, z, np.empty((z.shape[0], 1), dtype=z.dtype))


@dataclass(frozen=True)
class Activation:
    """One activation: its name, whether it may be a hidden or an output layer, its kernels."""

    name: str
    forward_: Callable[..., np.ndarray]  # (z, scratch[, zero]): z <- g(z)
    backward_: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None  # (delta, a, scratch)
    hidden: bool = True
    output: bool = False

    def forward(self, z: np.ndarray) -> np.ndarray:
        """a = g(z), a new array (z is left alone)."""
        z = np.array(z, dtype=np.result_type(z, np.float32), copy=True)
        shape = z.shape
        z2 = z.reshape(1, -1) if z.ndim < 2 else z  # softmax works on rows
        return self.forward_(z2, np.empty_like(z2)).reshape(shape)

    def derivative(self, a: np.ndarray) -> np.ndarray:
        """g'(z) written from a = g(z) (not available for softmax: see the module docstring)."""
        if self.backward_ is None:
            raise ValueError(f"activation {self.name!r} has no elementwise derivative")
        a = np.asarray(a)
        return self.backward_(np.ones_like(a), a, np.empty_like(a))


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", _relu_forward_, _relu_backward_),
    "leaky_relu": Activation("leaky_relu", _leaky_relu_forward_, _leaky_relu_backward_),
    "tanh": Activation("tanh", _tanh_forward_, _tanh_backward_),
    "sigmoid": Activation("sigmoid", _sigmoid_forward_, _sigmoid_backward_, output=True),
    "linear": Activation("linear", _linear_forward_, _linear_backward_),
    "softmax": Activation("softmax", _softmax_forward_, None, hidden=False, output=True),
}
HIDDEN_ACTIVATIONS = sorted(name for name, act in ACTIVATIONS.items() if act.hidden)
OUTPUT_ACTIVATIONS = sorted(name for name, act in ACTIVATIONS.items() if act.output)


def get_activation(name: str) -> Activation:
    """The activation called ``name``; ValueError listing the valid names otherwise."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}"
        ) from None


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise, without overflow for any finite z."""
    return ACTIVATIONS["sigmoid"].forward(z)


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis of a (n, k) or (k,) array, without overflow or underflow."""
    return ACTIVATIONS["softmax"].forward(z)
