"""What a run's config hash covers: one rule for every command (the fields that can change
results), and the prompt templates (`--templates DIR`) among them."""

import json
import subprocess
import sys

import pytest

from problems import Problem
from prompts import load_templates
from runners.config import RunnerConfig
from runners.scripted import ScriptedRunner
from solver.rsa import RSAConfig, Solver
from solver.rundir import affects_results

RSA_CODE = [sys.executable, "-m", "solver.cli"]
ANSWER = "Sum them.\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"


def rsa_code(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*RSA_CODE, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "script.json"
    path.write_text(json.dumps([ANSWER]))
    return path


@pytest.fixture
def my_templates(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "aggregate.txt").write_text(
        "MY WORDING\n{statement}\n\n{candidates}\n\nWrite one better program.\n{format}\n", encoding="utf-8"
    )
    return folder


def test_the_config_model_says_which_fields_change_results():
    hashed = affects_results(RunnerConfig())
    left_out = set(RunnerConfig.model_fields) - set(hashed)
    assert left_out == {"base_url", "api_key_env", "max_concurrency", "timeout_s"}  # transport only
    assert {"kind", "model", "max_model_len", "dtype", "seed"} <= set(hashed)
    assert affects_results(RSAConfig()) == RSAConfig().model_dump()  # every generation field changes results


def test_the_solver_sends_the_users_templates(my_templates):
    seen = []

    def answer(request):
        seen.append(request.messages[1]["content"])
        return ANSWER

    problem = Problem(id="p", statement="Add two integers.", kind="stdin")
    Solver(ScriptedRunner(answer), RSAConfig(n=2, k=2, t=1), load_templates(my_templates)).run([problem])
    assert not seen[0].startswith("MY WORDING")  # round 0: generate.txt, still the default
    assert all(s.startswith("MY WORDING\nAdd two integers.") for s in seen[2:])


def solve_args(script, out, *extra):
    return ["solve", "a-plus-b", "-n", "2", "-k", "2", "-t", "1", "--runner", "scripted", "--model", str(script), "--out", str(out), *extra]


def test_solve_resumes_after_a_transport_option_changes_and_refuses_a_result_option(script, tmp_path):
    out = tmp_path / "run"
    assert rsa_code(*solve_args(script, out)).returncode == 0
    again = rsa_code(*solve_args(script, out, "--request-timeout", "5", "--max-concurrency", "3"))
    assert again.returncode == 0 and "resuming" in again.stderr, again.stderr
    other = rsa_code(*solve_args(script, out, "--max-model-len", "100000"))
    assert other.returncode == 2 and "another config" in other.stderr and "runner" in other.stderr


def test_solve_refuses_to_resume_with_other_templates(script, tmp_path, my_templates):
    out = tmp_path / "run"
    assert rsa_code(*solve_args(script, out)).returncode == 0
    other = rsa_code(*solve_args(script, out, "--templates", str(my_templates)))
    assert other.returncode == 2 and "another config" in other.stderr and "templates" in other.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["templates"]["overridden"] == [] and len(config["templates"]["digest"]) == 16


def eval_args(script, out, *extra):
    return [
        "eval",
        "--data",
        "a-plus-b",
        "-n",
        "2",
        "-k",
        "2",
        "-t",
        "1",
        "--runner",
        "scripted",
        "--model",
        str(script),
        "--sandbox",
        "local",
        "--workers",
        "1",
        "--out",
        str(out),
        *extra,
    ]


def test_eval_follows_the_same_rule_and_hashes_the_templates(script, tmp_path, my_templates):
    out = tmp_path / "run"
    first = rsa_code(*eval_args(script, out, "--templates", str(my_templates)))
    assert first.returncode == 0, first.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["templates"]["overridden"] == ["aggregate"]
    again = rsa_code(*eval_args(script, out, "--templates", str(my_templates), "--request-timeout", "5"))
    assert again.returncode == 0 and "resuming" in again.stderr, again.stderr
    (my_templates / "aggregate.txt").write_text("{statement}\n{candidates}\n{format}", encoding="utf-8")
    changed = rsa_code(*eval_args(script, out, "--templates", str(my_templates)))
    assert changed.returncode == 2 and "templates" in changed.stderr
    # The dataset's aggregation prompts are rebuilt with the templates the run used.
    data = tmp_path / "data"
    built = rsa_code("dataset", str(out), "--out", str(data))
    assert built.returncode == 0, built.stderr
    prompts = [json.loads(line)["prompt"] for line in (data / "aggregation.jsonl").read_text().splitlines()]
    assert prompts and all(p[1]["content"].startswith("MY WORDING\n") for p in prompts)


@pytest.mark.parametrize("command", ["solve", "eval"])
def test_a_bad_template_stops_the_command_at_start_in_one_line(script, tmp_path, command):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "aggregate.txt").write_text("{statement}\n{candidates}\n{format}\n{number}\n", encoding="utf-8")
    args = solve_args if command == "solve" else eval_args
    done = rsa_code(*args(script, tmp_path / "run", "--templates", str(folder)))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {folder / 'aggregate.txt'}:4: unknown placeholder {{number}} (the aggregate template takes: "
        "{statement}, {candidates}, {format}, {k})"
    ]
    assert not (tmp_path / "run").exists()  # nothing started
