"""robonet's pipeline as the benchmarks drive it: the CLI in-process, controller files, rollouts."""
from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np

from bench.harness import Unavailable
from bench.peers import need

CARTPOLE = "CartPole-v1"
ROBOT = "robonet/ObstacleAvoidance-v0"


def cli(argv: list[str]) -> str:
    """Run ``robonet <argv>`` in this process (as the tests do); output captured and returned.

    Raises Unavailable when the subcommand has not landed, RuntimeError when it fails.
    """
    cli_mod = need("robonet.cli", "robonet CLI")
    if argv[0] not in cli_mod._available_commands():
        raise Unavailable(f"`robonet {argv[0]}` is not available yet (issue 4)")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli_mod.main(argv)
        except SystemExit as exc:  # argparse errors
            rc = exc.code
    if rc not in (0, None):
        raise RuntimeError(f"robonet {' '.join(argv)} -> exit {rc}: {err.getvalue()[-800:]}")
    return out.getvalue()


def envs():
    """robonet.envs (registers the robot) or Unavailable."""
    return need("robonet.envs", "robonet.envs (issue 3)")


def expert(env_id: str):
    envs()
    experts = need("robonet.envs.experts", "robonet.envs.experts (issue 3)")
    try:
        return experts.get_expert(env_id)
    except (ValueError, AttributeError) as exc:
        raise Unavailable(f"no scripted expert for {env_id} yet: {exc}") from exc


def make(env_id: str, **kw):
    gym = need("gymnasium")
    if env_id.startswith("robonet/"):
        envs()
    return gym.make(env_id, **kw)


def sample_observations(env_id: str, n: int, seed: int) -> np.ndarray:
    """``n`` observations from expert rollouts (what a controller sees when driving)."""
    env = make(env_id)
    pilot = expert(env_id)
    obs, _ = env.reset(seed=seed)
    out = []
    episode = 0
    while len(out) < n:
        out.append(np.array(obs))
        obs, _, term, trunc, _ = env.step(int(pilot(obs)))
        if term or trunc:
            episode += 1
            obs, _ = env.reset(seed=seed + episode)
    env.close()
    return np.stack(out)


def controller_file(env_id: str, workdir: Path, episodes: int, seed: int,
                    train_args: list[str] | None = None) -> Path:
    """Collect expert logs and train a controller with `robonet collect` / `robonet train`."""
    workdir = Path(workdir)
    logs = workdir / f"logs-{env_id.replace('/', '_')}-{episodes}-{seed}"
    model = workdir / f"model-{env_id.replace('/', '_')}-{episodes}-{seed}.npz"
    if not logs.exists():
        cli(["collect", "--env", env_id, "--episodes", str(episodes), "--out", str(logs),
             "--seed", str(seed)])
    if not model.exists():
        cli(["train", "--logs", str(logs), "--out", str(model), "--seed", str(seed),
             *(train_args or [])])
    return model


def load_controller(path: Path):
    ctrl = need("robonet.controller", "robonet.controller (issue 4)")
    return ctrl.load_controller(path)


def sizes_of(architecture: list) -> list[int]:
    """[n_in, n_h1, ..., n_out] from the list of layer dicts (or layer objects)."""
    def get(layer, key):
        return layer[key] if isinstance(layer, dict) else getattr(layer, key)
    return [int(get(architecture[0], "input_dim"))] + [int(get(l, "output_dim")) for l in architecture]


def quiet_env() -> dict:
    env = dict(os.environ)
    env.setdefault("SDL_VIDEODRIVER", "dummy")
    env.setdefault("SDL_AUDIODRIVER", "dummy")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def quiet(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with its stdout and stderr (progress bars) swallowed."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return fn(*args, **kwargs)
