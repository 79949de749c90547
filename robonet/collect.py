"""``robonet collect``: an expert drives, robonet logs what it saw and what it did.

The rollout engine here (:func:`run_episodes`) is shared by collection, evaluation and DAgger:
a *policy* picks the executed action, an optional *labeler* (the expert) gives the logged
label, and ``noise`` replaces the executed action by a random one with probability P
(DART-style noise injection: the expert's label is still logged, so the controller learns how
to recover from states the expert alone would never visit).

Seeding: episode ``i`` resets its env with :func:`episode_seed` ``(seed, i)`` and draws its
noise from a generator seeded by ``(seed, i)``, so an episode is the same whether it was
collected alone, in a batch of K envs, or appended later.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

from robonet.argtypes import positive_int_arg, seed_arg
from robonet.errors import UserError

HELP = "let an expert drive and record its sensor log (observations, expert actions, rewards)"
DESCRIPTION = (
    "Run EPISODES episodes of ENV driven by an expert (the env's scripted expert, or you on the "
    "keyboard) and write them as a sensor log: a directory of shards plus manifest.json. Shards "
    "are written atomically every few episodes, so an interrupted collect keeps what it finished."
)

ROBOT_ENV = "robonet/ObstacleAvoidance-v0"
DEFAULT_ENV = ROBOT_ENV


class Policy(Protocol):
    def __call__(self, obs: np.ndarray) -> int: ...

    def batch(self, obs: np.ndarray) -> np.ndarray: ...


def episode_seed(seed: int, episode_id: int) -> int:
    """The env seed of episode ``episode_id`` in a run seeded ``seed`` (a 32-bit int)."""
    return int(np.random.SeedSequence([int(seed), int(episode_id)]).generate_state(1)[0])


def _noise_rng(seed: int, episode_id: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(episode_id), 1])


def check_seed(seed: int) -> int:
    if int(seed) < 0:
        raise ValueError(f"--seed must be >= 0, got {seed}")
    return int(seed)


def check_collect_options(episodes: int, seed: int, num_envs: int = 1, noise: float = 0.0) -> None:
    """The options every way of running episodes shares, checked before any work starts."""
    if episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {episodes}")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"--noise must be a probability in [0, 1], got {noise}")
    if num_envs < 1:
        raise ValueError(f"--num-envs must be >= 1, got {num_envs}")
    check_seed(seed)


def make_env(env_id: str, render_mode: str | None = None, **kwargs: Any):
    """``gymnasium.make`` after registering robonet's envs; an unknown id is a one-line error."""
    import gymnasium as gym

    import robonet.envs  # noqa: F401 - registers robonet/* ids

    make = getattr(robonet.envs, "make", gym.make)
    try:
        return make(env_id, render_mode=render_mode, **kwargs)
    except gym.error.Error as exc:
        raise UserError(f"cannot make env {env_id!r}: {exc}") from None


def _vector_kind(spec) -> str:
    """How K copies of the env behind ``spec`` are stepped together (see make_vector_env)."""
    from robonet.envs.cartpole_vector import SEEDED_VECTOR_ENV_IDS

    if spec.namespace == "robonet" and spec.vector_entry_point is not None:
        return "entry_point"
    if spec.id in SEEDED_VECTOR_ENV_IDS and not spec.kwargs:
        return "seeded_cartpole"
    return "sync"


def _spec(env_id: str):
    import gymnasium as gym

    import robonet.envs  # noqa: F401 - registers robonet/* ids

    try:
        return gym.spec(env_id)
    except gym.error.Error as exc:
        raise UserError(f"cannot make env {env_id!r}: {exc}") from None


def make_vector_env(env_id: str, num_envs: int):
    """K copies of ``env_id`` stepped together, each sub-env reproducing the single env's seeded
    episodes: the robot's own array-program vector env, robonet's seeded array CartPole
    (:mod:`robonet.envs.cartpole_vector`), or Gymnasium's SyncVectorEnv for any other env."""
    import gymnasium as gym

    spec = _spec(env_id)
    kind = _vector_kind(spec)
    if kind == "entry_point":
        return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    if kind == "seeded_cartpole":
        from robonet.envs.cartpole_vector import SeededCartPoleVectorEnv

        return SeededCartPoleVectorEnv(num_envs, max_episode_steps=spec.max_episode_steps)
    return gym.vector.SyncVectorEnv([lambda: make_env(env_id) for _ in range(num_envs)])


def has_array_vector_env(env_id: str) -> bool:
    """Whether ``env_id`` steps K envs as one array program (the robot, CartPole): then K
    seeded episodes at once cost little more than one, with the same results."""
    try:
        return _vector_kind(_spec(env_id)) != "sync"
    except UserError:
        return False


def get_expert(env_id: str, kind: str = "scripted"):
    """The expert for ``env_id``: ``scripted`` (the env's rule) or ``human`` (the keyboard)."""
    from robonet.envs import experts

    if kind == "scripted":
        return experts.get_expert(env_id, "scripted")
    if kind == "human":
        return experts.KeyboardExpert()
    raise ValueError(f"unknown expert {kind!r}; expected 'scripted' or 'human'")


@dataclass
class EpisodeResult:
    episode_id: int
    seed: int | None  # None: the env's own autoreset chose the episode
    episode_return: float
    length: int
    terminated: bool
    collision: bool | None = None
    distance: float | None = None


@dataclass
class EpisodeData:
    observations: np.ndarray  # (T, obs_dim) float32: observation each action was taken in
    labels: np.ndarray        # (T,) the labeler's (expert's) action
    executed: np.ndarray      # (T,) the action executed
    rewards: np.ndarray       # (T,)


def _info_value(info: dict, key: str, index: int | None = None):
    if key not in info:
        return None
    value = info[key]
    if index is not None:
        mask = info.get("_" + key)
        if mask is not None and not mask[index]:
            return None
        value = value[index]
    return value.item() if hasattr(value, "item") else value


def run_episodes(
    env_id: str,
    policy: Policy,
    episodes: int,
    seed: int,
    *,
    first_episode: int = 0,
    num_envs: int = 1,
    noise: float = 0.0,
    labeler: Policy | None = None,
    record: bool = False,
    on_episode: Callable[[EpisodeResult, EpisodeData | None], None] | None = None,
    desc: str = "episodes",
    env: Any = None,
    vector_reset: str = "auto",
) -> list[EpisodeResult]:
    """Run ``episodes`` seeded episodes; returns their results in episode order.

    ``policy`` chooses the actions; ``labeler`` (default: the policy) gives the logged label;
    with ``record`` every finished episode's arrays are passed to ``on_episode`` in episode order.
    """
    from robonet.progress import progress

    check_collect_options(episodes, seed, num_envs, noise)
    results: list[EpisodeResult] = []
    with progress(episodes, desc=desc, unit="ep") as bar:
        def emit(result: EpisodeResult, data: EpisodeData | None) -> None:
            results.append(result)
            bar.update(1)
            if on_episode is not None:
                on_episode(result, data)

        if num_envs == 1:
            own = env is None
            env = make_env(env_id) if own else env
            try:
                _run_single(env, policy, labeler, episodes, seed, first_episode, noise, record, emit)
            finally:
                if own:
                    env.close()
        else:
            envs = make_vector_env(env_id, num_envs)
            try:
                _run_vector(envs, policy, labeler, episodes, seed, first_episode, noise, record, emit,
                            vector_reset)
            finally:
                envs.close()
    results.sort(key=lambda r: r.episode_id)
    return results


def _run_single(env, policy, labeler, episodes, seed, first_episode, noise, record, emit) -> None:
    n_actions = int(env.action_space.n)
    for k in range(episodes):
        episode_id = first_episode + k
        env_seed = episode_seed(seed, episode_id)
        rng = _noise_rng(seed, episode_id) if noise > 0 else None
        obs, info = env.reset(seed=env_seed)
        observations, labels, executed_actions, rewards = [], [], [], []
        total, steps = 0.0, 0
        while True:
            action = int(policy(obs))
            label = action if labeler is None else int(labeler(obs))
            executed = action
            if rng is not None and rng.random() < noise:
                executed = int(rng.integers(n_actions))
            if record:
                observations.append(obs)
                labels.append(label)
                executed_actions.append(executed)
            obs, reward, terminated, truncated, info = env.step(executed)
            total += float(reward)
            steps += 1
            if record:
                rewards.append(reward)
            if terminated or truncated:
                break
        result = EpisodeResult(
            episode_id, env_seed, total, steps, bool(terminated),
            _info_value(info, "collision"), _info_value(info, "distance"))
        data = None
        if record:
            data = EpisodeData(np.asarray(observations, dtype=np.float32), np.asarray(labels),
                               np.asarray(executed_actions), np.asarray(rewards, dtype=np.float32))
        emit(result, data)


def _run_vector(envs, policy, labeler, episodes, seed, first_episode, noise, record, emit,
                vector_reset: str = "auto") -> None:
    """K envs in lockstep; finished episodes are emitted in episode order.

    How a slot starts its next episode (``vector_reset``):

    * ``"auto"``: a seeded partial reset (``reset(seed=[...], options={"reset_mask": m})``,
      Gymnasium's SyncVectorEnv); if the vector env cannot do that, ``"wave"``.
    * ``"wave"``: slots whose episode ended wait; once none is running, one seeded full
      reset starts the next K episodes. Costs idle steps, keeps every episode seeded.
    * ``"autoreset"``: the env's own NEXT_STEP autoreset (episodes not seeded per index).

    Whatever the mode, the step after an episode ends (NEXT_STEP autoreset: action ignored,
    not a real transition) is never logged: rows are masked with the previous step's
    terminated | truncated.
    """
    if vector_reset not in ("auto", "wave", "autoreset"):
        raise ValueError(f"vector_reset must be 'auto', 'wave' or 'autoreset', got {vector_reset!r}")
    mode = "partial" if vector_reset == "auto" else vector_reset
    K = envs.num_envs
    n_actions = int(envs.single_action_space.n)
    slot_episode = np.full(K, -1, dtype=np.int64)  # episode id assigned to each slot, -1 idle
    running = np.zeros(K, dtype=bool)  # the slot's episode has started (reset done)
    next_k = 0
    buffers: list[dict[str, Any]] = [None] * K  # type: ignore[list-item]
    rngs: list[np.random.Generator | None] = [None] * K
    seeds: list[int | None] = [None] * K
    # Returns and lengths as arrays: the per-step bookkeeping is a few array operations, not
    # a Python loop over the K slots (float64 sums of the rewards, as _run_single's).
    returns = np.zeros(K, dtype=np.float64)
    lengths = np.zeros(K, dtype=np.int64)

    def assign(j: int) -> bool:
        nonlocal next_k
        if next_k >= episodes:
            slot_episode[j] = -1
            return False
        episode_id = first_episode + next_k
        next_k += 1
        slot_episode[j] = episode_id
        seeds[j] = episode_seed(seed, episode_id)
        rngs[j] = _noise_rng(seed, episode_id) if noise > 0 else None
        buffers[j] = {"obs": [], "lab": [], "exe": [], "rew": []} if record else None
        returns[j], lengths[j] = 0.0, 0
        return True

    for j in range(K):
        assign(j)
    obs, _ = envs.reset(seed=[seeds[j] if slot_episode[j] >= 0 else None for j in range(K)])
    running[:] = slot_episode >= 0
    prev_done = np.zeros(K, dtype=bool)
    pending: dict[int, tuple[EpisodeResult, EpisodeData | None]] = {}
    next_emit = first_episode
    finished = 0
    while finished < episodes:
        actions = np.asarray(policy.batch(obs), dtype=np.int64).reshape(K)
        labels = actions if labeler is None else np.asarray(labeler.batch(obs), dtype=np.int64).reshape(K)
        valid = running & ~prev_done  # rows that are real transitions of a running episode
        executed = actions.copy()
        if noise > 0:
            for j in np.flatnonzero(valid):
                rng = rngs[j]
                if rng is not None and rng.random() < noise:
                    executed[j] = rng.integers(n_actions)
        next_obs, rewards, terminations, truncations, infos = envs.step(executed)
        done = np.logical_or(terminations, truncations)
        rewards = np.asarray(rewards)
        returns[valid] += rewards[valid]
        lengths[valid] += 1
        if record:
            for j in np.flatnonzero(valid):
                buf = buffers[j]
                buf["obs"].append(obs[j].copy())
                buf["lab"].append(labels[j])
                buf["exe"].append(executed[j])
                buf["rew"].append(rewards[j])
        for j in np.flatnonzero(valid & done):
            episode_id = int(slot_episode[j])
            result = EpisodeResult(
                episode_id, seeds[j] if mode != "autoreset" else None, float(returns[j]), int(lengths[j]),
                bool(terminations[j]), _info_value(infos, "collision", j), _info_value(infos, "distance", j))
            data = None
            if record:
                buf = buffers[j]
                data = EpisodeData(np.asarray(buf["obs"], dtype=np.float32), np.asarray(buf["lab"]),
                                   np.asarray(buf["exe"]), np.asarray(buf["rew"], dtype=np.float32))
            pending[episode_id] = (result, data)
            finished += 1
            # Emit in episode order so the log does not depend on the number of envs.
            while next_emit in pending:
                emit(*pending.pop(next_emit))
                next_emit += 1
            running[j] = False
            if assign(j) and mode == "autoreset":
                running[j] = True  # starts with the (masked) autoreset step
        obs = next_obs
        waiting = (slot_episode >= 0) & ~running
        if mode == "partial" and waiting.any():
            try:
                reset_obs, _ = envs.reset(seed=[seeds[j] if waiting[j] else None for j in range(K)],
                                          options={"reset_mask": waiting.copy()})
            except (TypeError, ValueError, KeyError, AssertionError, NotImplementedError):
                mode = "wave"  # this vector env cannot reset one sub-env with a seed
            else:
                obs = np.array(next_obs, copy=True)
                obs[waiting] = np.asarray(reset_obs)[waiting]
                running |= waiting
                done &= ~waiting
        if mode == "wave" and waiting.any() and not running.any():
            obs, _ = envs.reset(seed=[seeds[j] if waiting[j] else None for j in range(K)])
            running |= waiting
            done[:] = False
        prev_done = done
    for episode_id in sorted(pending):  # pragma: no cover - only on an inconsistent env
        emit(*pending.pop(episode_id))


def collect(
    env_id: str,
    out: str | os.PathLike,
    episodes: int,
    *,
    expert: str = "scripted",
    seed: int = 0,
    num_envs: int = 1,
    noise: float = 0.0,
    append: bool = False,
    flush_episodes: int = 10,
) -> dict:
    """Collect ``episodes`` expert episodes of ``env_id`` into the sensor log ``out``.

    Returns a summary dict (episodes, steps, mean return, log path). Episode ids continue an
    existing log when ``append`` is True (a log is never overwritten).
    """
    from robonet.logs import LogWriter

    # Every check before the log directory is created: a refused collect leaves nothing behind.
    check_collect_options(episodes, seed, num_envs, noise)
    if expert == "human":
        from robonet.watch import display_available

        if num_envs != 1:
            raise ValueError("--expert human drives one env: use --num-envs 1")
        if not display_available():
            raise ValueError("--expert human needs a display (set DISPLAY, or use --expert scripted)")
    policy = get_expert(env_id, expert)
    # requested_episodes lets `collect --resume` finish this run if it is interrupted.
    collection = {"expert": expert, "policy": "expert", "seed": seed, "noise": noise, "num_envs": num_envs,
                  "requested_episodes": episodes}
    with LogWriter(out, env_id, append=append, collection=collection, flush_episodes=flush_episodes) as writer:
        first = writer.next_episode_id

        def store(result: EpisodeResult, data: EpisodeData | None) -> None:
            writer.next_episode_id = max(writer.next_episode_id, result.episode_id + 1)
            writer.add_episode(result.episode_id, data.observations, data.labels, data.rewards,
                               result.terminated, executed_actions=data.executed)

        if expert == "human":
            from robonet.watch import drive_human

            results = drive_human(env_id, policy, episodes, seed, first_episode=first, on_episode=store)
        else:
            results = run_episodes(env_id, policy, episodes, seed, first_episode=first, num_envs=num_envs,
                                   noise=noise, record=True, on_episode=store, desc=f"collect {env_id}")
    returns = np.array([r.episode_return for r in results])
    return {
        "logs": str(out), "env": env_id, "episodes": len(results), "steps": int(sum(r.length for r in results)),
        "mean_return": float(returns.mean()) if len(returns) else 0.0,
        "collisions": sum(bool(r.collision) for r in results),
        "total_episodes": writer.manifest["counts"]["episodes"],
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default=DEFAULT_ENV, metavar="ID",
                        help="Gymnasium env id, e.g. CartPole-v1 or robonet/ObstacleAvoidance-v0")
    parser.add_argument("--episodes", type=int, default=20, metavar="N", help="number of episodes to record")
    parser.add_argument("--out", required=True, metavar="DIR", help="sensor-log directory to create (or extend with --append)")
    parser.add_argument("--expert", choices=["scripted", "human"], default="scripted",
                        help="who drives: the env's scripted expert, or you with the arrow keys (opens a window)")
    parser.add_argument("--seed", type=seed_arg, default=0, metavar="S",
                        help="base seed; episode i is reset with a seed derived from (S, i)")
    parser.add_argument("--num-envs", type=int, default=1, metavar="K",
                        help="step K envs at once (the robot's vectorized env); results do not depend on K")
    parser.add_argument("--noise", type=float, default=0.0, metavar="P",
                        help="execute a random action with probability P while logging the expert's label (DART)")
    parser.add_argument("--append", action="store_true",
                        help="add episodes to an existing log of the same env (episode ids continue)")
    add_parallel_arguments(parser)
    parser.add_argument("--resume", action="store_true",
                        help="finish an interrupted collect: run the same command again with --resume; episodes "
                             "already in the log are kept, finished shards are adopted, none is duplicated")


def add_parallel_arguments(parser: argparse.ArgumentParser) -> None:
    """--workers, --dask, --task-episodes (shared by collect and evaluate)."""
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="run seeded batches of episodes on N local processes (same results as 1)")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="send the batches to a Dask distributed scheduler (tcp://host:8786), or 'local' "
                             "for a local Dask cluster of --workers processes; needs pip install 'robonet[dask]'")
    parser.add_argument("--task-episodes", type=positive_int_arg, default=None, metavar="M",
                        help="episodes per batch (one shard each) with --workers/--dask/--resume (default 10)")


def run(args: argparse.Namespace) -> int:
    workers, dask = getattr(args, "workers", None), getattr(args, "dask", None)
    if workers is not None or dask is not None or getattr(args, "resume", False):
        from robonet.parallel import DEFAULT_TASK_EPISODES, collect_parallel

        summary = collect_parallel(
            args.env, args.out, args.episodes, expert=args.expert, seed=args.seed, num_envs=args.num_envs,
            noise=args.noise, append=args.append, resume=args.resume,
            workers=1 if workers is None else workers, dask=dask,
            task_episodes=args.task_episodes or DEFAULT_TASK_EPISODES)
        retried = f", {summary['retries']} task retries" if summary["retries"] else ""
        print(f"collected {summary['episodes']} episodes ({summary['steps']} steps) of {summary['env']} into "
              f"{Path(summary['logs'])} in {summary['tasks']} tasks on {summary['backend']}{retried} "
              f"({summary['total_episodes']} episodes in the log)")
        return 0
    summary = collect(args.env, args.out, args.episodes, expert=args.expert, seed=args.seed,
                      num_envs=args.num_envs, noise=args.noise, append=args.append)
    extra = f", {summary['collisions']} collisions" if args.env == ROBOT_ENV else ""
    print(f"collected {summary['episodes']} episodes ({summary['steps']} steps, mean return "
          f"{summary['mean_return']:.1f}{extra}) of {summary['env']} into {Path(summary['logs'])} "
          f"({summary['total_episodes']} episodes in the log)")
    return 0
