"""Gradient-descent updates over the network's flat parameter vector, in place.

Every parameter of a :class:`~robonet.nn.network.Network` is a view into one contiguous vector
theta, and every gradient a view into one vector g of the same layout (weights first, then
biases). An update is therefore a handful of ufunc calls on two vectors, whatever the number of
layers, and allocates nothing (the article's Snippet 9 loops over layers and dict keys).

With L2 weight decay lambda the weights' gradient gets lambda * W added (the gradient of
lambda/2 * ||W||^2, as PyTorch's ``weight_decay``); biases are not decayed.
"""
from __future__ import annotations

import math
import numbers

import numpy as np


def is_number(value: object) -> bool:
    """A real number (NumPy scalars included), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class Optimizer:
    """Base class: binds to a network's flat vectors, then ``step()`` applies one update."""

    name = "optimizer"

    def __init__(self, learning_rate: float = 0.01, l2: float = 0.0) -> None:
        if not (is_number(learning_rate) and math.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        if not (is_number(l2) and math.isfinite(l2) and l2 >= 0):
            raise ValueError(f"l2 must be a number >= 0, got {l2!r}")
        self.learning_rate = float(learning_rate)
        self.l2 = float(l2)
        self._theta: np.ndarray | None = None

    def bind(self, theta: np.ndarray, grad: np.ndarray, n_weights: int) -> "Optimizer":
        """Attach to the flat parameter and gradient vectors; the first n_weights are weights."""
        self._theta, self._grad = theta, grad
        self._tmp = np.empty_like(theta)
        self._theta_w, self._grad_w, self._tmp_w = theta[:n_weights], grad[:n_weights], self._tmp[:n_weights]
        self._allocate(theta)
        return self

    def _allocate(self, theta: np.ndarray) -> None:
        pass

    def reset(self) -> None:
        """Forget the running state (velocities, moments, step count)."""
        if self._theta is not None:
            self._allocate(self._theta)

    def step(self) -> None:
        """theta <- update(theta, g), in place."""
        if self.l2:
            np.multiply(self._theta_w, self.l2, out=self._tmp_w)
            self._grad_w += self._tmp_w
        self._update()

    def _update(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent, the article's update: theta <- theta - alpha g."""

    name = "sgd"

    def _update(self) -> None:
        np.multiply(self._grad, self.learning_rate, out=self._tmp)
        self._theta -= self._tmp


class Momentum(Optimizer):
    """Heavy-ball momentum (PyTorch's form): v <- mu v + g; theta <- theta - alpha v."""

    name = "momentum"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9, l2: float = 0.0) -> None:
        super().__init__(learning_rate, l2)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)

    def _allocate(self, theta: np.ndarray) -> None:
        self._velocity = np.zeros_like(theta)

    def _update(self) -> None:
        v = self._velocity
        v *= self.momentum
        v += self._grad
        np.multiply(v, self.learning_rate, out=self._tmp)
        self._theta -= self._tmp


class Adam(Optimizer):
    """Adam (Kingma & Ba), with bias correction folded into the step size:

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
        theta <- theta - alpha_t m / (sqrt(v) + eps_t),
        alpha_t = alpha sqrt(1 - b2^t) / (1 - b1^t),   eps_t = eps sqrt(1 - b2^t),

    which is exactly PyTorch's and Keras's alpha m_hat / (sqrt(v_hat) + eps), in fewer passes.
    """

    name = "adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        l2: float = 0.0,
    ) -> None:
        super().__init__(learning_rate, l2)
        for label, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{label} must be in [0, 1), got {beta!r}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _allocate(self, theta: np.ndarray) -> None:
        self._m = np.zeros_like(theta)
        self._v = np.zeros_like(theta)
        self.t = 0

    def _update(self) -> None:
        self.t += 1
        b1, b2, g, tmp = self.beta1, self.beta2, self._grad, self._tmp
        correction2 = math.sqrt(1.0 - b2**self.t)
        step_size = self.learning_rate * correction2 / (1.0 - b1**self.t)
        # m += (1 - b1) (g - m)
        np.subtract(g, self._m, out=tmp)
        tmp *= 1.0 - b1
        self._m += tmp
        # v += (1 - b2) (g^2 - v)
        np.multiply(g, g, out=tmp)
        tmp -= self._v
        tmp *= 1.0 - b2
        self._v += tmp
        # theta -= step_size m / (sqrt(v) + eps_t)
        np.sqrt(self._v, out=tmp)
        tmp += self.eps * correction2
        np.divide(self._m, tmp, out=tmp)
        tmp *= step_size
        self._theta -= tmp


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(optimizer: str | Optimizer, learning_rate: float, l2: float = 0.0) -> Optimizer:
    """An optimizer from its name (with this learning rate and L2), or the instance given."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    try:
        cls = OPTIMIZERS[optimizer]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {sorted(OPTIMIZERS)}") from None
    return cls(learning_rate=learning_rate, l2=l2)
