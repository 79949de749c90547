"""Parallel collection and evaluation: same log on any backend, worker deaths retried, resume."""
import json
import os

import numpy as np
import pytest

from robonet.cli import main
from robonet.collect import collect
from robonet.evaluate import evaluate
from robonet.logs import load_logs
from robonet.parallel import FAULT_ENV, collect_parallel

CARTPOLE = "CartPole-v1"
FIELDS = ("observations", "actions", "executed_actions", "rewards", "terminations", "truncations", "episode_ids")
RUN = dict(seed=4, noise=0.4, task_episodes=3)  # noise: short, varied episodes


def assert_same_log(a, b):
    a, b = load_logs(a), load_logs(b)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The plain single-process collect of the same episodes."""
    path = tmp_path_factory.mktemp("ref") / "log"
    collect(CARTPOLE, path, 10, seed=RUN["seed"], noise=RUN["noise"])
    return path


def test_one_worker_two_workers_and_envs_give_the_same_log(tmp_path, reference):
    one = collect_parallel(CARTPOLE, tmp_path / "w1", 10, workers=1, **RUN)
    two = collect_parallel(CARTPOLE, tmp_path / "w2", 10, workers=2, num_envs=2, **RUN)
    assert one["tasks"] == two["tasks"] == 4 and two["backend"] == "pool:2"
    assert_same_log(tmp_path / "w1", reference)
    assert_same_log(tmp_path / "w2", reference)
    shards = json.loads((tmp_path / "w2" / "manifest.json").read_text())["shards"]
    assert [s["first_episode"] for s in shards] == [0, 3, 6, 9]  # one shard per task, in episode order


def test_dask_local_cluster_gives_the_same_log(tmp_path, reference):
    distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed (pip install '.[dask]')")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        summary = collect_parallel(CARTPOLE, tmp_path / "dask", 10, dask=client, **RUN)
        # the same batches through the CLI, by scheduler address
        assert main(["evaluate", "--expert", "scripted", "--env", CARTPOLE, "--episodes", "5",
                     "--dask", cluster.scheduler_address, "--task-episodes", "2", "--json"]) == 0
    assert summary["backend"] == "dask"
    assert_same_log(tmp_path / "dask", reference)


def test_a_worker_that_dies_is_retried_and_the_log_is_complete(tmp_path, reference, monkeypatch):
    marker = tmp_path / "crashed"
    monkeypatch.setenv(FAULT_ENV, str(marker))
    summary = collect_parallel(CARTPOLE, tmp_path / "log", 10, workers=2, **RUN)
    assert marker.exists()  # a worker really died (os._exit while writing its shard)
    assert summary["pool_restarts"] == 1 and summary["retries"] >= 1
    assert_same_log(tmp_path / "log", reference)
    assert not list((tmp_path / "log").glob(".*"))  # the dead worker's temporary shard is gone


def test_interrupted_collect_resumes_without_duplicates(tmp_path, reference, monkeypatch):
    out = tmp_path / "log"
    # a run that stops for good after its first 2 tasks (one worker, the task raises from then on)
    import robonet.parallel as parallel

    real = parallel.run_collect_task
    calls = []

    def flaky(task):
        calls.append(task.first_episode)
        if len(calls) > 2:
            raise KeyboardInterrupt  # Ctrl-C
        return real(task)

    monkeypatch.setattr(parallel, "run_collect_task", flaky)
    with pytest.raises(KeyboardInterrupt):
        collect_parallel(CARTPOLE, out, 10, workers=1, **RUN)
    assert load_logs(out).n_episodes == 6  # the finished prefix is a loadable log
    monkeypatch.setattr(parallel, "run_collect_task", real)
    with pytest.raises(Exception, match="already holds a sensor log"):
        collect_parallel(CARTPOLE, out, 10, workers=1, **RUN)
    with pytest.raises(Exception, match="is not this one"):
        collect_parallel(CARTPOLE, out, 10, workers=1, resume=True, seed=5, noise=0.4)
    summary = collect_parallel(CARTPOLE, out, 10, workers=2, resume=True, **RUN)
    assert summary["episodes"] == 4 and summary["total_episodes"] == 10
    assert_same_log(out, reference)
    again = collect_parallel(CARTPOLE, out, 10, resume=True, **RUN)  # nothing left to do
    assert again["tasks"] == 0
    assert_same_log(out, reference)


def test_resume_adopts_finished_unlisted_shards(tmp_path, reference):
    out = tmp_path / "log"
    collect_parallel(CARTPOLE, out, 10, **RUN)
    manifest = json.loads((out / "manifest.json").read_text())
    # roll the manifest back to 1 task: tasks 2-4 finished on disk but were never listed
    kept = manifest["shards"][:1]
    dropped = manifest["shards"][1:]
    manifest["shards"] = kept
    manifest["counts"] = {"episodes": kept[0]["episodes"], "steps": kept[0]["rows"]}
    manifest["collections"][-1]["episodes"] = kept[0]["episodes"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert load_logs(out).n_episodes == 3
    before = {s["name"]: os.stat(out / s["name"] / "observations.npy").st_ino for s in dropped}
    calls = []
    import robonet.collect as collect_module

    original = collect_module.run_episodes
    collect_module.run_episodes = lambda *a, **k: calls.append(1) or original(*a, **k)
    try:
        collect_parallel(CARTPOLE, out, 10, resume=True, **RUN)
    finally:
        collect_module.run_episodes = original
    assert not calls  # every missing task was adopted, none re-run
    assert {name: os.stat(out / name / "observations.npy").st_ino for name in before} == before
    assert_same_log(out, reference)


def test_evaluate_with_workers_matches_one_process(tmp_path, capsys):
    serial = evaluate(expert="scripted", env_id=CARTPOLE, episodes=6, seed=3)
    pooled = evaluate(expert="scripted", env_id=CARTPOLE, episodes=6, seed=3, workers=2, task_episodes=2)
    assert serial == pooled
    logs, model = tmp_path / "logs", tmp_path / "m.npz"
    collect(CARTPOLE, logs, 3, seed=0)
    assert main(["train", "--logs", str(logs), "--out", str(model), "--epochs", "2", "--no-plot"]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--episodes", "4", "--workers", "2", "--task-episodes", "1",
                 "--json"]) == 0
    pooled = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert pooled == evaluate(model=str(model), episodes=4)


def test_cli_collect_workers_and_resume(tmp_path, reference, capsys):
    out = tmp_path / "cli"
    args = ["collect", "--env", CARTPOLE, "--episodes", "10", "--seed", "4", "--noise", "0.4", "--out", str(out),
            "--task-episodes", "3"]
    assert main([*args, "--workers", "2"]) == 0
    assert "in 4 tasks on pool:2" in capsys.readouterr().out
    assert_same_log(out, reference)
    assert main([*args, "--resume"]) == 0
    assert "collected 0 episodes" in capsys.readouterr().out
    assert main([*args, "--workers", "0"]) == 2
    assert "--workers must be >= 1" in capsys.readouterr().err


def _run_cli(args, tmp_path, prefix="", **kwargs):
    import subprocess
    import sys

    env = {**os.environ, "ROBONET_NO_PROGRESS": "1", **kwargs.pop("env", {})}
    command = " ".join([prefix, sys.executable, "-m", "robonet", *args])
    return subprocess.Popen(["bash", "-c", command], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_a_task_that_keeps_failing_is_one_line_and_leaves_no_temporaries(tmp_path):
    """A full disk (here: a file-size limit) fails every attempt: one line, exit 2, and no
    half-written shard directory left behind."""
    out = tmp_path / "log"
    proc = _run_cli(["collect", "--env", CARTPOLE, "--episodes", "6", "--task-episodes", "3", "--workers", "2",
                     "--out", str(out)], tmp_path, prefix="ulimit -f 8;")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("robonet collect: error: the task of episodes"), stderr
    assert "failed 3 times" in lines[0] and "--resume" in lines[0]
    leftovers = [p.name for p in out.iterdir() if ".tmp" in p.name] if out.exists() else []
    assert leftovers == []


def test_workers_end_when_the_coordinator_is_killed(tmp_path):
    """kill -9 of the collecting process cannot shut its pool down: the workers notice and end."""
    import signal
    import time
    import uuid

    tag = uuid.uuid4().hex
    out = tmp_path / "log"
    proc = _run_cli(["collect", "--env", "robonet/ObstacleAvoidance-v0", "--episodes", "400", "--task-episodes", "2",
                     "--workers", "2", "--out", str(out)], tmp_path, prefix="exec", env={"ROBONET_TEST_TAG": tag})

    def tagged() -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid():
                try:
                    with open(f"/proc/{entry}/environ", "rb") as fh:
                        if f"ROBONET_TEST_TAG={tag}".encode() in fh.read():
                            pids.append(int(entry))
                except OSError:
                    pass
        return pids

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(p.name.startswith("shard-ep") for p in
                                                      (out.iterdir() if out.exists() else [])):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        assert len(tagged()) >= 3  # the coordinator, the forkserver and its workers
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 30
    while tagged() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert tagged() == []
