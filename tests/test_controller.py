"""Controller: fast single-observation path == batched path == the network; files and errors."""
import numpy as np
import pytest

from robonet.cli import main
from robonet.controller import Controller, load_controller
from robonet.errors import DataError
from robonet.nn import Network, sizes_to_architecture


def make_controller(hidden_activation="relu", sizes=(4, 16, 8, 1), seed=0, output="sigmoid"):
    rng = np.random.default_rng(seed)
    net = Network(sizes_to_architecture(list(sizes), hidden_activation=hidden_activation,
                                        output_activation=output), seed=seed)
    mean = rng.normal(size=sizes[0])
    std = rng.uniform(0.5, 3.0, size=sizes[0])
    names = ["push_left", "push_right"] if sizes[-1] == 1 else [f"a{i}" for i in range(sizes[-1])]
    if sizes[-1] == 1:
        # centre the output so that random observations get both actions
        p = np.asarray(net.predict_proba(rng.normal(size=(200, sizes[0])))).reshape(-1)
        z = np.log(np.clip(p, 1e-12, 1)) - np.log(np.clip(1 - p, 1e-12, 1))
        net.parameters()[-1][...] -= np.median(z)
    return Controller(net, mean, std, env_id="CartPole-v1", action_names=names)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_single_and_batch_paths_agree_with_the_network(activation):
    controller = make_controller(activation)
    X = np.random.default_rng(1).normal(scale=2.0, size=(500, 4)).astype(np.float32)
    batch = controller.batch(X)
    single = np.array([controller(x) for x in X])
    np.testing.assert_array_equal(single, batch)
    assert all(type(controller(x)) is int for x in X[:3])
    # the folded standardisation computes what the network computes on standardised inputs
    p_net = np.asarray(controller.network.predict_proba(controller.standardize(X))).reshape(-1)
    np.testing.assert_allclose(controller.predict_proba(X)[:, 1], p_net, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(batch, (p_net > 0.5).astype(int))
    assert 0 < batch.sum() < len(batch)  # both actions occur, so the comparison means something


def test_softmax_output_uses_argmax():
    controller = make_controller(sizes=(4, 8, 3), output="softmax")
    X = np.random.default_rng(2).normal(size=(200, 4))
    np.testing.assert_array_equal([controller(x) for x in X], controller.batch(X))
    proba = controller.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.argmax(axis=1), controller.batch(X))


def test_save_and_load_round_trip(tmp_path):
    controller = make_controller()
    path = controller.save(tmp_path / "model")
    assert path.suffix == ".npz"
    loaded = load_controller(path)
    X = np.random.default_rng(3).normal(size=(100, 4))
    np.testing.assert_array_equal(loaded.batch(X), controller.batch(X))
    np.testing.assert_array_equal(loaded.obs_std, controller.obs_std)
    assert loaded.env_id == "CartPole-v1" and loaded.action_names == ["push_left", "push_right"]


def test_wrong_observation_shape_names_sizes_and_env():
    controller = make_controller()
    with pytest.raises(ValueError, match=r"observation shape \(5,\) does not fit a controller with 4 inputs \(trained on CartPole-v1\)"):
        controller(np.zeros(5))
    with pytest.raises(ValueError, match="trained on CartPole-v1"):
        controller.batch(np.zeros((2, 7)))


def test_evaluating_on_an_env_with_another_observation_size_fails_clearly(tmp_path, capsys):
    path = make_controller().save(tmp_path / "cartpole.npz")
    code = main(["evaluate", "--model", str(path), "--env", "robonet/ObstacleAvoidance-v0", "--episodes", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "robonet/ObstacleAvoidance-v0 gives observations of size" in err
    assert "takes 4 inputs (it was trained on CartPole-v1)" in err
    assert len(err.strip().splitlines()) == 1


def test_plain_network_file_is_not_a_controller(tmp_path):
    net = Network(sizes_to_architecture([4, 3, 1]), seed=0)
    path = net.save(tmp_path / "net.npz")
    with pytest.raises(DataError, match="not a robonet controller"):
        load_controller(path)


def test_corrupt_and_missing_model_files_give_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip archive")
    assert main(["evaluate", "--model", str(bad), "--episodes", "1"]) == 2
    err = capsys.readouterr().err
    assert "bad.npz" in err and len(err.strip().splitlines()) == 1
    assert main(["evaluate", "--model", str(tmp_path / "missing.npz"), "--episodes", "1"]) == 2
    err = capsys.readouterr().err
    assert "missing.npz" in err and len(err.strip().splitlines()) == 1


def test_standardisation_arrays_are_validated(tmp_path):
    net = Network(sizes_to_architecture([4, 3, 1]), seed=0)
    with pytest.raises(DataError, match=r"obs_std has shape \(3,\), the network has 4 inputs"):
        Controller(net, np.zeros(4), np.ones(3), env_id="CartPole-v1")
    with pytest.raises(DataError, match="obs_std must be > 0"):
        Controller(net, np.zeros(4), np.zeros(4), env_id="CartPole-v1")
