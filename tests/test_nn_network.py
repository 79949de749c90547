"""The core network's contract: architecture format, public API, numerics, bad input, training,
determinism, files. Gradients are checked in test_nn_gradients.py."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import robonet
from robonet.errors import DataError
from robonet.nn import (
    ACTIVATIONS,
    HIDDEN_ACTIVATIONS,
    Network,
    TrainingDiverged,
    binary_cross_entropy,
    categorical_cross_entropy,
    load_architecture,
    sigmoid,
    sizes_to_architecture,
    softmax,
)

# The article's Snippet 1, verbatim.
ARTICLE = [
    {"input_dim": 2, "output_dim": 4, "activation": "relu"},
    {"input_dim": 4, "output_dim": 6, "activation": "relu"},
    {"input_dim": 6, "output_dim": 6, "activation": "relu"},
    {"input_dim": 6, "output_dim": 4, "activation": "relu"},
    {"input_dim": 4, "output_dim": 1, "activation": "sigmoid"},
]


@pytest.fixture
def strict():
    """Every warning an error, and every floating-point fault (overflow, invalid, divide) too."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            yield


def blobs(n: int = 60, seed: int = 0, n_features: int = 2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


# --------------------------------------------------------------------------- architecture


def test_article_architecture_accepted_as_is() -> None:
    net = Network(ARTICLE, seed=0)
    assert net.architecture == ARTICLE
    assert net.architecture is not ARTICLE  # a copy: editing it changes nothing
    assert (net.n_inputs, net.n_outputs) == (2, 1)
    assert robonet.Network is Network


def test_architecture_from_json_file_behaves_like_the_literal(tmp_path) -> None:
    """The article compares names with `is`, which fails for a name decoded from JSON."""
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(ARTICLE))
    loaded = load_architecture(path)
    assert loaded == ARTICLE
    X, _ = blobs()
    a, b = Network(loaded, seed=3), Network(ARTICLE, seed=3)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_architecture_json_errors_name_the_file(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        load_architecture(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps([{"input_dim": 2, "output_dim": 1, "activation": "Sigmoid"}]))
    with pytest.raises(ValueError, match=r"wrong.json: layer 0: unknown activation 'Sigmoid'"):
        load_architecture(wrong)


def test_shorthand_sizes_give_the_same_list() -> None:
    assert sizes_to_architecture([2, 4, 6, 6, 4, 1]) == ARTICLE
    assert sizes_to_architecture([3, 5, 4], "tanh", "softmax") == [
        {"input_dim": 3, "output_dim": 5, "activation": "tanh"},
        {"input_dim": 5, "output_dim": 4, "activation": "softmax"},
    ]
    with pytest.raises(ValueError, match="sizes needs an input and an output"):
        sizes_to_architecture([3])


def _with(index: int, **changes):
    arch = [dict(layer) for layer in ARTICLE]
    arch[index].update(changes)
    return arch


@pytest.mark.parametrize(
    "architecture, message",
    [
        ([{k: v for k, v in ARTICLE[0].items() if k != "output_dim"}, *ARTICLE[1:]],
         r"layer 0: missing key\(s\) \['output_dim'\]"),
        (_with(2, units=6), r"layer 2: unknown key\(s\) \['units'\]"),
        (_with(1, output_dim=0), r"layer 1: output_dim=0 must be positive"),
        (_with(1, output_dim=-3), r"layer 1: output_dim=-3 must be positive"),
        (_with(0, input_dim=2.0), r"layer 0: input_dim=2.0 is not an integer"),
        (_with(0, input_dim="2"), r"layer 0: input_dim='2' is not an integer"),
        (_with(0, input_dim=True), r"layer 0: input_dim=True is not an integer"),
        (_with(3, input_dim=5), r"layer 3: input_dim=5 does not match output_dim=6 of layer 2"),
        (_with(2, activation="Relu"), r"layer 2: unknown activation 'Relu'; expected one of \["),
        (_with(1, activation="softmax"), r"layer 1: activation 'softmax' is for the output layer only"),
        (_with(4, activation="relu"), r"layer 4: output activation 'relu' does not fit a loss"),
        (_with(4, output_dim=2), r"layer 4: a sigmoid output needs output_dim=1.*got output_dim=2"),
        ([*ARTICLE[:4], {"input_dim": 4, "output_dim": 1, "activation": "softmax"}],
         r"layer 4: a softmax output needs output_dim >= 2.*got output_dim=1"),
        ([], "architecture is empty"),
        ("relu", "architecture must be a list of layer dicts or the path of a JSON file.*'relu' .no such file"),
        ([ARTICLE[0], ["input_dim", 4]], r"layer 1: expected a dict"),
    ],
)
def test_architecture_errors_name_layer_and_value(architecture, message) -> None:
    with pytest.raises(ValueError, match=message):
        Network(architecture)


def test_unknown_activation_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as info:
        Network(_with(0, activation="swish"))
    for name in HIDDEN_ACTIVATIONS:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"init": "zeros"}, "unknown init 'zeros'"),
    ({"dtype": np.float16}, "dtype must be float64 or float32"),
    ({"dtype": "complex128"}, "dtype must be float64 or float32"),
])
def test_bad_constructor_arguments(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        Network(ARTICLE, **kwargs)


# --------------------------------------------------------------------------- parameters and init


def test_parameters_have_the_article_shapes_and_are_live_views() -> None:
    net = Network(ARTICLE, seed=0)
    params = net.parameters()
    assert len(params) == 2 * len(ARTICLE)
    for layer, (W, b) in zip(ARTICLE, zip(params[0::2], params[1::2])):
        assert W.shape == (layer["output_dim"], layer["input_dim"])
        assert b.shape == (layer["output_dim"],)
        assert np.shares_memory(W, net.flat_parameters) and np.shares_memory(b, net.flat_parameters)
    assert net.flat_parameters.size == sum(p.size for p in params)
    X, _ = blobs()
    before = net.predict_proba(X)
    params[-1][...] += 5.0  # output bias up: every probability rises
    assert np.all(net.predict_proba(X) > before)
    params[-2][...] = 0.0
    params[-1][...] = 0.0
    np.testing.assert_array_equal(net.predict_proba(X), 0.5)


def test_init_is_seeded_and_leaves_global_state_alone() -> None:
    state = np.random.get_state()[1].copy()  # NumPy's global generator, which robonet never uses
    a = Network(ARTICLE, seed=5).flat_parameters
    b = Network(ARTICLE, seed=5).flat_parameters
    c = Network(ARTICLE, seed=6).flat_parameters
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_init_schemes() -> None:
    arch = sizes_to_architecture([400, 300, 1], "relu")
    W1, b1, W2, _ = Network(arch, seed=0, init="article").parameters()
    assert W1.std() == pytest.approx(0.1, rel=0.02) and b1.std() == pytest.approx(0.1, rel=0.3)
    W1, b1, W2, b2 = Network(arch, seed=0).parameters()  # auto: He for relu, Xavier for the sigmoid out
    assert W1.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert not b1.any() and not b2.any()
    limit = np.sqrt(6 / (300 + 1))
    assert np.abs(W2).max() <= limit and np.abs(W2).max() > 0.8 * limit
    W1 = Network(sizes_to_architecture([400, 300, 1], "tanh"), seed=0).parameters()[0]
    assert np.abs(W1).max() <= np.sqrt(6 / 700)


def test_float32_network() -> None:
    net = Network(ARTICLE, seed=0, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in net.parameters())
    X, y = blobs()
    assert net.predict_proba(X).dtype == np.float32
    history = net.fit(X, y, epochs=5, optimizer="adam", learning_rate=0.01, batch_size=16)
    assert len(history["cost"]) == 5 and np.isfinite(history["cost"]).all()


# --------------------------------------------------------------------------- prediction


def test_predict_shapes_sigmoid() -> None:
    net = Network(ARTICLE, seed=0)
    X, _ = blobs(7)
    proba = net.predict_proba(X)
    assert proba.shape == (7,) and np.all((proba >= 0) & (proba <= 1))
    labels = net.predict(X)
    assert labels.shape == (7,) and labels.dtype == np.int64
    np.testing.assert_array_equal(labels, (proba > 0.5).astype(int))
    one = net.predict_proba(X[3])
    assert one.shape == () and one == pytest.approx(proba[3], abs=1e-15)
    assert net.predict(X[3]).shape == () and int(net.predict(X[3])) == labels[3]
    assert net.predict_proba(X[3].tolist()).shape == ()  # a plain list works too


def test_predict_shapes_softmax() -> None:
    net = Network(sizes_to_architecture([2, 8, 3], "tanh", "softmax"), seed=0)
    X, _ = blobs(9)
    proba = net.predict_proba(X)
    assert proba.shape == (9, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(net.predict(X), proba.argmax(axis=1))
    assert net.predict_proba(X[0]).shape == (3,)
    np.testing.assert_allclose(net.predict_proba(X[0]), proba[0])
    assert net.predict(X[0]).shape == ()


def test_predict_does_not_modify_input() -> None:
    net = Network(ARTICLE, seed=0)
    X, _ = blobs(5)
    X32 = X.astype(np.float32)
    copy = X32.copy()
    net.predict_proba(X32)
    net.predict(np.asfortranarray(X))
    np.testing.assert_array_equal(X32, copy)


# --------------------------------------------------------------------------- numerics


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_take_huge_inputs_without_warnings(strict, name, dtype) -> None:
    z = np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0]], dtype=dtype)
    act = ACTIVATIONS[name]
    a = act.forward(z)
    assert a.shape == z.shape and np.isfinite(a).all()
    if act.backward_ is not None:
        assert np.isfinite(act.derivative(a)).all()


def test_sigmoid_and_softmax_values(strict) -> None:
    np.testing.assert_allclose(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(sigmoid(np.array([-2.0, 3.0])), 1 / (1 + np.exp([2.0, -3.0])))
    np.testing.assert_allclose(softmax(np.array([1000.0, -1000.0, 1000.0])), [0.5, 0.0, 0.5], atol=1e-300)
    z = np.array([[0.1, -1.2, 2.0], [3.0, 3.0, 3.0]])
    np.testing.assert_allclose(softmax(z), np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))


def test_binary_cross_entropy_is_stable_and_right(strict) -> None:
    z = np.array([-2.0, 0.5, 3.0])
    y = np.array([0.0, 1.0, 1.0])
    p = 1 / (1 + np.exp(-z))
    naive = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))  # the article's formula
    assert binary_cross_entropy(z, y) == pytest.approx(naive, rel=1e-12)
    # Saturated: the article's cost is NaN here (log 0); from the logits it is exact.
    assert binary_cross_entropy(np.array([1000.0, -1000.0]), np.array([1.0, 0.0])) == 0.0
    assert binary_cross_entropy(np.array([1000.0, -1000.0]), np.array([0.0, 1.0])) == pytest.approx(1000.0)
    assert binary_cross_entropy(np.array([800.0], np.float32), np.array([0.0])) == pytest.approx(800.0)


def test_categorical_cross_entropy_is_stable_and_right(strict) -> None:
    z = np.array([[0.2, -1.0, 2.0], [1.0, 1.0, -3.0]])
    y = np.array([2, 0])
    naive = -np.mean(np.log(softmax(z)[np.arange(2), y]))
    assert categorical_cross_entropy(z, y) == pytest.approx(naive, rel=1e-12)
    assert categorical_cross_entropy(z, np.eye(3)[y]) == pytest.approx(naive, rel=1e-12)
    assert categorical_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1])) == pytest.approx(2000.0)


def test_network_loss_is_finite_on_saturated_outputs(strict) -> None:
    net = Network(sizes_to_architecture([2, 3, 1], "relu"), seed=0)
    for p in net.parameters():
        p[...] = 50.0  # logits in the thousands: p rounds to exactly 1
    X = np.array([[10.0, 10.0], [5.0, 5.0]])
    assert np.all(net.predict_proba(X) == 1.0)
    assert net.loss(X, [1, 1]) == 0.0
    loss = net.loss(X, [0, 0])
    assert np.isfinite(loss) and loss > 1000
    assert all(np.isfinite(g).all() for g in net.gradients(X, [0, 0]))


# --------------------------------------------------------------------------- bad input (point 6)


@pytest.mark.parametrize(
    "X, y, message",
    [
        ([[0.0, np.nan], [1.0, 2.0]], [0, 1], r"X contains NaN at row 0, column 1"),
        ([[0.0, 1.0], [np.inf, 2.0]], [0, 1], r"X contains inf at row 1, column 0"),
        ([[0.0, 1.0], [1.0, 2.0]], [0.0, np.nan], r"y contains NaN at index 1"),
        ([[0.0, 1.0], [1.0, 2.0]], [np.inf, 0], r"y contains inf at index 0"),
        ([[0.0, 1.0, 2.0]], [0], r"X has 3 features, but the network expects 2"),
        ([[0.0, 1.0], [1.0, 2.0], [3.0, 4.0]], [0, 1, 2], r"labels must be 0 or 1.*found 2 at index 2"),
        ([[0.0, 1.0], [1.0, 2.0]], [0.5, 1], r"labels must be 0 or 1.*found 0.5 at index 0"),
        ([[0.0, 1.0], [1.0, 2.0]], [0, 1, 1], r"X has 2 samples but y has 3"),
        (np.empty((0, 2)), [], r"X is empty \(0 samples\)"),
        ([["a", "b"]], [0], r"X must be numeric"),
        (np.array([[None, 1.0]], dtype=object), [0], r"X must be numeric"),
        ([[0.0, 1.0], [1.0]], [0, 1], r"X is not a rectangular numeric array"),
        ([[0.0, 1.0]], ["1"], r"y must be numeric"),
        ([0.0, 1.0], [1], r"X must be 2-D \(n_samples, n_features\), got shape \(2,\)"),
        ([[[0.0, 1.0]]], [1], r"X must be 2-D"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "loss", "gradients", "accuracy"])
def test_bad_input_raises_value_error_naming_what_and_where(method, X, y, message) -> None:
    net = Network(ARTICLE, seed=0)
    before = net.flat_parameters.copy()
    call = getattr(net, method)
    with pytest.raises(ValueError, match=message):
        call(X, y, epochs=1) if method == "fit" else call(X, y)
    np.testing.assert_array_equal(net.flat_parameters, before)


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
@pytest.mark.parametrize(
    "X, message",
    [
        ([[0.0, np.nan]], r"X contains NaN at row 0, column 1"),
        ([0.0, np.inf], r"X contains inf at index 1"),
        ([0.0, 1.0, 2.0], r"X has 3 features, but the network expects 2"),
        (np.empty((0, 2)), r"X is empty"),
        (["a", "b"], r"X must be numeric"),
        (np.zeros((1, 1, 2)), r"X must be 2-D .* or 1-D"),
    ],
)
def test_bad_prediction_input(method, X, message) -> None:
    with pytest.raises(ValueError, match=message):
        getattr(Network(ARTICLE, seed=0), method)(X)


def test_bad_softmax_labels() -> None:
    net = Network(sizes_to_architecture([2, 4, 3], "relu", "softmax"), seed=0)
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"integers in 0..2 .* found 3 at index 1"):
        net.loss(X, [0, 3, 1])
    with pytest.raises(ValueError, match=r"found -1 at index 2"):
        net.loss(X, [0, 1, -1])
    with pytest.raises(ValueError, match=r"found 1.5 at index 0"):
        net.loss(X, [1.5, 1, 0])
    with pytest.raises(ValueError, match=r"one-hot y row 1 is not a single 1"):
        net.loss(X, [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match=r"one-hot y has 2 columns, but the network has 3 outputs"):
        net.loss(X, np.zeros((3, 2)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, r"epochs must be a positive integer, got 0"),
        ({"epochs": 2.5}, r"epochs must be a positive integer"),
        ({"batch_size": 0}, r"batch_size must be a positive integer, got 0"),
        ({"learning_rate": -0.1}, r"learning_rate must be a positive number"),
        ({"learning_rate": float("nan")}, r"learning_rate must be a positive number"),
        ({"optimizer": "rmsprop"}, r"unknown optimizer 'rmsprop'; expected one of \['adam', 'momentum', 'sgd'\]"),
        ({"l2": -1.0}, r"l2 must be a number >= 0"),
        ({"validation_split": 1.0}, r"validation_split must be in \[0, 1\)"),
        ({"validation_split": "0.2"}, r"validation_split must be in \[0, 1\), got '0.2'"),
        ({"patience": 0}, r"patience must be a positive integer"),
        ({"validation_data": ([[0.0, 1.0]],)}, r"validation_data must be a pair"),
        ({"validation_data": ([[0.0, np.nan]], [1])}, r"X_val contains NaN at row 0, column 1"),
        ({"validation_data": ([[0.0, 1.0]], [2])}, r"labels must be 0 or 1.*found 2 at index 0"),
        ({"validation_data": ([[0.0, 1.0]], [0, 1])}, r"X has 1 samples but y_val has 2"),
        ({"validation_data": ([[0.0, 1.0]], [1]), "validation_split": 0.2}, r"not both"),
    ],
)
def test_bad_fit_arguments(kwargs, message) -> None:
    X, y = blobs(20)
    with pytest.raises(ValueError, match=message):
        Network(ARTICLE, seed=0).fit(X, y, **{"epochs": 1, **kwargs})


def test_divergence_stops_naming_the_epoch_with_finite_weights(strict) -> None:
    X, y = blobs(64)
    X = X * 10
    net = Network(sizes_to_architecture([2, 8, 8, 1], "linear"), seed=0)
    with pytest.raises(TrainingDiverged, match=r"training diverged at epoch (\d+): the cost is nan") as info:
        net.fit(X, y, epochs=100, learning_rate=1e6)
    assert isinstance(info.value, ValueError)
    assert f"epoch {info.value.epoch}:" in str(info.value) and 1 < info.value.epoch < 100
    assert len(info.value.history["cost"]) == info.value.epoch - 1
    assert np.isfinite(net.flat_parameters).all()
    assert np.isfinite(net.predict_proba(X)).all()
    # The weights kept are those at the start of the epoch before the one at fault, i.e. after
    # epoch - 2 updates: a fresh run of that many epochs ends on the same bits.
    replay = Network(sizes_to_architecture([2, 8, 8, 1], "linear"), seed=0)
    if info.value.epoch > 2:
        replay.fit(X, y, epochs=info.value.epoch - 2, learning_rate=1e6)
    assert replay.flat_parameters.tobytes() == net.flat_parameters.tobytes()


def test_divergence_in_the_last_update_is_caught() -> None:
    """The cost checks the weights before each update: the final update needs its own check.

    Whatever the number of epochs, fit either returns a network with a finite cost or raises;
    among these runs, some diverge in exactly their last update.
    """
    X, y = blobs(64)
    X = X * 100
    last_update_caught = val_caught = 0
    for epochs in range(1, 9):
        for validation in (None, (X, y)):
            net = Network(sizes_to_architecture([2, 8, 1], "linear"), seed=0)
            try:
                net.fit(X, y, epochs=epochs, learning_rate=1e30, validation_data=validation)
            except TrainingDiverged as exc:
                last_update_caught += "its update made" in str(exc)
                val_caught += "the validation cost after its update" in str(exc)
            with np.errstate(over="ignore", invalid="ignore"):
                assert np.isfinite(net.loss(X, y)), (epochs, validation is not None)
    assert last_update_caught and val_caught


def test_numpy_scalars_are_accepted_as_settings() -> None:
    X, y = blobs(40)
    history = Network(ARTICLE, seed=0).fit(X, y, epochs=3, learning_rate=np.float32(0.1), l2=np.float64(0.0))
    assert len(history["cost"]) == 3
    with pytest.raises(ValueError, match="learning_rate must be a positive number, got True"):
        Network(ARTICLE, seed=0).fit(X, y, epochs=1, learning_rate=True)


def test_huge_finite_inputs(strict) -> None:
    """Checking X for NaN must not itself overflow; a value float32 cannot hold is named."""
    net = Network(ARTICLE, seed=0, dtype=np.float32)
    with pytest.raises(ValueError, match=r"X holds 1e\+39 at row 1, column 0, too large for the network's float32"):
        net.predict_proba(np.array([[0.0, 1.0], [1e39, 0.0]]))
    net64 = Network(ARTICLE, seed=0)
    with pytest.raises(ValueError, match=r"X contains NaN at row 1, column 1"):
        net64.predict_proba(np.array([[1e308, 1e308], [0.0, np.nan]]))


# --------------------------------------------------------------------------- training


def test_fit_history_follows_the_article() -> None:
    """Full batch: cost and accuracy of each epoch are those of the weights before its update."""
    X, y = blobs(40)
    net = Network(ARTICLE, seed=1)
    first_cost, first_accuracy = net.loss(X, y), net.accuracy(X, y)
    history = net.fit(X, y, epochs=30, learning_rate=0.1)
    assert set(history) == {"cost", "accuracy"}
    assert len(history["cost"]) == len(history["accuracy"]) == 30
    assert history["cost"][0] == pytest.approx(first_cost, rel=1e-12)
    assert history["accuracy"][0] == first_accuracy
    assert history["cost"][-1] < history["cost"][0]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_optimizers_reduce_the_loss(optimizer) -> None:
    X, y = blobs(80)
    net = Network(sizes_to_architecture([2, 16, 1]), seed=0)
    before = net.loss(X, y)
    net.fit(X, y, epochs=20, learning_rate=0.05, optimizer=optimizer, batch_size=16, seed=0)
    assert net.loss(X, y) < 0.7 * before


@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_adam_matches_the_textbook_update(l2) -> None:
    """Adam keeps its bias-corrected moments in a stacked form; the steps must still be
    PyTorch's alpha m_hat / (sqrt(v_hat) + eps), with L2 added to the weights' gradient."""
    from robonet.nn import Trainer

    X, y = blobs(40)
    net = Network(sizes_to_architecture([2, 8, 1]), seed=0)
    trainer = Trainer(net, optimizer="adam", learning_rate=0.05, l2=l2)
    theta = net.flat_parameters.copy()
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.05
    for t in range(1, 31):
        grads = net.gradients(X, y)
        g = np.concatenate([p.ravel() for p in grads[0::2]] + [p.ravel() for p in grads[1::2]])
        g[: net.n_weights] += l2 * theta[: net.n_weights]
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        trainer.step(X, y)
        np.testing.assert_allclose(net.flat_parameters, theta, rtol=1e-9, atol=1e-12)


def test_validation_split_and_data() -> None:
    X, y = blobs(50)
    net = Network(ARTICLE, seed=0)
    history = net.fit(X, y, epochs=3, validation_split=0.2)
    assert set(history) == {"cost", "accuracy", "val_cost", "val_accuracy"}
    # the held-out fifth is the last 10 rows, scored after each epoch's update
    assert history["val_cost"][-1] == pytest.approx(net.loss(X[-10:], y[-10:]), rel=1e-12)
    history = net.fit(X[:40], y[:40], epochs=2, validation_data=(X[40:], y[40:]))
    assert history["val_accuracy"][-1] == net.accuracy(X[40:], y[40:])


def test_patience_stops_early_and_restores_the_best_weights() -> None:
    X, y = blobs(60)
    net = Network(sizes_to_architecture([2, 32, 32, 1]), seed=0)
    seen = []

    def remember(epoch, logs):
        seen.append(net.flat_parameters.copy())

    # A learning rate so large that the validation cost bounces: patience must stop and roll back.
    history = net.fit(X[:40], y[:40], epochs=300, learning_rate=3.0, optimizer="sgd",
                      validation_data=(X[40:], y[40:]), patience=3, callback=remember)
    run = len(history["val_cost"])
    assert run < 300
    best = int(np.argmin(history["val_cost"]))
    assert run - 1 - best == 3  # stopped 3 epochs after the best
    np.testing.assert_array_equal(net.flat_parameters, seen[best])


def test_callback_can_stop_and_verbose_prints(capsys) -> None:
    X, y = blobs(30)
    calls = []
    history = Network(ARTICLE, seed=0).fit(
        X, y, epochs=50, verbose=True, callback=lambda epoch, logs: calls.append((epoch, logs)) or epoch == 4)
    assert [epoch for epoch, _ in calls] == [0, 1, 2, 3, 4]
    assert len(history["cost"]) == 5 and calls[2][1]["cost"] == history["cost"][2]
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 5 and out[0].startswith("epoch 1/50 - cost ")


def test_l2_shrinks_the_weights() -> None:
    X, y = blobs(60)
    plain, decayed = Network(ARTICLE, seed=0), Network(ARTICLE, seed=0)
    plain.fit(X, y, epochs=100, learning_rate=0.1)
    decayed.fit(X, y, epochs=100, learning_rate=0.1, l2=0.5)
    norm = lambda net: sum(float(np.sum(W * W)) for W in net.parameters()[0::2])  # noqa: E731
    assert norm(decayed) < 0.8 * norm(plain)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_seed_same_data_bitwise_identical_weights(dtype) -> None:
    X, y = blobs(101)  # 101 = 3 batches of 32 and a remainder of 5

    def train(seed: int) -> np.ndarray:
        net = Network(ARTICLE, seed=seed, dtype=dtype)
        net.fit(X, y, epochs=15, optimizer="adam", learning_rate=0.01, batch_size=32, validation_split=0.1)
        return net.flat_parameters.copy()

    a, b, c = train(4), train(4), train(5)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


def test_fit_seed_controls_the_shuffling() -> None:
    X, y = blobs(64)
    nets = [Network(ARTICLE, seed=0) for _ in range(3)]
    for net, seed in zip(nets, (1, 1, 2)):
        net.fit(X, y, epochs=3, batch_size=8, optimizer="adam", seed=seed)
    assert np.array_equal(nets[0].flat_parameters, nets[1].flat_parameters)
    assert not np.array_equal(nets[0].flat_parameters, nets[2].flat_parameters)


def test_learns_xor() -> None:
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    net = Network(sizes_to_architecture([2, 8, 1], "tanh"), seed=0)
    net.fit(X, y, epochs=500, optimizer="adam", learning_rate=0.05)
    np.testing.assert_array_equal(net.predict(X), y)
    assert net.loss(X, y) < 0.05


def test_learns_three_classes_with_softmax() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    y = rng.integers(0, 3, 300)
    X = centres[y] + rng.normal(size=(300, 2))
    net = Network(sizes_to_architecture([2, 16, 3], "relu", "softmax"), seed=0)
    net.fit(X, y, epochs=30, optimizer="adam", learning_rate=0.01, batch_size=32)
    assert net.accuracy(X, y) > 0.95


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_load_round_trip_is_exact(tmp_path, dtype) -> None:
    X, y = blobs(40)
    net = Network(sizes_to_architecture([2, 5, 3], "leaky_relu", "softmax"), seed=2, dtype=dtype)
    net.fit(X, y, epochs=5, optimizer="adam", learning_rate=0.01)
    extra = {"mean": np.array([1.5, -2.0]), "names": np.array(["a", "b"])}
    path = net.save(tmp_path / "model", metadata={"note": "hi", "n": [1, 2]}, extra_arrays=extra)
    assert path == tmp_path / "model.npz" and path.exists()
    loaded = Network.load(path)
    assert loaded.architecture == net.architecture and loaded.dtype == net.dtype
    assert loaded.flat_parameters.tobytes() == net.flat_parameters.tobytes()
    assert loaded.metadata == {"note": "hi", "n": [1, 2]}
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    from robonet.nn import io

    _, metadata, arrays = io.load(path)
    assert metadata["note"] == "hi"
    np.testing.assert_array_equal(arrays["mean"], extra["mean"])
    np.testing.assert_array_equal(arrays["names"], extra["names"])
    with np.load(path, allow_pickle=False) as data:  # plain NumPy reads it, without pickle
        assert data["W1"].shape == (5, 2)


def test_save_rejects_unserializable_metadata(tmp_path) -> None:
    net = Network(ARTICLE, seed=0)
    with pytest.raises(ValueError, match="metadata is not JSON-serializable"):
        net.save(tmp_path / "m.npz", metadata={"f": object()})
    assert not list(tmp_path.iterdir())  # no half-written file left behind


def test_save_refuses_non_finite_weights_and_load_finds_the_npz(tmp_path) -> None:
    net = Network(ARTICLE, seed=0)
    written = net.save(tmp_path / "m")
    assert written == tmp_path / "m.npz"
    again = Network.load(tmp_path / "m")  # the name given to save works for load too
    assert again.flat_parameters.tobytes() == net.flat_parameters.tobytes()
    net.parameters()[2][1, 3] = np.inf
    with pytest.raises(ValueError, match=r"not saving .*bad.npz: parameter W2 contains NaN or inf"):
        net.save(tmp_path / "bad.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_architecture_from_a_json_path(tmp_path) -> None:
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(ARTICLE))
    assert Network(path, seed=3).architecture == ARTICLE
    assert Network(str(path), seed=3).flat_parameters.tobytes() == Network(ARTICLE, seed=3).flat_parameters.tobytes()


@pytest.fixture
def saved(tmp_path):
    return Network(ARTICLE, seed=0).save(tmp_path / "net.npz")


def test_load_truncated_file(saved) -> None:
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"net.npz: not a robonet network file"):
        Network.load(saved)


def test_load_corrupt_file(saved) -> None:
    data = bytearray(saved.read_bytes())
    start = data.index(b"W2.npy") + 200  # inside the W2 member's bytes
    data[start : start + 64] = bytes(64)
    saved.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"net.npz: (corrupt file|not a robonet network file)"):
        Network.load(saved)


def test_load_foreign_files(tmp_path) -> None:
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, W1=np.zeros((4, 2)), b1=np.zeros(4))
    with pytest.raises(DataError, match=r"foreign.npz: not a robonet network file \(no '__robonet__' entry"):
        Network.load(foreign)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(DataError, match=r"single.npy: holds a single array"):
        Network.load(single)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(DataError, match=r"notes.npz: not a robonet network file"):
        Network.load(text)
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"pickled.npy: not a robonet network file"):
        Network.load(pickled)
    with pytest.raises(FileNotFoundError):
        Network.load(tmp_path / "missing.npz")


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays.update(changes)
    for name in [name for name, value in changes.items() if value is None]:
        del arrays[name]
    np.savez(path, **arrays)


def test_load_shape_mismatch_names_the_array(saved) -> None:
    _rewrite(saved, W2=np.zeros((6, 5)))
    with pytest.raises(DataError, match=r"net.npz: W2 has shape \(6, 5\), but the architecture needs \(6, 4\)"):
        Network.load(saved)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"b3": None}, r"array\(s\) \['b3'\] missing"),
        ({"W9": np.zeros(2)}, r"unexpected array\(s\) \['W9'\]"),
        ({"W1": np.full((4, 2), np.nan)}, r"W1 contains NaN or inf"),
        ({"W1": np.zeros((4, 2), np.float32)}, r"W1 has dtype float32, but the header says float64"),
        ({"__robonet__": np.frombuffer(b"{not json", np.uint8)}, r"header '__robonet__' is not valid JSON"),
    ],
)
def test_load_damaged_contents(saved, changes, message) -> None:
    _rewrite(saved, **changes)
    with pytest.raises(DataError, match=message):
        Network.load(saved)


def test_load_rejects_bad_architecture_and_newer_version(saved) -> None:
    with np.load(saved, allow_pickle=False) as data:
        header = json.loads(data["__robonet__"].tobytes())
    header["architecture"][1]["activation"] = "swish"
    _rewrite(saved, __robonet__=np.frombuffer(json.dumps(header).encode(), np.uint8))
    with pytest.raises(DataError, match=r"net.npz: layer 1: unknown activation 'swish'"):
        Network.load(saved)
    header["architecture"][1]["activation"] = "relu"
    header["version"] = 99
    _rewrite(saved, __robonet__=np.frombuffer(json.dumps(header).encode(), np.uint8))
    with pytest.raises(DataError, match=r"format version 99 by a newer robonet"):
        Network.load(saved)
