"""The dense network: parameters, forward and backward propagation, loss, prediction.

Shapes (row-major, as scikit-learn and Gymnasium batches): X is (n, n_inputs); layer l has
W_l of shape (output_dim, input_dim) and b_l of shape (output_dim,), as in the article, and

    Z_l = A_{l-1} W_l^T + b_l,    A_l = g_l(Z_l),    A_0 = X          (forward)

    dZ_L = (P - Y) / n                                                (fused output delta)
    dW_l = dZ_l^T A_{l-1},   db_l = sum_rows dZ_l                      (backward)
    dZ_{l-1} = (dZ_l W_l) * g'_{l-1}(Z_{l-1})

All parameters live in one contiguous vector (weights W_1..W_L first, then biases b_1..b_L) and
``parameters()`` returns views into it; the gradients live in a second vector of the same layout.
An optimizer thus updates the whole network in a few vector operations, and the training step
works in per-batch-size buffers that are allocated once.
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable, Sequence

import numpy as np

from robonet.nn.activations import ACTIVATIONS, sigmoid_, softmax_
from robonet.nn.architecture import Layer, load_architecture, to_dicts, validate_architecture
from robonet.nn.losses import loss_for

INITS = ("auto", "he", "xavier", "glorot", "article")
DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
_MAX_WORKSPACES = 4  # batch sizes kept: full batch, minibatch, its remainder, one more


class _Workspace:
    """Buffers for one batch size n, and the step's plan over them.

    Z_l (n, out_l) holds Z_l, overwritten in place by A_l; D_l the deltas dZ_l; S_l a scratch
    array per layer; ``row`` a (n, 1) buffer for softmax. The constants are arrays rather than
    Python scalars because NumPy runs a ufunc on operands of one shape on its fastest loop, while a
    scalar is converted and broadcast on every call: at batch 32 a step is some 50 NumPy calls
    of a microsecond or two each, so what a call costs besides its arithmetic sets the pace.

    ``forward_plan`` and ``backward_plan`` list, per hidden layer, the arrays and kernels that
    ``Network._forward`` and ``Network._backward`` use, looked up once here rather than on every
    step (the views into the parameter vector never move).
    """

    def __init__(self, net: "Network", n: int) -> None:
        layers, dtype = net.layers, net.dtype
        self.n = n
        self.Z = [np.empty((n, layer.output_dim), dtype) for layer in layers]
        self.D = [np.empty((n, layer.output_dim), dtype) for layer in layers]
        self.S = [np.empty((n, layer.output_dim), dtype) for layer in layers]
        self.row = np.empty((n, 1), dtype)
        # db_l = 1^T dZ_l as a BLAS matrix-vector product: 4-6x faster than np.sum(axis=0).
        self.ones = np.ones(n, dtype)
        # relu's kernel reads an array of zeros (maximum(z, zeros)); the other kernels ignore it
        zero = [np.zeros((n, layer.output_dim), dtype) if layer.activation == "relu" else 0.0
                for layer in layers[:-1]]
        k = layers[-1].output_dim
        self.scale = np.full((n, k), 1.0 / n, dtype)
        if net.loss_name == "binary_crossentropy":  # the sigmoid delta's constants
            self.half, self.one = np.full((n, k), 0.5, dtype), np.ones((n, k), dtype)
        hidden = net._hidden
        self.forward_plan = [
            (net._WT[l], net._b[l], self.Z[l], hidden[l].forward_, self.S[l], zero[l])
            for l in range(len(layers) - 1)
        ]
        self.backward_plan = [  # from the last layer down to layer 2 (0-based l = L-1 .. 1)
            (self.D[l], net._gW[l], net._gb[l], net._W[l], self.D[l - 1], self.Z[l - 1],
             self.S[l - 1], hidden[l - 1].backward_)
            for l in range(len(layers) - 1, 0, -1)
        ]


class Network:
    """A dense feed-forward network described by the article's list of layer dicts.

    Parameters
    ----------
    architecture:
        list of ``{"input_dim", "output_dim", "activation"}`` dicts (see
        :mod:`robonet.nn.architecture`), or the path of a JSON file holding one; the last layer is sigmoid with one unit (binary
        cross-entropy) or softmax with two units or more (categorical cross-entropy).
    seed:
        seeds ``numpy.random.default_rng`` for the initial weights and, unless ``fit`` gets its own
        seed, the minibatch shuffling. The global NumPy state is never touched.
    init:
        "auto" (He for relu and leaky_relu layers, Xavier/Glorot for the others), "he",
        "xavier" (or "glorot"), or "article" (standard normal times 0.1, weights and biases).
    dtype:
        numpy.float64 (default, like the article) or numpy.float32 (faster; inputs are cast once).
    """

    def __init__(
        self,
        architecture: Sequence[dict[str, Any]] | str | os.PathLike,
        seed: int | None = None,
        init: str = "auto",
        dtype: Any = np.float64,
    ) -> None:
        if isinstance(architecture, (str, os.PathLike)):
            if not os.path.isfile(architecture):
                raise ValueError(
                    "architecture must be a list of layer dicts or the path of a JSON file holding "
                    f"one, got {os.fspath(architecture)!r} (no such file)"
                )
            architecture = load_architecture(architecture)
        self._layers = validate_architecture(architecture)
        try:
            self._dtype = np.dtype(dtype)
        except TypeError:
            raise ValueError(f"dtype must be float64 or float32, got {dtype!r}") from None
        if self._dtype not in DTYPES:
            raise ValueError(f"dtype must be float64 or float32, got {self._dtype.name}")
        self._rng = np.random.default_rng(seed)
        self._loss = loss_for(self._layers[-1].activation)
        self._hidden = [ACTIVATIONS[layer.activation] for layer in self._layers[:-1]]
        self.metadata: dict[str, Any] = {}

        # One vector for all parameters: [W_1 ... W_L, b_1 ... b_L]; the optimizers rely on the
        # weights coming first (L2 decays theta[:n_weights] only).
        w_sizes = [layer.output_dim * layer.input_dim for layer in self._layers]
        b_sizes = [layer.output_dim for layer in self._layers]
        self.n_weights = sum(w_sizes)
        self._theta = np.zeros(self.n_weights + sum(b_sizes), self._dtype)
        self._grad = np.zeros_like(self._theta)
        self._W, self._b = self._views(self._theta, w_sizes, b_sizes)
        self._gW, self._gb = self._views(self._grad, w_sizes, b_sizes)
        self._WT = [W.T for W in self._W]  # (in, out) views for Z = A W^T
        self._workspaces: dict[int, _Workspace] = {}
        self.init_parameters(init)

    def _views(self, flat: np.ndarray, w_sizes: list[int], b_sizes: list[int]):
        Ws, bs, start = [], [], 0
        for layer, size in zip(self._layers, w_sizes):
            Ws.append(flat[start : start + size].reshape(layer.output_dim, layer.input_dim))
            start += size
        for size in b_sizes:
            bs.append(flat[start : start + size])
            start += size
        return Ws, bs

    # ------------------------------------------------------------------ description

    @property
    def architecture(self) -> list[dict[str, Any]]:
        """The article's list of layer dicts (a fresh copy)."""
        return to_dicts(self._layers)

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self._layers

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def n_inputs(self) -> int:
        return self._layers[0].input_dim

    @property
    def n_outputs(self) -> int:
        return self._layers[-1].output_dim

    @property
    def loss_name(self) -> str:
        """"binary_crossentropy" (sigmoid output) or "categorical_crossentropy" (softmax)."""
        return self._loss.name

    @property
    def flat_parameters(self) -> np.ndarray:
        """All parameters as one live vector [W_1 ... W_L, b_1 ... b_L] (raveled row-major)."""
        return self._theta

    @property
    def flat_gradients(self) -> np.ndarray:
        """The gradient vector written by the last backward pass, same layout."""
        return self._grad

    def parameters(self) -> list[np.ndarray]:
        """[W_1, b_1, W_2, b_2, ...]: live views; editing one in place changes the network."""
        return [p for pair in zip(self._W, self._b) for p in pair]

    def __repr__(self) -> str:
        sizes = "-".join(str(n) for n in [self.n_inputs] + [layer.output_dim for layer in self._layers])
        acts = ",".join(layer.activation for layer in self._layers)
        return f"Network({sizes}, activations={acts}, dtype={self._dtype.name})"

    # ------------------------------------------------------------------ init (article: init_layers)

    def init_parameters(self, init: str = "auto", seed: int | None = None) -> None:
        """Fill the parameters afresh, layer by layer (W then b, drawing in the article's order).

        he: W ~ N(0, 2 / fan_in), b = 0. xavier/glorot: W ~ U(-r, r), r = sqrt(6 / (fan_in +
        fan_out)), b = 0. article: W, b ~ N(0, 1) * 0.1. auto: he for relu and leaky_relu,
        xavier otherwise.
        """
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; expected one of {list(INITS)}")
        rng = self._rng if seed is None else np.random.default_rng(seed)
        for layer, W, b in zip(self._layers, self._W, self._b):
            method = init
            if method == "auto":
                method = "he" if layer.activation in ("relu", "leaky_relu") else "xavier"
            fan_in, fan_out = layer.input_dim, layer.output_dim
            if method == "article":
                W[...] = rng.standard_normal(W.shape) * 0.1
                b[...] = rng.standard_normal(b.shape) * 0.1
            elif method == "he":
                W[...] = rng.standard_normal(W.shape) * math.sqrt(2.0 / fan_in)
                b[...] = 0.0
            else:  # xavier / glorot (uniform)
                limit = math.sqrt(6.0 / (fan_in + fan_out))
                W[...] = rng.uniform(-limit, limit, W.shape)
                b[...] = 0.0

    # ------------------------------------------------------------------ input checks

    def _check_X(self, X: Any, name: str = "X", allow_1d: bool = True) -> np.ndarray:
        """X as a C-contiguous array of the network's dtype, (n, n_inputs) or (n_inputs,)."""
        if not isinstance(X, np.ndarray):
            try:
                X = np.asarray(X)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{name} is not a rectangular numeric array ({exc})") from None
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric, got an array of dtype {X.dtype}")
        if X.ndim == 2:
            if X.shape[1] != self.n_inputs:
                raise ValueError(
                    f"{name} has {X.shape[1]} features, but the network expects {self.n_inputs}"
                )
            if X.shape[0] == 0:
                raise ValueError(f"{name} is empty (0 samples)")
        elif X.ndim == 1 and allow_1d:
            if X.shape[0] != self.n_inputs:
                raise ValueError(
                    f"{name} has {X.shape[0]} features, but the network expects {self.n_inputs}"
                )
        else:
            expected = "2-D (n_samples, n_features)" + (" or 1-D (one observation)" if allow_1d else "")
            raise ValueError(f"{name} must be {expected}, got shape {X.shape}")
        original = X
        if X.dtype != self._dtype or not X.flags.c_contiguous:
            with np.errstate(over="ignore"):  # a value too large for float32 is reported below
                X = np.ascontiguousarray(X, dtype=self._dtype)
        # isfinite rather than a sum: a sum of huge finite values overflows (and warns), and
        # isfinite(X).all() measured as fast for a batch and twice as fast for a big X.
        if not np.isfinite(X).all():
            where = tuple(np.argwhere(~np.isfinite(X))[0])
            place = f"row {where[0]}, column {where[1]}" if X.ndim == 2 else f"index {where[0]}"
            value = original[where]
            if np.isfinite(value):  # finite in the caller's array: the cast overflowed
                raise ValueError(
                    f"{name} holds {float(value):g} at {place}, too large for the network's {self._dtype.name}"
                )
            raise ValueError(f"{name} contains {'NaN' if np.isnan(value) else 'inf'} at {place}")
        return X

    def _check_y(self, y: Any, n: int, name: str = "y") -> np.ndarray:
        """Labels -> targets T of shape (n, n_outputs) in the network's dtype.

        Sigmoid output: y of shape (n,) or (n, 1) with values 0 or 1. Softmax output: integer
        class labels (n,) in 0..k-1, or one-hot rows (n, k).
        """
        try:
            y = np.asarray(y)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name} is not a rectangular numeric array ({exc})") from None
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric, got an array of dtype {y.dtype}")
        k = self.n_outputs
        if y.ndim == 0 or y.ndim > 2:
            raise ValueError(f"{name} must be 1-D (n_samples,), got shape {y.shape}")
        if y.shape[0] != n:
            raise ValueError(f"X has {n} samples but {name} has {y.shape[0]}")
        if y.dtype.kind == "f":
            bad = ~np.isfinite(y)
            if bad.any():
                index = int(np.argmax(bad.reshape(n, -1).any(axis=1)))
                what = "NaN" if np.isnan(y.reshape(n, -1)[index]).any() else "inf"
                raise ValueError(f"{name} contains {what} at index {index}")
        if self._loss.name == "binary_crossentropy":
            if not (y.ndim == 1 or y.shape[1] == 1):
                raise ValueError(f"{name} must have shape (n_samples,) for a sigmoid output, got {y.shape}")
            flat = y.reshape(-1)
            bad = (flat != 0) & (flat != 1)
            if bad.any():
                index = int(np.argmax(bad))
                raise ValueError(
                    f"labels must be 0 or 1 for a sigmoid output, found {flat[index]:g} at index {index}"
                )
            return np.ascontiguousarray(flat.reshape(n, 1), dtype=self._dtype)
        if y.ndim == 1:
            bad = (y != np.round(y)) | (y < 0) | (y >= k) if y.dtype.kind == "f" else (y < 0) | (y >= k)
            if bad.any():
                index = int(np.argmax(bad))
                raise ValueError(
                    f"labels must be integers in 0..{k - 1} for a softmax output with {k} classes, "
                    f"found {y[index]:g} at index {index}"
                )
            T = np.zeros((n, k), self._dtype)
            T[np.arange(n), y.astype(np.intp)] = 1.0
            return T
        if y.shape[1] != k:
            raise ValueError(f"one-hot {name} has {y.shape[1]} columns, but the network has {k} outputs")
        bad = ((y != 0) & (y != 1)).any(axis=1) | (y.sum(axis=1) != 1)
        if bad.any():
            index = int(np.argmax(bad))
            raise ValueError(f"one-hot {name} row {index} is not a single 1 among 0s: {y[index].tolist()}")
        return np.ascontiguousarray(y, dtype=self._dtype)

    def _check_Xy(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X = self._check_X(X, allow_1d=False)
        return X, self._check_y(y, X.shape[0])

    # ------------------------------------------------------------------ forward (article: Snippets 4-5)

    def _logits(self, X: np.ndarray) -> np.ndarray:
        """The lean forward pass of prediction: Z_L for a checked X, (n, k) or (k,); keeps nothing."""
        A = X
        if X.ndim == 1:  # one observation: matrix-vector products
            for W, b, act in zip(self._W, self._b, self._hidden):
                A = act.forward_(np.dot(W, A) + b, None)
            return np.dot(self._W[-1], A) + self._b[-1]
        for WT, b, act in zip(self._WT, self._b, self._hidden):
            Z = np.dot(A, WT)
            Z += b
            A = act.forward_(Z, None)
        Z = np.dot(A, self._WT[-1])
        Z += self._b[-1]
        return Z

    def _workspace(self, n: int) -> _Workspace:
        ws = self._workspaces.get(n)
        if ws is None:
            if len(self._workspaces) >= _MAX_WORKSPACES:
                self._workspaces.pop(next(iter(self._workspaces)))
            ws = self._workspaces[n] = _Workspace(self, n)
        return ws

    def _forward(self, X: np.ndarray, ws: _Workspace, logits: np.ndarray) -> None:
        """Training forward pass into the workspace; the output layer's Z goes to ``logits``.

        Per hidden layer: Z_l = A_{l-1} W_l^T (one GEMM into Z_l), Z_l += b_l, A_l = g(Z_l) in
        place, so that A_l overwrites Z_l: the derivative reads A_l only.
        """
        dot, add = np.dot, np.add
        A = X
        for WT, b, Z, forward_, S, zero in ws.forward_plan:
            dot(A, WT, out=Z)
            # The broadcast bias makes NumPy's iterator allocate a small buffer (~7.5 kB) per
            # call; the allocation-free alternative (ones @ b into a buffer, then a same-shape
            # add) measured 5-10% slower at batch 32 and 900, so the step keeps this one.
            add(Z, b, out=Z)
            forward_(Z, S, zero)
            A = Z
        dot(A, self._WT[-1], out=logits)
        add(logits, self._b[-1], out=logits)

    # ------------------------------------------------------------------ backward (article: Snippets 7-8)

    def _backward(self, X: np.ndarray, T: np.ndarray, ws: _Workspace, logits: np.ndarray) -> None:
        """Gradients of the mean loss into the gradient vector, after ``_forward``."""
        dot, ones = np.dot, ws.ones
        self._loss.output_delta_(logits, T, ws.D[-1], ws)  # dZ_L = (P - Y) / n
        for D, gW, gb, W, D_prev, A_prev, S, backward_ in ws.backward_plan:
            dot(D.T, A_prev, out=gW)  # dW_l = dZ_l^T A_{l-1}
            dot(ones, D, out=gb)  # db_l = 1^T dZ_l
            # dZ_{l-1} = (dZ_l W_l) * g'(Z_{l-1}). Also for one output unit: the rank-1 BLAS
            # product is 1.5-3x faster than the broadcast np.multiply, which allocates an
            # iterator buffer on every call.
            dot(D, W, out=D_prev)
            backward_(D_prev, A_prev, S)
        D = ws.D[0]
        dot(D.T, X, out=self._gW[0])
        dot(ones, D, out=self._gb[0])

    # ------------------------------------------------------------------ public computations

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities. X: (n, n_inputs), or (n_inputs,) for one observation.

        Sigmoid output: p(y=1) of shape (n,) (a 0-d array for one observation). Softmax output:
        (n, k) rows summing to 1 ((k,) for one observation).
        """
        X = self._check_X(X)
        Z = self._logits(X)
        if self._loss.name == "binary_crossentropy":
            return sigmoid_(Z, Z).reshape(Z.shape[:-1])
        if Z.ndim == 1:
            return softmax_(Z.reshape(1, -1), Z.reshape(1, -1), np.empty((1, 1), Z.dtype)).reshape(-1)
        return softmax_(Z, Z, np.empty((Z.shape[0], 1), Z.dtype))

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (int64): p > 0.5 for a sigmoid output (the article's
        convert_prob_into_class), the most probable class for softmax. Shape (n,), or a 0-d
        array for one observation."""
        Z = self._logits(self._check_X(X))
        if self._loss.name == "binary_crossentropy":
            return (Z > 0.0).astype(np.int64).reshape(Z.shape[:-1])  # sigma(z) > 0.5 iff z > 0
        return np.argmax(Z, axis=-1).astype(np.int64)

    def loss(self, X: Any, y: Any) -> float:
        """Mean cross-entropy of the labels y given X (the article's get_cost_value)."""
        X, T = self._check_Xy(X, y)
        return self._loss.total(self._logits(X), T) / X.shape[0]

    def accuracy(self, X: Any, y: Any) -> float:
        """Fraction of samples whose predicted class equals the label."""
        X, T = self._check_Xy(X, y)
        return self._loss.n_correct(self._logits(X), T) / X.shape[0]

    def gradients(self, X: Any, y: Any) -> list[np.ndarray]:
        """Gradient of ``loss(X, y)`` with respect to ``parameters()``: [dW_1, db_1, ...] (copies)."""
        X, T = self._check_Xy(X, y)
        ws = self._workspace(X.shape[0])
        self._forward(X, ws, ws.Z[-1])
        self._backward(X, T, ws, ws.Z[-1])
        return [g.copy() for pair in zip(self._gW, self._gb) for g in pair]

    # ------------------------------------------------------------------ training and files

    def fit(
        self,
        X: Any,
        y: Any,
        epochs: int = 10_000,
        learning_rate: float = 0.01,
        optimizer: Any = "sgd",
        batch_size: int | None = None,
        validation_data: tuple[Any, Any] | None = None,
        validation_split: float = 0.0,
        patience: int | None = None,
        callback: Callable[[int, dict[str, float]], Any] | None = None,
        verbose: bool = False,
        l2: float = 0.0,
        seed: int | None = None,
    ) -> dict[str, list[float]]:
        """Train on (X, y); see :func:`robonet.nn.training.fit` (defaults: the article's
        full-batch gradient descent, learning rate 0.01, 10,000 epochs)."""
        from robonet.nn.training import fit

        return fit(
            self, X, y, epochs=epochs, learning_rate=learning_rate, optimizer=optimizer,
            batch_size=batch_size, validation_data=validation_data,
            validation_split=validation_split, patience=patience, callback=callback,
            verbose=verbose, l2=l2, seed=seed,
        )

    def save(
        self,
        path: str | os.PathLike,
        *,
        metadata: dict[str, Any] | None = None,
        extra_arrays: dict[str, np.ndarray] | None = None,
    ):
        """Write one .npz file (see :func:`robonet.nn.io.save`); returns its Path."""
        from robonet.nn import io

        return io.save(self, path, metadata=metadata, extra_arrays=extra_arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Network":
        """Read a network written by :meth:`save`; its metadata dict is ``net.metadata``."""
        from robonet.nn import io

        net, metadata, extra = io.load(path)
        return net
