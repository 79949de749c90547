"""The article's dense network in plain NumPy, done right and fast.

    >>> from robonet.nn import Network, sizes_to_architecture
    >>> net = Network(sizes_to_architecture([2, 25, 50, 50, 25, 1]), seed=0)
    >>> history = net.fit(X, y, epochs=10_000, learning_rate=0.01)   # the article's settings
    >>> net.predict(X_test)

Modules, one per step of the article: ``architecture`` (the list of layer dicts), ``activations``,
``network`` (init, forward, backward, predict), ``losses``, ``optimizers`` (the update),
``training`` (the train loop), ``io`` (save and load). NumPy is the only dependency.
"""
from robonet.nn.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, sigmoid, softmax
from robonet.nn.architecture import Layer, load_architecture, sizes_to_architecture, validate_architecture
from robonet.nn.losses import accuracy, binary_cross_entropy, categorical_cross_entropy
from robonet.nn.network import Network
from robonet.nn.optimizers import SGD, Adam, Momentum, Optimizer
from robonet.nn.training import Trainer, TrainingDiverged, fit

__all__ = [
    "ACTIVATIONS",
    "HIDDEN_ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "Adam",
    "Layer",
    "Momentum",
    "Network",
    "Optimizer",
    "SGD",
    "Trainer",
    "TrainingDiverged",
    "accuracy",
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "fit",
    "load_architecture",
    "sigmoid",
    "sizes_to_architecture",
    "softmax",
    "validate_architecture",
]
