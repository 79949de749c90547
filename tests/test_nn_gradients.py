"""Backpropagation against finite differences, in float64, for every activation and both losses.

For each parameter entry theta_j, the central difference (J(theta + h e_j) - J(theta - h e_j)) / 2h
of ``net.loss`` must match ``net.gradients`` (scikit-learn's ``test_gradient`` does the same).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from robonet.nn import HIDDEN_ACTIVATIONS, Network, Trainer, sizes_to_architecture
from robonet.nn.optimizers import SGD

H = 1e-6


def numerical_gradients(loss, params: list[np.ndarray]) -> list[np.ndarray]:
    """Central differences of loss() with respect to every entry of the live arrays params."""
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for index in np.ndindex(p.shape):
            old = p[index]
            p[index] = old + H
            up = loss()
            p[index] = old - H
            down = loss()
            p[index] = old
            g[index] = (up - down) / (2 * H)
        grads.append(g)
    return grads


def random_problem(rng: np.random.Generator, sizes: list[int], n: int):
    X = rng.normal(size=(n, sizes[0]))
    k = sizes[-1]
    y = rng.integers(0, 2, n) if k == 1 else rng.integers(0, k, n)
    return X, y


def assert_gradients_match(net: Network, X: np.ndarray, y: np.ndarray) -> None:
    analytic = net.gradients(X, y)
    numeric = numerical_gradients(lambda: net.loss(X, y), net.parameters())
    assert len(analytic) == len(net.parameters())
    for index, (a, g, p) in enumerate(zip(analytic, numeric, net.parameters())):
        assert a.shape == p.shape, f"gradient {index} has shape {a.shape}, parameter {p.shape}"
        np.testing.assert_allclose(a, g, rtol=1e-5, atol=1e-7, err_msg=f"parameter {index}")


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_gradients_every_activation_and_loss(hidden: str, output: str) -> None:
    rng = np.random.default_rng([len(hidden), len(output)])
    sizes = [3, 5, 4, 1 if output == "sigmoid" else 3]
    net = Network(sizes_to_architecture(sizes, hidden, output), seed=7)
    X, y = random_problem(rng, sizes, n=11)
    assert_gradients_match(net, X, y)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    n_inputs=st.integers(1, 4),
    n_classes=st.sampled_from([1, 2, 4]),
    activations=st.lists(st.sampled_from(HIDDEN_ACTIVATIONS), min_size=3, max_size=3),
    n=st.integers(1, 9),
    seed=st.integers(0, 2**32 - 1),
)
def test_gradients_random_architectures(sizes, n_inputs, n_classes, activations, n, seed) -> None:
    """Random depth, widths, per-layer activations, batch size; sigmoid for 1 unit, else softmax."""
    widths = [n_inputs, *sizes, n_classes]
    architecture = [
        {
            "input_dim": widths[i],
            "output_dim": widths[i + 1],
            "activation": activations[i] if i < len(widths) - 2 else ("sigmoid" if n_classes == 1 else "softmax"),
        }
        for i in range(len(widths) - 1)
    ]
    net = Network(architecture, seed=seed)
    # Keep pre-activations away from relu kinks, where the central difference is not the derivative.
    rng = np.random.default_rng(seed)
    for b in net.parameters()[1::2]:
        b += rng.uniform(0.05, 0.1, b.shape) * rng.choice([-1, 1], b.shape)
    X, y = random_problem(rng, widths, n)
    assert_gradients_match(net, X, y)


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_gradients_one_hot_targets_equal_integer_labels(output: str) -> None:
    rng = np.random.default_rng(3)
    k = 1 if output == "sigmoid" else 3
    net = Network(sizes_to_architecture([2, 4, k], "tanh", output), seed=1)
    X, y = random_problem(rng, [2, 4, k], 8)
    if k > 1:
        onehot = np.eye(k)[y]
        for a, b in zip(net.gradients(X, y), net.gradients(X, onehot)):
            np.testing.assert_array_equal(a, b)
    else:
        for a, b in zip(net.gradients(X, y), net.gradients(X, y.reshape(-1, 1).astype(float))):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_l2_update_is_gradient_of_decayed_loss(output: str) -> None:
    """With L2 weight decay lambda, one SGD step of size 1 moves theta by the gradient of
    loss + lambda/2 sum ||W_l||^2 (biases are not decayed)."""
    lam = 0.3
    rng = np.random.default_rng(11)
    k = 1 if output == "sigmoid" else 3
    net = Network(sizes_to_architecture([3, 4, 4, k], "tanh", output), seed=2)
    X, y = random_problem(rng, [3, 4, 4, k], 10)

    def decayed_loss() -> float:
        return net.loss(X, y) + 0.5 * lam * sum(float(np.sum(W * W)) for W in net.parameters()[0::2])

    numeric = numerical_gradients(decayed_loss, net.parameters())
    before = [p.copy() for p in net.parameters()]
    trainer = Trainer(net, optimizer=SGD(learning_rate=1.0, l2=lam))
    trainer.step(X, y)
    step = [b - p for b, p in zip(before, net.parameters())]
    for index, (s, g) in enumerate(zip(step, numeric)):
        np.testing.assert_allclose(s, g, rtol=1e-5, atol=1e-7, err_msg=f"parameter {index}")


def test_gradient_of_saturated_outputs_is_finite_and_right() -> None:
    """Confident, wrong predictions: the article's dA = -(y/p - (1-y)/(1-p)) divides by zero
    here; the fused delta (p - y) / n stays exact."""
    net = Network([{"input_dim": 1, "output_dim": 1, "activation": "sigmoid"}], seed=0)
    W, b = net.parameters()
    W[...] = 1000.0
    b[...] = 0.0
    X = np.array([[1.0], [-1.0]])
    y = np.array([0, 1])  # both wrong with certainty
    grads = net.gradients(X, y)
    # dJ/dW = mean((p - y) x) = mean((1 - 0) * 1, (0 - 1) * -1) = 1; dJ/db = mean(1, -1) = 0
    np.testing.assert_allclose(grads[0], [[1.0]])
    np.testing.assert_allclose(grads[1], [0.0], atol=1e-12)
    assert np.isfinite(net.loss(X, y))
    assert net.loss(X, y) == pytest.approx(1000.0)
