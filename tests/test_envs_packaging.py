"""envs/ is installed as robonet.envs: it imports from any directory and registers on import.

Each check runs in a fresh interpreter started in an empty directory, so nothing imported by
the test session (or the repository on sys.path) can make it pass by accident.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ENV_ID = "robonet/ObstacleAvoidance-v0"


def _run(code, cwd):
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_robonet_envs_imports_outside_the_repository_and_not_as_top_level_envs(tmp_path):
    out = _run(
        "import importlib.util, sys, robonet.envs\n"
        "print(robonet.envs.__name__, importlib.util.find_spec('envs') is None, 'pygame' in sys.modules)",
        tmp_path,
    )
    # the package is robonet.envs, there is no top-level 'envs' to clash with PyPI's, and
    # pygame is imported only when something renders
    assert out == "robonet.envs True False"


@pytest.mark.parametrize("module", ["robonet.envs", "robonet.cli"])
def test_importing_registers_the_robot(tmp_path, module):
    code = (
        "import gymnasium as gym\n"
        f"assert {ENV_ID!r} not in gym.registry\n"
        f"import {module}\n"
        f"spec = gym.spec({ENV_ID!r})\n"
        "print(spec.entry_point, spec.vector_entry_point, spec.max_episode_steps)"
    )
    assert _run(code, tmp_path) == (
        "robonet.envs.obstacle_avoidance:ObstacleAvoidanceEnv "
        "robonet.envs.vector:ObstacleAvoidanceVectorEnv 1000"
    )


def test_gymnasium_module_prefix_imports_and_registers(tmp_path):
    # gym.make("module:id") imports the module first: no explicit import needed
    out = _run(f"import gymnasium as gym; env = gym.make('robonet.envs:{ENV_ID}'); print(env.spec.id)", tmp_path)
    assert out == ENV_ID


def test_registration_is_idempotent_and_the_spec_serialises(tmp_path):
    code = (
        "import importlib, gymnasium as gym, robonet.envs\n"
        "importlib.reload(robonet.envs); robonet.envs.register()\n"
        f"print(len(gym.spec({ENV_ID!r}).to_json()) > 0)"  # string entry points: a JSON-able spec
    )
    assert _run(code, tmp_path) == "True"


def _docs_example_module() -> str:
    """The ``my_robots.py`` example of docs/envs.md ("Other robots"), verbatim."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "envs.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    [module] = [b for b in blocks if b.startswith("# my_robots.py")]
    return module


def test_the_docs_example_plugs_another_robot_into_the_cli(tmp_path):
    (tmp_path / "my_robots.py").write_text(_docs_example_module())
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    env_id = "my_robots:MyBalancer-v0"

    def robonet(*args):
        result = subprocess.run([sys.executable, "-m", "robonet.cli", *args], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    robonet("collect", "--env", env_id, "--episodes", "2", "--out", "logs")
    summary = json.loads(robonet("evaluate", "--expert", "scripted", "--env", env_id, "--episodes", "2", "--json"))
    assert summary["mean_return"] == 500.0
    manifest = json.loads((tmp_path / "logs" / "manifest.json").read_text())
    assert manifest["env_id"] == env_id
    assert manifest["observation_names"] == ["obs_0", "obs_1", "obs_2", "obs_3"]
