"""The article's architecture format: a list of layer dicts, validated at the boundary.

    [{"input_dim": 2, "output_dim": 4, "activation": "relu"},
     {"input_dim": 4, "output_dim": 1, "activation": "sigmoid"}]

Layer ``l`` maps ``input_dim`` values to ``output_dim`` values through ``activation``; its weights
W have shape (output_dim, input_dim) and its bias b has output_dim values (the article's Figure 3).
The list is accepted as is, or read from a JSON file; inside robonet it becomes a tuple of frozen
:class:`Layer` specs, and :func:`to_dicts` gives the list back.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from robonet.nn.activations import HIDDEN_ACTIVATIONS, get_activation

KEYS = ("input_dim", "output_dim", "activation")


@dataclass(frozen=True)
class Layer:
    """One dense layer: a = activation(W x + b), W of shape (output_dim, input_dim)."""

    input_dim: int
    output_dim: int
    activation: str

    def to_dict(self) -> dict[str, Any]:
        return {"input_dim": self.input_dim, "output_dim": self.output_dim, "activation": self.activation}


def _size(index: int, key: str, value: Any) -> int:
    # bool is an int subclass, and 4.0 is not a layer size: only true integers pass.
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"layer {index}: {key}={value!r} is not an integer")
    if value <= 0:
        raise ValueError(f"layer {index}: {key}={value!r} must be positive")
    return int(value)


def validate_architecture(architecture: Sequence[dict[str, Any]]) -> tuple[Layer, ...]:
    """Check the list of layer dicts and return it as frozen :class:`Layer` specs.

    Raises ValueError naming the layer index and the value at fault: missing or unknown keys,
    sizes that are not positive integers, an input_dim that differs from the previous layer's
    output_dim, an unknown activation, or an output activation that does not fit a loss
    (sigmoid needs output_dim 1: binary cross-entropy; softmax needs output_dim >= 2:
    categorical cross-entropy).
    """
    if isinstance(architecture, (str, bytes, dict)) or not isinstance(architecture, Sequence):
        raise ValueError(
            f"architecture must be a list of layer dicts, got {type(architecture).__name__}"
        )
    if len(architecture) == 0:
        raise ValueError("architecture is empty: it needs at least one layer")
    layers: list[Layer] = []
    last = len(architecture) - 1
    for index, spec in enumerate(architecture):
        if not isinstance(spec, dict):
            raise ValueError(f"layer {index}: expected a dict with keys {list(KEYS)}, got {spec!r}")
        missing = [key for key in KEYS if key not in spec]
        if missing:
            raise ValueError(f"layer {index}: missing key(s) {missing}")
        unknown = sorted(str(key) for key in spec if key not in KEYS)
        if unknown:
            raise ValueError(f"layer {index}: unknown key(s) {unknown}; expected {list(KEYS)}")
        input_dim = _size(index, "input_dim", spec["input_dim"])
        output_dim = _size(index, "output_dim", spec["output_dim"])
        name = spec["activation"]
        try:
            activation = get_activation(name)
        except ValueError as exc:
            raise ValueError(f"layer {index}: {exc}") from None
        if layers and input_dim != layers[-1].output_dim:
            raise ValueError(
                f"layer {index}: input_dim={input_dim} does not match "
                f"output_dim={layers[-1].output_dim} of layer {index - 1}"
            )
        if index < last and not activation.hidden:
            raise ValueError(
                f"layer {index}: activation {name!r} is for the output layer only; "
                f"hidden layers take one of {HIDDEN_ACTIVATIONS}"
            )
        if index == last:
            if name == "sigmoid" and output_dim != 1:
                raise ValueError(
                    f"layer {index}: a sigmoid output needs output_dim=1 (binary cross-entropy), "
                    f"got output_dim={output_dim}; use 'softmax' for {output_dim} classes"
                )
            if name == "softmax" and output_dim < 2:
                raise ValueError(
                    f"layer {index}: a softmax output needs output_dim >= 2 (categorical "
                    f"cross-entropy), got output_dim={output_dim}; use 'sigmoid' for one unit"
                )
            if not activation.output:
                raise ValueError(
                    f"layer {index}: output activation {name!r} does not fit a loss; use "
                    "'sigmoid' with output_dim=1 (binary cross-entropy) or 'softmax' with "
                    "output_dim >= 2 (categorical cross-entropy)"
                )
        layers.append(Layer(input_dim, output_dim, name))
    return tuple(layers)


def to_dicts(layers: Iterable[Layer]) -> list[dict[str, Any]]:
    """The article's list of layer dicts (new dicts: editing them changes nothing)."""
    return [layer.to_dict() for layer in layers]


def sizes_to_architecture(
    sizes: Sequence[int],
    hidden_activation: str = "relu",
    output_activation: str = "sigmoid",
) -> list[dict[str, Any]]:
    """Shorthand: ``[2, 16, 16, 1]`` -> the list of layer dicts (validated).

    ``sizes`` are the layer widths from input to output; every layer but the last uses
    ``hidden_activation``.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs an input and an output size at least, got {sizes}")
    architecture = [
        {
            "input_dim": sizes[i],
            "output_dim": sizes[i + 1],
            "activation": output_activation if i == len(sizes) - 2 else hidden_activation,
        }
        for i in range(len(sizes) - 1)
    ]
    return to_dicts(validate_architecture(architecture))


def load_architecture(source: str | os.PathLike | Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The validated list of layer dicts, from a list or from a JSON file holding one."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a JSON text file") from None
        try:
            return to_dicts(validate_architecture(data))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    return to_dicts(validate_architecture(source))
