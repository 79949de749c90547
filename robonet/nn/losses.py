"""Losses computed from the logits z (the output layer before its activation), and accuracy.

The article computes the binary cross-entropy from the probabilities,

    J = -1/n sum_i [ y_i log(p_i) + (1 - y_i) log(1 - p_i) ],   p = sigma(z),

which is NaN once a prediction saturates to p = 0 or 1. Written from the logit it is finite for
every finite z (the log-sum-exp trick, as in TensorFlow's sigmoid_cross_entropy_with_logits):

    J = 1/n sum_i [ max(z_i, 0) - z_i y_i + log(1 + e^-|z_i|) ].

For a softmax output over k classes with one-hot targets y:

    J = 1/n sum_i [ logsumexp(z_i) - z_i . y_i ],   logsumexp(z) = m + log sum_k e^(z_k - m).

With its matching output activation each loss has the same gradient with respect to the logits,
dJ/dz = (p - y) / n, which is how the backward pass starts (no division by p or 1 - p).
"""
from __future__ import annotations

import numpy as np

from robonet.nn.activations import exp_floor, softmax_


def _softplus_sum(z: np.ndarray) -> float:
    """sum log(1 + e^z) computed as max(z, 0) + log1p(e^-|z|), with no overflow or underflow."""
    t = np.abs(z)
    np.negative(t, out=t)
    np.maximum(t, exp_floor(z.dtype), out=t)  # e^-700 is below anything that counts
    np.exp(t, out=t)
    np.log1p(t, out=t)
    return float(t.sum() + np.maximum(z, 0.0, out=np.empty_like(z)).sum())


def binary_cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy of labels y in [0, 1] given the logits (any matching shape)."""
    z = np.asarray(logits, dtype=np.result_type(logits, np.float32)).reshape(-1)
    y = np.asarray(y, dtype=z.dtype).reshape(-1)
    if z.size == 0:
        raise ValueError("binary_cross_entropy of an empty batch")
    return (_softplus_sum(z) - float(np.dot(z, y))) / z.size


def categorical_cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean categorical cross-entropy of (n, k) logits against one-hot (n, k) targets or
    integer class labels (n,)."""
    z = np.asarray(logits, dtype=np.result_type(logits, np.float32))
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"categorical_cross_entropy expects (n, k) logits, got shape {z.shape}")
    y = np.asarray(y)
    if y.ndim == 1:
        onehot = np.zeros_like(z)
        onehot[np.arange(z.shape[0]), y.astype(np.intp)] = 1.0
        y = onehot
    m = z.max(axis=1, keepdims=True)
    t = np.maximum(z - m, exp_floor(z.dtype))
    lse = np.log(np.exp(t).sum(axis=1)) + m[:, 0]
    return float(lse.sum() - np.vdot(z, y.astype(z.dtype))) / z.shape[0]


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of equal labels (the article's get_accuracy_value)."""
    y_true = np.asarray(y_true).reshape(-1)
    y_pred = np.asarray(y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    if y_true.size == 0:
        raise ValueError("accuracy of no labels")
    return float(np.count_nonzero(y_true == y_pred)) / y_true.size


class BinaryCrossEntropy:
    """Sigmoid output + binary cross-entropy. Targets T are (n, 1) floats in {0, 1}."""

    name = "binary_crossentropy"

    @staticmethod
    def output_delta_(z: np.ndarray, t: np.ndarray, out: np.ndarray, c) -> np.ndarray:
        """out <- (sigma(z) - t) / n: the fused gradient dJ/dz.

        ``c`` holds constant arrays of z's shape, ``c.half`` (0.5), ``c.one`` (1) and ``c.scale``
        (1/n): on arrays of one shape NumPy takes its fastest loop, while a Python scalar is
        converted and broadcast on every call (about twice the cost at batch 32).
        """
        np.multiply(z, c.half, out=out)  # sigma(z) = (1 + tanh(z/2)) / 2, see activations
        np.tanh(out, out=out)
        np.add(out, c.one, out=out)
        np.multiply(out, c.half, out=out)
        np.subtract(out, t, out=out)
        np.multiply(out, c.scale, out=out)
        return out

    @staticmethod
    def total(z: np.ndarray, t: np.ndarray) -> float:
        """Sum over samples of the loss (not the mean)."""
        return _softplus_sum(z) - float(np.vdot(z, t))

    @staticmethod
    def n_correct(z: np.ndarray, t: np.ndarray) -> int:
        """Predictions (p > 0.5, i.e. z > 0) that equal the targets."""
        return int(np.count_nonzero((z > 0.0) == (t > 0.5)))


class CategoricalCrossEntropy:
    """Softmax output + categorical cross-entropy. Targets T are one-hot (n, k)."""

    name = "categorical_crossentropy"

    @staticmethod
    def output_delta_(z: np.ndarray, t: np.ndarray, out: np.ndarray, c) -> np.ndarray:
        """out <- (softmax(z) - t) / n: the fused gradient dJ/dz (``c.scale``: 1/n in an array
        of z's shape; ``c.row``: a (n, 1) scratch row)."""
        softmax_(z, out, c.row)
        np.subtract(out, t, out=out)
        np.multiply(out, c.scale, out=out)
        return out

    @staticmethod
    def total(z: np.ndarray, t: np.ndarray) -> float:
        m = z.max(axis=1, keepdims=True)
        e = np.maximum(z - m, exp_floor(z.dtype))
        np.exp(e, out=e)
        return float(np.log(e.sum(axis=1)).sum() + m.sum() - np.vdot(z, t))

    @staticmethod
    def n_correct(z: np.ndarray, t: np.ndarray) -> int:
        return int(np.count_nonzero(z.argmax(axis=1) == t.argmax(axis=1)))


def loss_for(output_activation: str):
    """The loss that fits an output activation (the architecture check guarantees one does)."""
    return BinaryCrossEntropy if output_activation == "sigmoid" else CategoricalCrossEntropy
