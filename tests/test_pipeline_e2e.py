"""End to end through the CLI's main, in-process: collect -> train -> evaluate -> watch/dagger."""
import json

import numpy as np
import pytest
from PIL import Image

from robonet.cli import main
from robonet.logs import load_logs

ROBOT = "robonet/ObstacleAvoidance-v0"
KEYS = {"env", "episodes", "mean_return", "std_return", "min_return", "max_return", "mean_length"}


def run_ok(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def evaluate_json(capsys, *argv):
    return json.loads(run_ok(capsys, "evaluate", *argv, "--json").strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cartpole(tmp_path_factory):
    """A CartPole log (3 expert episodes) and a briefly trained controller."""
    root = tmp_path_factory.mktemp("cartpole")
    logs, model = root / "logs", root / "model.npz"
    assert main(["collect", "--env", "CartPole-v1", "--episodes", "3", "--out", str(logs), "--seed", "0"]) == 0
    assert main(["train", "--logs", str(logs), "--out", str(model), "--epochs", "5", "--seed", "0"]) == 0
    return logs, model


def test_cartpole_end_to_end(cartpole, capsys):
    logs, model = cartpole
    assert load_logs(logs).n_episodes == 3
    assert model.exists() and model.with_name("model_curves.png").exists()
    result = evaluate_json(capsys, "--model", str(model), "--episodes", "3", "--seed", "9")
    assert set(result) == KEYS  # exactly the documented keys; no collision rate for CartPole
    assert result["env"] == "CartPole-v1" and result["episodes"] == 3
    assert result["min_return"] <= result["mean_return"] <= result["max_return"] <= 500
    assert result["mean_length"] == result["mean_return"]  # CartPole pays 1 per step


def test_train_prints_per_epoch_loss_and_accuracy(cartpole, tmp_path, capsys):
    logs, _ = cartpole
    out = run_ok(capsys, "train", "--logs", str(logs), "--out", str(tmp_path / "m"), "--epochs", "3",
                 "--hidden", "8", "--no-plot")
    epoch_lines = [line for line in out.splitlines() if line.startswith("epoch")]
    assert len(epoch_lines) == 3
    assert all("loss" in line and "acc" in line and "val_loss" in line and "val_acc" in line for line in epoch_lines)
    assert (tmp_path / "m.npz").exists() and not (tmp_path / "m_curves.png").exists()


def test_robot_end_to_end_with_collision_rate(tmp_path, capsys):
    logs, model = tmp_path / "logs", tmp_path / "robot.npz"
    run_ok(capsys, "collect", "--env", ROBOT, "--episodes", "2", "--out", str(logs))
    run_ok(capsys, "train", "--logs", str(logs), "--out", str(model), "--epochs", "2", "--no-plot")
    result = evaluate_json(capsys, "--model", str(model), "--episodes", "2", "--seed", "5")
    assert set(result) == KEYS | {"collision_rate"}
    assert result["env"] == ROBOT and 0.0 <= result["collision_rate"] <= 1.0
    expert = evaluate_json(capsys, "--expert", "scripted", "--env", ROBOT, "--episodes", "2", "--seed", "5")
    assert set(expert) == KEYS | {"collision_rate"}


def test_evaluate_is_seeded(cartpole, capsys):
    _, model = cartpole
    args = ("--model", str(model), "--episodes", "2", "--seed", "4")
    assert evaluate_json(capsys, *args) == evaluate_json(capsys, *args)


@pytest.mark.parametrize("argv, message", [
    (["collect", "--env", "CartPole-v1", "--episodes", "0", "--out", "{tmp}/x"], "--episodes must be >= 1, got 0"),
    (["collect", "--env", "CartPole-v1", "--noise", "2", "--out", "{tmp}/x"], "--noise must be a probability"),
    (["collect", "--env", "NoSuchEnv-v9", "--out", "{tmp}/x"], "unknown env id 'NoSuchEnv-v9'"),
    (["collect", "--env", "CartPole-v1", "--num-envs", "0", "--out", "{tmp}/x"], "--num-envs must be >= 1"),
    (["evaluate", "--model", "{tmp}/garbage.npz", "--episodes", "1"], "not a NumPy .npy or .npz file"),
    (["train", "--logs", "{tmp}/missing", "--out", "{tmp}/m"], "sensor log {tmp}/missing does not exist"),
    (["train", "--logs", "{tmp}", "--out", "{tmp}/m"], "manifest.json is missing"),
    (["train", "--logs", "{logs}", "--out", "{tmp}/m", "--hidden", "32,x"], "--hidden must be comma-separated"),
    (["train", "--logs", "{logs}", "--out", "{tmp}/m", "--validation-split", "1.5"], "--validation-split must be in [0, 1)"),
    (["train", "--logs", "{logs}", "--out", "{tmp}/m", "--activation", "relu6"], "relu6"),
    (["evaluate", "--expert", "scripted", "--env", "MountainCar-v0", "--episodes", "1"], "no scripted expert"),
    (["watch", "--model", "{model}"], "use --record FILE.gif"),
    (["watch", "--model", "{model}", "--record", "{tmp}/x.png"], "needs a .gif file name"),
])
def test_user_mistakes_are_one_line_errors(argv, message, cartpole, tmp_path, capsys):
    logs, model = cartpole
    fill = {"tmp": str(tmp_path), "logs": str(logs), "model": str(model)}
    (tmp_path / "garbage.npz").write_bytes(bytes(range(256)) * 4)
    code = main([a.format(**fill) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"robonet {argv[0]}: error:"), err
    assert message.format(**fill) in lines[0]
    assert "allow_pickle" not in lines[0]  # never advise loading a user's file unsafely
    assert not (tmp_path / "x").exists()  # a refused collect leaves no directory behind


def test_collect_into_an_existing_log_needs_append(cartpole, capsys):
    logs, _ = cartpole
    assert main(["collect", "--env", "CartPole-v1", "--episodes", "1", "--out", str(logs)]) == 2
    assert "pass --append" in capsys.readouterr().err
    assert load_logs(logs).n_episodes == 3  # untouched


def test_watch_record_writes_a_gif_with_distinct_frames(cartpole, tmp_path, capsys):
    _, model = cartpole
    gif = tmp_path / "cartpole.gif"
    run_ok(capsys, "watch", "--model", str(model), "--record", str(gif), "--episodes", "1", "--max-frames", "12")
    with Image.open(gif) as image:
        assert image.n_frames == 12
        frames = []
        for i in range(image.n_frames):
            image.seek(i)
            frames.append(np.asarray(image.convert("RGB")))
    assert len({f.tobytes() for f in frames}) >= 6


def test_watch_record_robot(tmp_path, capsys):
    logs, model = tmp_path / "logs", tmp_path / "robot.npz"
    run_ok(capsys, "collect", "--env", ROBOT, "--episodes", "1", "--out", str(logs))
    run_ok(capsys, "train", "--logs", str(logs), "--out", str(model), "--epochs", "1", "--no-plot",
           "--validation-split", "0")
    gif = tmp_path / "robot.gif"
    run_ok(capsys, "watch", "--model", str(model), "--record", str(gif), "--episodes", "1", "--max-frames", "5")
    with Image.open(gif) as image:
        assert image.n_frames == 5


def test_dagger_grows_the_log_and_retrains(cartpole, tmp_path, capsys):
    logs, model = cartpole
    import shutil

    own_logs = tmp_path / "logs"
    shutil.copytree(logs, own_logs)
    before = load_logs(own_logs)
    out = run_ok(capsys, "dagger", "--model", str(model), "--expert", "scripted", "--rounds", "2", "--episodes", "2",
                 "--out", str(tmp_path / "model2.npz"), "--logs", str(own_logs), "--epochs", "2")
    after = load_logs(own_logs)
    assert after.n_episodes == before.n_episodes + 4
    assert len(after) > len(before)
    assert "round 2/2" in out
    policies = [c["policy"] for c in after.manifest["collections"]]
    assert policies[-2:] == ["dagger round 1 (model.npz)", "dagger round 2 (model.npz)"]
    result = evaluate_json(capsys, "--model", str(tmp_path / "model2.npz"), "--episodes", "1")
    assert result["env"] == "CartPole-v1"
