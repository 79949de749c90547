"""``robonet dagger``: the controller drives, the expert labels what it sees, the network retrains.

Behaviour cloning only sees states the expert visits; once the controller errs a little it
drifts into states nobody labelled (covariate shift). DAgger (Ross, Gordon and Bagnell, 2011)
fixes that by aggregation: each round the current controller drives, the expert labels every
visited observation with the action *it* would have taken, the episodes are appended to the
sensor log, and the controller is retrained on everything collected so far.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from robonet.argtypes import seed_arg

HELP = "improve a controller with DAgger: it drives, the expert labels, the logs grow, it retrains"
DESCRIPTION = (
    "Each of ROUNDS rounds: the controller drives EPISODES episodes, the scripted expert labels every "
    "observation it visits, the episodes are appended to the sensor log (by default the log the model "
    "was trained on), and the network is retrained on the whole log with the model's training "
    "settings. The last controller is saved to MODEL2."
)


def dagger(
    model: str,
    out: str,
    *,
    rounds: int = 3,
    episodes: int = 10,
    expert: str = "scripted",
    logs: str | None = None,
    seed: int = 0,
    num_envs: int = 1,
    epochs: int | None = None,
    verbose: bool = True,
):
    """Run DAgger; returns ``(controller, rounds_summary)`` with one dict per round."""
    from robonet.collect import check_seed, get_expert, run_episodes
    from robonet.controller import load_controller
    from robonet.logs import LogWriter
    from robonet.train import DEFAULTS, train

    if rounds < 1:
        raise ValueError(f"--rounds must be >= 1, got {rounds}")
    if episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {episodes}")
    if expert != "scripted":
        raise ValueError(f"dagger needs an expert that can label any state: 'scripted', got {expert!r}")
    check_seed(seed)
    controller = load_controller(model)
    env_id = controller.env_id
    if logs is None:
        logs = controller.info.get("logs", {}).get("logs")
        if not logs:
            raise ValueError(f"{model} does not record its training logs; pass --logs DIR")
    if not Path(logs).is_dir():
        raise ValueError(f"sensor log {logs} (the model's training logs) does not exist; pass --logs DIR")
    labeler = get_expert(env_id, expert)
    settings = {key: controller.info.get("settings", {}).get(key, value) for key, value in DEFAULTS.items()}
    if epochs is not None:
        settings["epochs"] = epochs
    settings["hidden"] = tuple(settings["hidden"])
    summary = []
    for r in range(rounds):
        collection = {"expert": expert, "policy": f"dagger round {r + 1} ({Path(model).name})", "seed": seed,
                      "noise": 0.0, "num_envs": num_envs}
        with LogWriter(logs, env_id, append=True, collection=collection) as writer:
            first = writer.next_episode_id

            def store(result, data, writer=writer):
                writer.add_episode(result.episode_id, data.observations, data.labels, data.rewards,
                                   result.terminated, executed_actions=data.executed)

            results = run_episodes(env_id, controller, episodes, seed, first_episode=first, num_envs=num_envs,
                                   labeler=labeler, record=True, on_episode=store, desc=f"dagger round {r + 1}")
        returns = np.array([res.episode_return for res in results])
        collisions = sum(bool(res.collision) for res in results)
        controller, history = train(logs, out, verbose=False, **settings)
        row = {"round": r + 1, "mean_return": float(returns.mean()), "collisions": collisions,
               "log_episodes": writer.manifest["counts"]["episodes"], "log_steps": writer.manifest["counts"]["steps"],
               "accuracy": history["accuracy"][-1], "val_accuracy": history.get("val_accuracy", [None])[-1]}
        summary.append(row)
        if verbose:
            extra = f", {collisions} collisions" if results and results[0].collision is not None else ""
            print(f"round {r + 1}/{rounds}: controller return {row['mean_return']:.1f}{extra}; log now "
                  f"{row['log_episodes']} episodes / {row['log_steps']} steps; retrained, train acc "
                  f"{row['accuracy']:.4f}")
    return controller, summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="MODEL", help="controller to start from")
    parser.add_argument("--expert", choices=["scripted"], default="scripted", help="who labels the visited states")
    parser.add_argument("--rounds", type=int, default=3, metavar="R", help="DAgger rounds (drive, label, retrain)")
    parser.add_argument("--episodes", type=int, default=10, metavar="N", help="episodes the controller drives per round")
    parser.add_argument("--out", required=True, metavar="MODEL2", help="controller file to write after the last round")
    parser.add_argument("--logs", metavar="DIR", default=None,
                        help="sensor log to grow and retrain on (default: the log MODEL was trained on)")
    parser.add_argument("--seed", type=seed_arg, default=0, metavar="S",
                        help="base seed; new episodes continue the log's episode ids, seeded from (S, id)")
    parser.add_argument("--num-envs", type=int, default=1, metavar="K", help="drive K envs at once")
    parser.add_argument("--epochs", type=int, default=None, metavar="E",
                        help="epochs per retraining (default: the model's own training settings)")


def run(args: argparse.Namespace) -> int:
    controller, _ = dagger(args.model, args.out, rounds=args.rounds, episodes=args.episodes, expert=args.expert,
                           logs=args.logs, seed=args.seed, num_envs=args.num_envs, epochs=args.epochs)
    print(f"saved controller {controller.path}")
    return 0
