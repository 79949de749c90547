"""Training: one optimizer step (:class:`Trainer`) and the epoch loop (:func:`fit`).

The article's ``train`` (Snippet 10) repeats, once per epoch on the whole data set:
forward, cost, accuracy, backward, update. ``fit`` does the same by default (full-batch gradient
descent, learning rate 0.01) and adds minibatches with seeded shuffling, momentum and Adam,
validation, early stopping, L2 weight decay, a per-epoch callback and a divergence check.

Epoch figures follow the article for full batches: "cost" and "accuracy" are those of the forward
pass of each epoch, i.e. of the weights before that epoch's update. With minibatches they are the
sample-weighted means over the epoch's batches (as Keras reports them), computed from logits the
steps write into one epoch-long buffer, so they cost no extra forward pass.
"""
from __future__ import annotations

import contextlib
import math
import sys
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from robonet.nn.optimizers import Optimizer, is_number, make_optimizer

if TYPE_CHECKING:  # pragma: no cover
    from robonet.nn.network import Network


class TrainingDiverged(ValueError):
    """The cost became NaN or infinite; the network keeps its last weights with a finite cost.

    ``epoch`` is the 1-based epoch at fault; ``history`` holds the figures up to it.
    """

    def __init__(self, message: str, epoch: int, history: dict[str, list[float]]) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.history = history


def diverged_update(theta: np.ndarray, start: np.ndarray, epoch: int, what: str, learning_rate: float,
                    history: dict[str, list[float]]) -> TrainingDiverged:
    """Put back ``start`` (the weights at the start of epoch ``epoch``, 1-based, whose cost was
    finite) and return the error for an update that made ``what`` NaN or infinite."""
    np.copyto(theta, start)
    return TrainingDiverged(
        f"training diverged at epoch {epoch}: {what}; the network keeps its weights from the start "
        f"of that epoch, the last with a finite cost (try a learning_rate below {learning_rate:g})",
        epoch,
        history,
    )


def finite_after_update(net: "Network", X: np.ndarray, T: np.ndarray) -> bool:
    """Whether the weights are finite and give a finite cost on the checked batch (X, T)."""
    if not np.isfinite(net.flat_parameters).all():
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        return math.isfinite(net._loss.total(net._logits(X), T))


class Trainer:
    """One optimizer step at a time, for training loops of your own (streaming, out of core).

    >>> trainer = Trainer(net, optimizer="adam", learning_rate=1e-3)
    >>> for X_batch, y_batch in batches:
    ...     loss = trainer.step(X_batch, y_batch)

    ``step`` checks the batch like ``fit`` does, runs forward and backward propagation in
    buffers kept per batch size, updates the parameters in place and returns the batch's mean loss
    (of the weights before the update).
    """

    def __init__(
        self,
        net: "Network",
        optimizer: str | Optimizer = "adam",
        learning_rate: float = 1e-3,
        l2: float = 0.0,
    ) -> None:
        self.net = net
        self.optimizer = make_optimizer(optimizer, learning_rate, l2)
        self.optimizer.bind(net._theta, net._grad, net.n_weights)

    def step(self, X: Any, y: Any) -> float:
        """One update on the batch (X, y); returns the batch loss before the update."""
        X, T = self.net._check_Xy(X, y)
        ws = self.net._workspace(X.shape[0])
        logits = ws.Z[-1]
        self.step_checked(X, T, logits)
        return self.net._loss.total(logits, T) / X.shape[0]

    def step_checked(self, X: np.ndarray, T: np.ndarray, logits: np.ndarray) -> None:
        """The hot path, for inputs already checked: X (n, n_inputs) C-contiguous in the net's
        dtype, T targets (n, n_outputs); the output layer's pre-update Z is left in ``logits``."""
        net = self.net
        ws = net._workspace(X.shape[0])
        net._forward(X, ws, logits)
        net._backward(X, T, ws, logits)
        self.optimizer.step()


# Products below this many multiply-adds (batch x input_dim x output_dim of the largest layer)
# run on one BLAS thread during fit: splitting them over threads gains nothing, and on a busy
# machine a descheduled helper thread stalls every product (3-10x slower epochs measured on
# two shared cores for the article's 2-25-50-50-25-1 network).
SMALL_PRODUCT = 1 << 22
_blas_controller: Any = None


def _blas_threads(net: "Network", batch: int):
    """A context with one BLAS thread when the network's products are small (needs the optional
    threadpoolctl; without it, or for large products, BLAS keeps its own setting)."""
    global _blas_controller
    if batch * max(layer.input_dim * layer.output_dim for layer in net.layers) >= SMALL_PRODUCT:
        return contextlib.nullcontext()
    if _blas_controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _blas_controller = False
        else:
            _blas_controller = ThreadpoolController()
    if not _blas_controller:
        return contextlib.nullcontext()
    return _blas_controller.limit(limits=1, user_api="blas")


def _split_validation(X: np.ndarray, T: np.ndarray, fraction: float):
    if not is_number(fraction) or not 0.0 <= fraction < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {fraction!r}")
    n_val = int(round(len(X) * fraction))
    if fraction and (n_val == 0 or n_val == len(X)):
        raise ValueError(f"validation_split={fraction} leaves no {'validation' if n_val == 0 else 'training'} sample of {len(X)}")
    if n_val == 0:
        return X, T, None
    # The last fraction, as Keras does: data logged episode after episode keeps whole episodes apart.
    return X[:-n_val], T[:-n_val], (X[-n_val:], T[-n_val:])


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def fit(
    net: "Network",
    X: Any,
    y: Any,
    epochs: int = 10_000,
    learning_rate: float = 0.01,
    optimizer: str | Optimizer = "sgd",
    batch_size: int | None = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    patience: int | None = None,
    callback: Callable[[int, dict[str, float]], Any] | None = None,
    verbose: bool = False,
    l2: float = 0.0,
    seed: int | None = None,
) -> dict[str, list[float]]:
    """Train ``net`` on (X, y); returns the history: per-epoch lists "cost" and "accuracy"
    (the article's cost_history and accuracy_history) and, with validation, "val_cost" and
    "val_accuracy".

    optimizer: "sgd" (the article's), "momentum", "adam", or an Optimizer instance.
    batch_size: None for full-batch gradient descent (the article); else minibatches, reshuffled
        every epoch with ``numpy.random.default_rng(seed)`` (the network's generator if seed is None).
    validation_data: (X_val, y_val); or validation_split, the fraction held out from the end of X.
    patience: stop after this many epochs without a lower validation cost (training cost when there
        is no validation), and end with the best weights seen.
    callback(epoch, logs): called after every epoch (0-based epoch, logs = this epoch's figures);
        returning True stops training.
    verbose: print one line per epoch.
    l2: weight decay (lambda/2 ||W||^2 added to the minimized loss, not to the reported cost).

    A NaN or infinite cost raises :class:`TrainingDiverged` naming the epoch; the network is left
    with the weights of the last epoch whose cost was finite.

    Small networks train on one BLAS thread (when threadpoolctl is installed; see SMALL_PRODUCT).
    """
    epochs = _positive_int("epochs", epochs)
    if patience is not None:
        patience = _positive_int("patience", patience)
    X, T = net._check_Xy(X, y)
    if validation_data is not None:
        if validation_split:
            raise ValueError("give validation_data or validation_split, not both")
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise ValueError("validation_data must be a pair (X_val, y_val)") from None
        X_val = net._check_X(X_val, name="X_val", allow_1d=False)
        validation = (X_val, net._check_y(y_val, X_val.shape[0], name="y_val"))
    else:
        X, T, validation = _split_validation(X, T, validation_split)
    n = X.shape[0]
    batch = n if batch_size is None else min(_positive_int("batch_size", batch_size), n)
    trainer = Trainer(net, optimizer, learning_rate, l2)
    loss = net._loss
    rng = net._rng if seed is None else np.random.default_rng(seed)

    full_batch = batch == n
    if full_batch:  # no shuffling: every epoch sees the same single batch
        X_epoch, T_epoch = X, T
        logits = net._workspace(n).Z[-1]
    else:
        X_epoch, T_epoch = np.empty_like(X), np.empty_like(T)
        logits = np.empty_like(T)
    starts = range(0, n, batch)

    history: dict[str, list[float]] = {"cost": [], "accuracy": []}
    if validation is not None:
        history["val_cost"], history["val_accuracy"] = [], []
    monitor = "val_cost" if validation is not None else "cost"
    # Snapshots of the parameter vector (one copy each per epoch, cheap with the flat layout):
    # the weights at the start of this epoch and of the last epoch with a finite cost.
    theta = net._theta
    at_start, last_good = np.empty_like(theta), None
    best, best_value, since_best = None, math.inf, 0

    # A diverging run overflows in the products before its cost turns NaN; the check below
    # reports it once, as TrainingDiverged, instead of a stream of RuntimeWarnings.
    with np.errstate(over="ignore", invalid="ignore"), _blas_threads(net, batch):
        for epoch in range(epochs):
            np.copyto(at_start, theta)
            if full_batch:
                trainer.step_checked(X, T, logits)
            else:
                order = rng.permutation(n)
                np.take(X, order, axis=0, out=X_epoch)
                np.take(T, order, axis=0, out=T_epoch)
                for start in starts:
                    stop = start + batch
                    trainer.step_checked(X_epoch[start:stop], T_epoch[start:stop], logits[start:stop])
            cost = loss.total(logits, T_epoch) / n
            logs = {"cost": cost, "accuracy": loss.n_correct(logits, T_epoch) / n}
            if not math.isfinite(cost):
                good = last_good if last_good is not None else at_start
                np.copyto(theta, good)
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch + 1}: the cost is {cost}; the network keeps "
                    f"its weights from the start of epoch {epoch if last_good is not None else 1}, "
                    f"the last with a finite cost (try a learning_rate below "
                    f"{trainer.optimizer.learning_rate:g})",
                    epoch + 1,
                    history,
                )
            # at_start gave a finite cost: keep it as the last good weights (swap, no copy).
            last_good, at_start = at_start, (last_good if last_good is not None else np.empty_like(theta))
            if validation is not None:
                z_val = net._logits(validation[0])
                n_val = validation[0].shape[0]
                logs["val_cost"] = loss.total(z_val, validation[1]) / n_val
                logs["val_accuracy"] = loss.n_correct(z_val, validation[1]) / n_val
                if not math.isfinite(logs["val_cost"]):  # this epoch's update diverged
                    raise diverged_update(theta, last_good, epoch + 1,
                                          f"the validation cost after its update is {logs['val_cost']}",
                                          trainer.optimizer.learning_rate, history)
            for key, value in logs.items():
                history[key].append(value)
            if verbose:
                figures = " - ".join(f"{key} {value:.4f}" for key, value in logs.items())
                print(f"epoch {epoch + 1}/{epochs} - {figures}", file=sys.stdout, flush=True)
            stop = bool(callback(epoch, logs)) if callback is not None else False
            if patience is not None:
                value = logs[monitor]
                if value < best_value:
                    best_value, since_best = value, 0
                    if best is None:
                        best = np.empty_like(theta)
                    # cost belongs to the weights before this epoch's update, val_cost to those after.
                    np.copyto(best, last_good if monitor == "cost" else theta)
                else:
                    since_best += 1
                    if since_best >= patience:
                        stop = True
            if stop:
                break
    if best is not None:
        np.copyto(theta, best)
    # The cost checks the weights *before* each update, so the last update is checked here:
    # its weights must be finite and give a finite cost (the validation cost already checked
    # that; without validation data, one more forward pass, once per fit).
    if not (np.isfinite(theta).all() if validation is not None else finite_after_update(net, X, T)):
        raise diverged_update(theta, last_good, epoch + 1, "its update made the weights or the cost NaN or infinite",
                              trainer.optimizer.learning_rate, history)
    return history
