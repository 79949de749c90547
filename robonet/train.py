"""``robonet train``: behaviour cloning, i.e. supervised learning of the expert's action.

The sensor log gives pairs (observation x, expert action a). Inputs are standardised with the
training split's mean and standard deviation, ``x' = (x - mu) / sigma`` (ray lengths and cart
velocities live on very different scales), and the network minimises the binary
cross-entropy between ``sigmoid(f(x'))`` and ``a``. Validation holds out whole episodes (steps
of one episode are strongly correlated, so a per-step split would flatter the score).

Logs larger than memory are trained out of core (:mod:`robonet.streaming`): minibatches come
from the memory-mapped shards, shuffled across shards with the seed, and the standardisation is
computed in a streaming pass. That happens with ``stream=True`` (``--stream``) or automatically
when the in-memory path would need more than ``robonet.streaming.AUTO_STREAM_BYTES``; small logs
keep the in-memory path and its exact results.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from robonet.argtypes import seed_arg

HELP = "train a controller on sensor logs (behaviour cloning with the core network)"
DESCRIPTION = (
    "Train the plain-NumPy network to predict the expert's action from the observation, with "
    "input standardisation, per-epoch loss and accuracy (train and validation), the learning "
    "curves as a PNG beside the model, and one controller file holding the network, the "
    "standardisation, the env id, the observation and action names and a training summary."
)

DEFAULTS = {
    "hidden": (32, 32),
    "activation": "relu",
    "epochs": 30,
    "batch_size": 64,
    "optimizer": "adam",
    "learning_rate": 3e-3,
    "seed": 0,
    "validation_split": 0.1,
    "patience": None,
}


def parse_hidden(text: str | Any) -> tuple[int, ...]:
    """``"32,32"`` -> (32, 32); an empty string means no hidden layer."""
    if not isinstance(text, str):
        return tuple(int(h) for h in text)
    text = text.strip()
    if not text:
        return ()
    sizes = []
    for part in text.split(","):
        try:
            size = int(part)
        except ValueError:
            raise ValueError(f"--hidden must be comma-separated layer widths like 32,32, got {text!r}") from None
        if size <= 0:
            raise ValueError(f"--hidden widths must be positive, got {size} in {text!r}")
        sizes.append(size)
    return tuple(sizes)


def episode_split(episode_ids: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, validation) that hold out ``fraction`` of the episodes.

    With a single episode the split falls back to individual steps.
    """
    n = len(episode_ids)
    if fraction <= 0:
        return np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
    rng = np.random.default_rng([int(seed), 7])
    episodes = np.unique(episode_ids)
    if len(episodes) >= 2:
        n_val = min(len(episodes) - 1, max(1, int(round(fraction * len(episodes)))))
        held_out = rng.choice(episodes, size=n_val, replace=False)
        val = np.isin(episode_ids, held_out)
    else:
        val = np.zeros(n, dtype=bool)
        val[rng.choice(n, size=max(1, int(round(fraction * n))), replace=False)] = True
    return ~val, val


def train(
    logs: str | os.PathLike | list,
    out: str | os.PathLike,
    *,
    hidden: tuple[int, ...] | str = DEFAULTS["hidden"],
    activation: str = DEFAULTS["activation"],
    epochs: int = DEFAULTS["epochs"],
    batch_size: int = DEFAULTS["batch_size"],
    optimizer: str = DEFAULTS["optimizer"],
    learning_rate: float = DEFAULTS["learning_rate"],
    seed: int = DEFAULTS["seed"],
    validation_split: float = DEFAULTS["validation_split"],
    patience: int | None = DEFAULTS["patience"],
    verbose: bool = True,
    plot: bool = True,
    stream: bool | None = None,
):
    """Train a controller on the sensor log ``logs`` and save it to ``out``.

    Returns ``(controller, history)``; the history has per-epoch "cost", "accuracy" and, with a
    validation split, "val_cost", "val_accuracy".

    ``stream``: True trains out of core (bounded memory, for logs larger than memory), False
    loads the log into memory, None (default) streams when the log is large (see module doc).
    """
    from robonet.controller import Controller
    from robonet.logs import load_logs
    from robonet.nn import Network, sizes_to_architecture

    hidden = parse_hidden(hidden)
    if epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {epochs}")
    if batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {batch_size}")
    if not learning_rate > 0:
        raise ValueError(f"--learning-rate must be > 0, got {learning_rate}")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"--validation-split must be in [0, 1), got {validation_split}")
    if seed < 0:
        raise ValueError(f"--seed must be >= 0, got {seed}")
    if stream is None:
        from robonet.streaming import should_stream

        stream = should_stream(logs)
    if stream:
        return _train_streaming(
            logs, out, hidden=hidden, activation=activation, epochs=epochs, batch_size=batch_size,
            optimizer=optimizer, learning_rate=learning_rate, seed=seed, validation_split=validation_split,
            patience=patience, verbose=verbose, plot=plot)
    log = load_logs(logs)
    if len(log.action_names) != 2:
        raise ValueError(f"{log.path}: {len(log.action_names)} actions; robonet controllers choose between 2")
    X = np.asarray(log.observations, dtype=np.float64)
    y = np.asarray(log.actions, dtype=np.float64).reshape(-1, 1)
    train_mask, val_mask = episode_split(np.asarray(log.episode_ids), validation_split, seed)
    mean = X[train_mask].mean(axis=0)
    std = X[train_mask].std(axis=0)
    std[std < 1e-6] = 1.0  # a constant sensor carries no information; keep it finite
    Xs = (X - mean) / std

    architecture = sizes_to_architecture([X.shape[1], *hidden, 1], hidden_activation=activation,
                                         output_activation="sigmoid")
    network = Network(architecture, seed=seed)
    validation = (Xs[val_mask], y[val_mask]) if val_mask.any() else None

    from robonet.progress import progress

    bar = progress(epochs, desc="train", unit="epoch")

    def report(epoch: int, logs_dict: dict) -> None:
        bar.update(1)
        if verbose:
            line = f"epoch {epoch + 1:3d}/{epochs}  loss {logs_dict['cost']:.4f}  acc {logs_dict['accuracy']:.4f}"
            if "val_cost" in logs_dict:
                line += f"  val_loss {logs_dict['val_cost']:.4f}  val_acc {logs_dict['val_accuracy']:.4f}"
            bar.write(line, file=sys.stdout)

    try:
        history = network.fit(
            Xs[train_mask], y[train_mask], epochs=epochs, learning_rate=learning_rate, optimizer=optimizer,
            batch_size=batch_size, validation_data=validation, patience=patience, callback=report, seed=seed)
    finally:
        bar.close()
    history = {key: [float(v) for v in values] for key, values in dict(history).items()}

    summary = log.summary()
    info = {
        "logs": summary,
        "settings": {
            "hidden": list(hidden), "activation": activation, "epochs": epochs, "batch_size": batch_size,
            "optimizer": optimizer, "learning_rate": learning_rate, "seed": seed,
            "validation_split": validation_split, "patience": patience,
        },
        "train_steps": int(train_mask.sum()),
        "validation_steps": int(val_mask.sum()),
        "epochs_run": len(history.get("cost", [])),
        "final": {key: values[-1] for key, values in history.items() if values},
    }
    controller = Controller(network, mean, std, env_id=log.env_id, observation_names=log.observation_names,
                            action_names=log.action_names, info=info)
    path = controller.save(out)
    if plot:
        plot_curves(history, curves_path(path), title=f"{log.env_id}: behaviour cloning")
    return controller, history


def _epoch_line(epoch: int, epochs: int, logs_dict: dict) -> str:
    line = f"epoch {epoch + 1:3d}/{epochs}  loss {logs_dict['cost']:.4f}  acc {logs_dict['accuracy']:.4f}"
    if "val_cost" in logs_dict:
        line += f"  val_loss {logs_dict['val_cost']:.4f}  val_acc {logs_dict['val_accuracy']:.4f}"
    if "transitions_per_second" in logs_dict:
        line += f"  ({logs_dict['transitions_per_second']:,.0f} transitions/s)"
    return line


def _train_streaming(logs, out, *, hidden, activation, epochs, batch_size, optimizer, learning_rate, seed,
                     validation_split, patience, verbose, plot):
    """The out-of-core path of :func:`train` (same controller file, same history keys)."""
    from robonet.controller import Controller
    from robonet.nn import Network, sizes_to_architecture
    from robonet.progress import progress
    from robonet.streaming import StreamingLog, log_summary, train_streaming

    log = StreamingLog(logs)
    if len(log.action_names) != 2:
        raise ValueError(f"{log.path}: {len(log.action_names)} actions; robonet controllers choose between 2")
    architecture = sizes_to_architecture([log.observation_size, *hidden, 1], hidden_activation=activation,
                                         output_activation="sigmoid")
    network = Network(architecture, seed=seed)
    bar = progress(epochs, desc="train (streaming)", unit="epoch")

    def report(epoch: int, logs_dict: dict) -> None:
        bar.update(1)
        if verbose:
            bar.write(_epoch_line(epoch, epochs, logs_dict), file=sys.stdout)

    try:
        history, stats = train_streaming(
            network, log, epochs=epochs, batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate,
            seed=seed, validation_split=validation_split, patience=patience, callback=report)
    finally:
        bar.close()
    info = {
        "logs": log_summary(log, stats),
        "settings": {
            "hidden": list(hidden), "activation": activation, "epochs": epochs, "batch_size": batch_size,
            "optimizer": optimizer, "learning_rate": learning_rate, "seed": seed,
            "validation_split": validation_split, "patience": patience, "streaming": True,
        },
        "train_steps": int(stats.train_rows),
        "validation_steps": int(stats.validation_rows),
        "epochs_run": len(history.get("cost", [])),
        "final": {key: values[-1] for key, values in history.items() if values},
    }
    controller = Controller(network, stats.mean, stats.std, env_id=log.env_id,
                            observation_names=log.observation_names, action_names=log.action_names, info=info)
    path = controller.save(out)
    if plot:
        curves = {key: values for key, values in history.items() if key != "transitions_per_second"}
        plot_curves(curves, curves_path(path), title=f"{log.env_id}: behaviour cloning (streamed)")
    return controller, history


def plot_curves(history: dict, path: Path, title: str) -> Path | None:
    try:
        from robonet.plots import plot_learning_curves
    except ModuleNotFoundError as exc:  # pragma: no cover - only while robonet.plots is missing
        if exc.name != "robonet.plots":
            raise
        return None
    return plot_learning_curves(history, path, title=title)


def curves_path(model_path: str | os.PathLike) -> Path:
    """Where train writes the learning curves: ``MODEL_curves.png`` beside the model."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + "_curves.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--logs", required=True, metavar="DIR", help="sensor-log directory written by robonet collect")
    parser.add_argument("--out", required=True, metavar="MODEL", help="controller file to write (.npz)")
    parser.add_argument("--hidden", default="32,32", metavar="W1,W2", help="hidden layer widths, comma-separated")
    parser.add_argument("--activation", default=DEFAULTS["activation"],
                        help="hidden activation: relu, tanh, sigmoid, leaky_relu or linear")
    parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"], metavar="E", help="passes over the training data")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], metavar="B", help="minibatch size")
    parser.add_argument("--optimizer", default=DEFAULTS["optimizer"], help="sgd, momentum or adam")
    parser.add_argument("--learning-rate", type=float, default=DEFAULTS["learning_rate"], metavar="LR", help="step size")
    parser.add_argument("--seed", type=seed_arg, default=DEFAULTS["seed"], metavar="S",
                        help="seed of the weight init, the shuffling and the validation split")
    parser.add_argument("--validation-split", type=float, default=DEFAULTS["validation_split"], metavar="F",
                        help="fraction of episodes held out for validation (0 disables)")
    parser.add_argument("--patience", type=int, default=DEFAULTS["patience"], metavar="P",
                        help="stop after P epochs without validation improvement (default: train all epochs)")
    parser.add_argument("--no-plot", action="store_true", help="do not write the learning-curves PNG")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--stream", dest="stream", action="store_const", const=True, default=None,
                      help="train out of core: minibatches streamed from the memory-mapped shards, bounded "
                           "memory whatever the log size (default: automatic for logs too large for memory)")
    mode.add_argument("--no-stream", dest="stream", action="store_const", const=False,
                      help="always load the whole log into memory")


def run(args: argparse.Namespace) -> int:
    controller, history = train(
        args.logs, args.out, hidden=args.hidden, activation=args.activation, epochs=args.epochs,
        batch_size=args.batch_size, optimizer=args.optimizer, learning_rate=args.learning_rate, seed=args.seed,
        validation_split=args.validation_split, patience=args.patience, plot=not args.no_plot,
        stream=getattr(args, "stream", None))
    final = controller.info["final"]
    text = f"saved controller {controller.path} (train acc {final.get('accuracy', float('nan')):.4f}"
    if "val_accuracy" in final:
        text += f", val acc {final['val_accuracy']:.4f}"
    text += ")"
    if not args.no_plot:
        text += f"; learning curves {curves_path(controller.path)}"
    print(text)
    return 0
