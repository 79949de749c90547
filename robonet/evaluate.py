"""``robonet evaluate``: score a controller (or the scripted expert) over seeded episodes, headless."""
from __future__ import annotations

import argparse
import json

import numpy as np

from robonet.argtypes import seed_arg
from robonet.collect import DEFAULT_ENV, has_array_vector_env, make_env, run_episodes

# Episodes run at once by default where the env has an array-program vector env.
AUTO_NUM_ENVS = 256

HELP = "score a controller (or the scripted expert) over seeded episodes, headless"
DESCRIPTION = (
    "Run EPISODES headless episodes of the env, episode i reset with a seed derived from (SEED, i), "
    "driven by the controller MODEL or by the scripted expert, and print the mean, std, min and max "
    "return, the mean episode length and, for the robot, the collision rate. Use a SEED that no "
    "collect used so the episodes are held out."
)


def evaluate(
    *,
    model: str | None = None,
    expert: str | None = None,
    env_id: str | None = None,
    episodes: int = 100,
    seed: int = 1,
    num_envs: int | None = None,
    workers: int | None = None,
    dask=None,
    task_episodes: int | None = None,
) -> dict:
    """Evaluate a controller file or the expert; returns the JSON-ready summary.

    Keys: "env", "episodes", "mean_return", "std_return", "min_return", "max_return",
    "mean_length", and "collision_rate" (fraction of episodes ended by a collision) for envs
    that report collisions (the robot).

    ``num_envs``: how many episodes run at once; the summary does not depend on it. The
    default (None) runs up to :data:`AUTO_NUM_ENVS` at once for envs that step many copies
    as one array program (the robot, CartPole: tens of times faster than one at a time), and
    one at a time for other envs.

    ``workers`` / ``dask``: run seeded batches of ``task_episodes`` episodes on a process pool
    or a Dask scheduler (:mod:`robonet.parallel`); the summary is the same as with one process.
    """
    if (model is None) == (expert is None):
        raise ValueError("give exactly one of --model MODEL or --expert scripted")
    if model is not None:
        from robonet.controller import load_controller

        policy = load_controller(model)
        env_id = env_id or policy.env_id
        env = make_env(env_id)
        try:
            size = int(np.prod(env.observation_space.shape))
            policy.check_env(env_id, size)
        except BaseException:
            env.close()
            raise
    else:
        from robonet.collect import get_expert

        if expert != "scripted":
            raise ValueError(f"evaluate can score the 'scripted' expert only, got {expert!r}")
        env_id = env_id or DEFAULT_ENV
        policy = get_expert(env_id, "scripted")
        env = make_env(env_id)
    parallel = workers is not None or dask is not None
    if parallel:
        from robonet.parallel import DEFAULT_TASK_EPISODES, evaluate_parallel

        task_episodes = task_episodes or DEFAULT_TASK_EPISODES
    if num_envs is None:
        at_once = task_episodes if parallel else episodes
        num_envs = min(at_once, AUTO_NUM_ENVS) if has_array_vector_env(env_id) else 1
    if parallel:
        env.close()
        results = evaluate_parallel(env_id, model, episodes, seed, num_envs=num_envs,
                                    workers=1 if workers is None else workers,
                                    dask=dask, task_episodes=task_episodes)
        return summarize(env_id, results)
    try:
        results = run_episodes(env_id, policy, episodes, seed, num_envs=num_envs,
                               env=env if num_envs == 1 else None, desc=f"evaluate {env_id}")
    finally:
        env.close()
    return summarize(env_id, results)


def summarize(env_id: str, results) -> dict:
    returns = np.array([r.episode_return for r in results], dtype=np.float64)
    lengths = np.array([r.length for r in results], dtype=np.float64)
    summary = {
        "env": env_id,
        "episodes": len(results),
        "mean_return": float(returns.mean()),
        "std_return": float(returns.std()),
        "min_return": float(returns.min()),
        "max_return": float(returns.max()),
        "mean_length": float(lengths.mean()),
    }
    if any(r.collision is not None for r in results):
        summary["collision_rate"] = float(np.mean([bool(r.collision) for r in results]))
    return summary


def format_summary(summary: dict, label: str = "") -> str:
    text = (f"{label}{summary['env']}: {summary['episodes']} episodes, return "
            f"{summary['mean_return']:.1f} +- {summary['std_return']:.1f} "
            f"(min {summary['min_return']:.1f}, max {summary['max_return']:.1f}), "
            f"mean length {summary['mean_length']:.1f}")
    if "collision_rate" in summary:
        text += f", collision rate {100 * summary['collision_rate']:.1f}%"
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--model", metavar="MODEL", help="controller file written by robonet train")
    who.add_argument("--expert", choices=["scripted"], help="score the env's scripted expert instead of a model")
    parser.add_argument("--env", metavar="ID", default=None,
                        help=f"env id (default: the env the model was trained on; {DEFAULT_ENV} for --expert)")
    parser.add_argument("--episodes", type=int, default=100, metavar="N", help="number of episodes")
    parser.add_argument("--seed", type=seed_arg, default=1, metavar="S",
                        help="base seed; episode i uses a seed derived from (S, i)")
    parser.add_argument("--num-envs", type=int, default=None, metavar="K",
                        help="run K episodes at once; the results do not depend on K (default: up to "
                             f"{AUTO_NUM_ENVS} at once for the robot and CartPole, which step many copies as "
                             "one array program, 1 for other envs)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    from robonet.collect import add_parallel_arguments

    add_parallel_arguments(parser)


def run(args: argparse.Namespace) -> int:
    summary = evaluate(model=args.model, expert=args.expert, env_id=args.env, episodes=args.episodes,
                       seed=args.seed, num_envs=args.num_envs, workers=getattr(args, "workers", None),
                       dask=getattr(args, "dask", None), task_episodes=getattr(args, "task_episodes", None))
    if args.json:
        print(json.dumps(summary))
    else:
        print(format_summary(summary, "controller " if args.model else "expert "))
    return 0
