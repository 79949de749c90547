"""A controller: the trained network plus everything needed to drive with it.

A controller file is ONE ``.npz`` written by ``Network.save``: the network's arrays and
architecture, ``obs_mean``/``obs_std`` (the input standardisation fitted on the training logs)
as extra arrays, and JSON metadata under the key ``"controller"``: env id, observation size and
names, action names, and a summary of the training data and settings.

Driving needs one observation -> one action, thousands of times a second, so the controller
compiles a dedicated single-observation path at load time:

* the standardisation is folded into the first layer,
  ``W1 ((x - mu) / sigma) + b1 = (W1 / sigma) x + (b1 - (W1 / sigma) mu)``;
* every layer's bias is folded into its weights by appending a constant 1 to its input
  buffer, so a layer is one ``np.dot(A, h, out=...)`` and one in-place activation;
* buffers are preallocated; the binary decision reads the sign of the output logit
  (``sigmoid(z) > 0.5  <=>  z > 0``), so no exponential is computed.

The batched path (:meth:`Controller.batch`) uses the same folded weights, so both agree.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from robonet.errors import DataError

CONTROLLER_KIND = "robonet-controller"
CONTROLLER_VERSION = 1


def _inplace_activation(name: str) -> Callable[[np.ndarray], None] | None:
    """In-place hidden activation for the fast path (None: not supported there)."""
    if name == "relu":
        return lambda v: np.maximum(v, 0.0, out=v)
    if name == "tanh":
        return lambda v: np.tanh(v, out=v)
    if name == "leaky_relu":
        from robonet.nn.activations import LEAKY_SLOPE

        return lambda v: np.maximum(v, v * LEAKY_SLOPE, out=v)
    if name == "linear":
        return lambda v: None

    if name == "sigmoid":
        def sigmoid(v: np.ndarray) -> None:  # 1/(1+e^-z) = (1 + tanh(z/2)) / 2, never overflows
            v *= 0.5
            np.tanh(v, out=v)
            v += 1.0
            v *= 0.5
        return sigmoid
    return None


def _layer_activation(layer: Any) -> str:
    if isinstance(layer, dict):
        return str(layer.get("activation", "linear"))
    return str(getattr(layer, "activation", "linear"))


class Controller:
    """Network + standardisation + action meanings: ``controller(obs) -> action``.

    Parameters: ``network`` (a :class:`robonet.nn.Network` trained on standardised inputs),
    ``obs_mean`` and ``obs_std`` (n_inputs,), the ``env_id`` it was trained on, the observation
    and action names, and ``info`` (the training summary stored in the file).
    """

    def __init__(
        self,
        network: Any,
        obs_mean: np.ndarray,
        obs_std: np.ndarray,
        *,
        env_id: str,
        observation_names: list[str] | None = None,
        action_names: list[str] | None = None,
        info: dict | None = None,
        path: str | os.PathLike | None = None,
    ) -> None:
        self.network = network
        n = int(network.n_inputs)
        self.obs_mean = np.asarray(obs_mean, dtype=np.float64).reshape(-1)
        self.obs_std = np.asarray(obs_std, dtype=np.float64).reshape(-1)
        where = f"{path}: " if path else ""
        for name, array in (("obs_mean", self.obs_mean), ("obs_std", self.obs_std)):
            if array.shape != (n,):
                raise DataError(f"{where}{name} has shape {array.shape}, the network has {n} inputs")
            if not np.isfinite(array).all():
                raise DataError(f"{where}{name} contains NaN or inf")
        if np.any(self.obs_std <= 0):
            raise DataError(f"{where}obs_std must be > 0 (got {self.obs_std.min()})")
        self.env_id = env_id
        self.observation_size = n
        self.observation_names = list(observation_names or [f"obs_{i}" for i in range(n)])
        n_out = int(network.n_outputs)
        self.n_actions = 2 if n_out == 1 else n_out
        self.action_names = list(action_names or [f"action_{i}" for i in range(self.n_actions)])
        if len(self.action_names) != self.n_actions:
            raise DataError(f"{where}{len(self.action_names)} action names for a network with {n_out} outputs")
        self.info = dict(info or {})
        self.path = Path(path) if path else None
        self._compile()

    # ---- construction ---------------------------------------------------------------

    def _compile(self) -> None:
        """Fold standardisation and biases into augmented weight matrices; preallocate buffers."""
        params = [np.asarray(p, dtype=np.float64) for p in self.network.parameters()]
        weights, biases = params[0::2], params[1::2]
        activations = [_layer_activation(layer) for layer in self.network.architecture]
        weights[0] = weights[0] / self.obs_std[None, :]
        biases[0] = biases[0] - weights[0] @ self.obs_mean
        self._weights = weights  # folded, for the batched path
        self._biases = biases
        self._activations = activations
        self._output = activations[-1]
        n_out = weights[-1].shape[0]
        hidden_ops = [_inplace_activation(a) for a in activations[:-1]]
        self._fast = all(op is not None for op in hidden_ops) and (
            (n_out == 1 and self._output == "sigmoid") or (n_out > 1 and self._output == "softmax"))
        # Augmented matrices A = [W | b] act on buffers whose last entry is a constant 1.
        self._input = np.ones(weights[0].shape[1] + 1)
        self._input_view = self._input[:-1]
        self._plan = []
        previous = self._input
        for W, b, op, name in zip(weights[:-1], biases[:-1], hidden_ops, activations[:-1]):
            buffer = np.ones(W.shape[0] + 1)
            A = np.ascontiguousarray(np.hstack([W, b[:, None]]))
            # Bound methods and a preallocated zero vector: each saves ~0.1-0.2 us per call.
            zeros = np.zeros(W.shape[0]) if name == "relu" else None
            self._plan.append((A.dot, previous, buffer[:-1], zeros, op))
            previous = buffer
        self._last_input = previous
        last = np.hstack([weights[-1], biases[-1][:, None]])
        self._last = np.ascontiguousarray(last[0] if n_out == 1 else last)
        self._last_dot = self._last.dot
        self._binary = n_out == 1
        self._shape = (self.observation_size,)

    # ---- inference ------------------------------------------------------------------

    def _shape_error(self, shape: tuple) -> ValueError:
        return ValueError(
            f"observation shape {shape} does not fit a controller with {self.observation_size} inputs "
            f"(trained on {self.env_id})")

    def __call__(self, obs: np.ndarray) -> int:
        """The action for ONE observation of shape (n_inputs,), as a Python int."""
        if getattr(obs, "shape", None) != self._shape:
            obs = np.asarray(obs, dtype=np.float64)
            if obs.shape != self._shape:
                raise self._shape_error(obs.shape)
        if not self._fast:
            return int(self.batch(obs[None, :])[0])
        self._input_view[...] = obs
        maximum = np.maximum
        for dot, source, target, zeros, op in self._plan:
            dot(source, target)  # target = [W | b] @ [source; 1]
            if zeros is not None:
                maximum(target, zeros, out=target)  # relu in place
            else:
                op(target)
        if self._binary:
            return 1 if self._last_dot(self._last_input) > 0.0 else 0
        return int(np.argmax(self._last_dot(self._last_input)))

    def logits(self, obs: np.ndarray) -> np.ndarray:
        """Output pre-activations for a batch (N, n_inputs) -> (N, n_outputs), raw observations in."""
        X = np.asarray(obs, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.observation_size:
            raise self._shape_error(X.shape)
        H = X
        for W, b, name in zip(self._weights[:-1], self._biases[:-1], self._activations[:-1]):
            H = H @ W.T + b
            op = _inplace_activation(name)
            if op is None:
                return self._network_logits(X)
            op(H)
        return H @ self._weights[-1].T + self._biases[-1]

    def _network_logits(self, X: np.ndarray) -> np.ndarray:
        # Fallback for activations the fast path does not know: ask the network itself.
        p = np.asarray(self.network.predict_proba(self.standardize(X)), dtype=np.float64)
        p = p.reshape(len(X), -1)
        if p.shape[1] == 1:
            p = np.clip(p, 1e-12, 1 - 1e-12)
            return np.log(p) - np.log1p(-p)
        return np.log(np.clip(p, 1e-300, None))

    def batch(self, obs: np.ndarray) -> np.ndarray:
        """Actions for a batch of observations (N, n_inputs) -> (N,) int64."""
        Z = self.logits(obs)
        if Z.shape[1] == 1:
            return (Z[:, 0] > 0.0).astype(np.int64)
        return np.argmax(Z, axis=1).astype(np.int64)

    def predict_proba(self, obs: np.ndarray) -> np.ndarray:
        """Probability of each action: (n_inputs,) -> (n_actions,), (N, n_inputs) -> (N, n_actions)."""
        X = np.asarray(obs, dtype=np.float64)
        single = X.ndim == 1
        Z = self.logits(X[None, :] if single else X)
        if Z.shape[1] == 1:
            p1 = 0.5 * (1.0 + np.tanh(0.5 * Z[:, 0]))
            P = np.stack([1.0 - p1, p1], axis=1)
        else:
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            P = E / E.sum(axis=1, keepdims=True)
        return P[0] if single else P

    def standardize(self, obs: np.ndarray) -> np.ndarray:
        """``(obs - mean) / std``: what the network itself takes as input."""
        return (np.asarray(obs, dtype=np.float64) - self.obs_mean) / self.obs_std

    def check_env(self, env_id: str, observation_size: int) -> None:
        """Raise ValueError if an env's observation size does not fit this controller."""
        if int(observation_size) != self.observation_size:
            name = f"the controller {self.path}" if self.path else "the controller"
            raise ValueError(
                f"env {env_id} gives observations of size {observation_size}, but {name} takes "
                f"{self.observation_size} inputs (it was trained on {self.env_id})")

    # ---- files ----------------------------------------------------------------------

    def metadata(self) -> dict:
        from robonet import __version__

        return {
            "kind": CONTROLLER_KIND,
            "version": CONTROLLER_VERSION,
            "robonet_version": __version__,
            "env_id": self.env_id,
            "observation_size": self.observation_size,
            "observation_names": self.observation_names,
            "action_names": self.action_names,
            "training": self.info,
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the controller as one .npz (network arrays + standardisation + JSON metadata)."""
        saved = self.network.save(
            path, metadata={"controller": self.metadata()},
            extra_arrays={"obs_mean": self.obs_mean, "obs_std": self.obs_std})
        self.path = Path(saved)
        return self.path

    def __repr__(self) -> str:
        sizes = [self.observation_size] + [w.shape[0] for w in self._weights]
        return f"Controller(env_id={self.env_id!r}, sizes={sizes}, actions={self.action_names})"


def load_controller(path: str | os.PathLike) -> Controller:
    """Load a controller file written by ``robonet train`` (validated, no pickle)."""
    from robonet.nn import io

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "controller file not found", str(path))
    network, metadata, extra = io.load(path)
    meta = metadata.get("controller") if isinstance(metadata, dict) else None
    if not isinstance(meta, dict) or meta.get("kind") != CONTROLLER_KIND:
        raise DataError(
            f"{path}: a network file but not a robonet controller (no standardisation or env id); "
            "make one with `robonet train`")
    if meta.get("version") != CONTROLLER_VERSION:
        raise DataError(f"{path}: controller format version {meta.get('version')!r} is not supported "
                        f"(this robonet reads version {CONTROLLER_VERSION})")
    for key in ("obs_mean", "obs_std"):
        if key not in extra:
            raise DataError(f"{path}: the array {key!r} is missing")
    if meta.get("observation_size") != network.n_inputs:
        raise DataError(f"{path}: metadata says observation_size {meta.get('observation_size')}, "
                        f"the network has {network.n_inputs} inputs")
    if not isinstance(meta.get("env_id"), str):
        raise DataError(f"{path}: env_id is missing from the controller metadata")
    return Controller(
        network, extra["obs_mean"], extra["obs_std"], env_id=meta["env_id"],
        observation_names=meta.get("observation_names"), action_names=meta.get("action_names"),
        info=meta.get("training"), path=path)
