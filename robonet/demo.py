"""``robonet demo``: the whole pipeline on both envs in about a minute.

For CartPole-v1 and the robot: collect expert logs, train a controller with the default
settings, evaluate expert and controller on held-out seeds, record a GIF of the controller,
and keep the logs, models, learning curves and GIFs in ``runs/demo/``. With a display it
then opens the watch window on the robot.
"""
from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

HELP = "run the whole pipeline on CartPole and the robot (collect, train, evaluate, GIFs) into runs/demo/"
DESCRIPTION = (
    "Collect expert logs for CartPole-v1 and robonet/ObstacleAvoidance-v0, train a controller for each "
    "with the default settings, evaluate expert and controller side by side on held-out seeds, record a "
    "GIF of each controller and keep the learning curves, all in OUT; print a summary table; then open "
    "the watch window if a display is available."
)

CARTPOLE = "CartPole-v1"
ROBOT = "robonet/ObstacleAvoidance-v0"
COLLECT_SEED = 0
EVAL_SEED = 1  # evaluation seeds (1, i) are never used by the collects (seeded (0, i))


# The robot is collected 8 episodes at a time in its vectorized env (the same episodes as one
# at a time); evaluation picks its own batch (robonet.evaluate.AUTO_NUM_ENVS).
ROBOT_COLLECT_ENVS = 8


def demo(
    out: str = "runs/demo",
    *,
    cartpole_episodes: int = 5,
    robot_episodes: int = 100,
    eval_episodes: int = 100,
    gif_frames: int = 150,
    show: bool | None = None,
) -> list[dict]:
    """Run the demo; returns one row per (env, driver) with the evaluation figures."""
    from robonet.collect import collect
    from robonet.evaluate import evaluate, format_summary
    from robonet.train import curves_path, train
    from robonet.watch import display_available, record, watch

    out_dir = Path(out)
    for sub in ("logs", "models"):
        if (out_dir / sub).exists():
            shutil.rmtree(out_dir / sub)  # the demo's own previous run: start fresh
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    timings: dict[str, float] = {}
    for env_id, episodes, name, num_envs in (
        (CARTPOLE, cartpole_episodes, "cartpole", 1),
        (ROBOT, robot_episodes, "robot", ROBOT_COLLECT_ENVS),
    ):
        started = time.monotonic()
        logs = out_dir / "logs" / name
        print(f"== {env_id}: collecting {episodes} expert episodes into {logs}")
        collect(env_id, logs, episodes, seed=COLLECT_SEED, num_envs=num_envs)
        print(f"== {env_id}: training a controller (default settings)")
        controller, history = train(logs, out_dir / "models" / f"{name}.npz", verbose=False)
        final = controller.info["final"]
        print(f"   {history and len(history['cost'])} epochs, train acc {final['accuracy']:.4f}"
              + (f", val acc {final['val_accuracy']:.4f}" if "val_accuracy" in final else "")
              + f"; curves {curves_path(controller.path)}")
        for driver in ("expert", "controller"):
            print(f"== {env_id}: evaluating the {driver} on {eval_episodes} held-out seeds")
            kwargs = {"expert": "scripted"} if driver == "expert" else {"model": str(controller.path)}
            summary = evaluate(env_id=env_id, episodes=eval_episodes, seed=EVAL_SEED, **kwargs)
            print("   " + format_summary(summary, f"{driver} "))
            rows.append({"driver": driver, **summary})
        gif, _ = record(controller, env_id, out_dir / f"{name}.gif", seed=EVAL_SEED,
                        max_frames=gif_frames, every=3, scale=0.5)
        print(f"   recorded {gif}")
        timings[name] = time.monotonic() - started
    print()
    print(summary_table(rows))
    print(f"\noutputs in {out_dir}/ (logs, models, *_curves.png, *.gif); "
          + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    if show is None:
        show = display_available()
    if show:
        from robonet.controller import load_controller

        print("opening the watch window (Esc to quit)")
        watch(load_controller(out_dir / "models" / "robot.npz"), ROBOT, episodes=3, seed=EVAL_SEED)
    return rows


def summary_table(rows: list[dict]) -> str:
    header = f"{'env':30s} {'driver':10s} {'episodes':>8s} {'mean return':>12s} {'min':>8s} {'mean length':>12s} {'collisions':>10s}"
    lines = [header, "-" * len(header)]
    for row in rows:
        collisions = f"{100 * row['collision_rate']:.1f}%" if "collision_rate" in row else "-"
        lines.append(f"{row['env']:30s} {row['driver']:10s} {row['episodes']:8d} "
                     f"{row['mean_return']:8.1f}+-{row['std_return']:<4.0f}{row['min_return']:7.1f} "
                     f"{row['mean_length']:12.1f} {collisions:>10s}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="runs/demo", metavar="DIR", help="output directory (its logs/ and models/ are replaced)")
    parser.add_argument("--cartpole-episodes", type=int, default=5, metavar="N", help="expert episodes collected on CartPole-v1")
    parser.add_argument("--robot-episodes", type=int, default=100, metavar="N", help="expert episodes collected on the robot")
    parser.add_argument("--eval-episodes", type=int, default=100, metavar="N", help="held-out episodes per evaluation")
    parser.add_argument("--no-watch", action="store_true", help="do not open the watch window even with a display")


def run(args: argparse.Namespace) -> int:
    for name in ("cartpole_episodes", "robot_episodes", "eval_episodes"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    demo(args.out, cartpole_episodes=args.cartpole_episodes, robot_episodes=args.robot_episodes,
         eval_episodes=args.eval_episodes, show=False if args.no_watch else None)
    return 0
