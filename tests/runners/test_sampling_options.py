"""--top-k, --min-p, --presence-penalty, --repetition-penalty: from the command line to every
request the solver sends, and into the run's config.json and `solve --json`."""

import json
import subprocess
import sys

from problems import Problem
from runners import Sampling
from runners.scripted import ScriptedRunner
from solver.rsa import RSAConfig, Solver

RSA_CODE = [sys.executable, "-m", "solver.cli"]
ANSWER = "Sum them.\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"
OPTIONS = {"top_k": 20, "min_p": 0.05, "presence_penalty": 0.3, "repetition_penalty": 1.1}


def test_sampling_extra_holds_only_the_options_set():
    assert Sampling(16).extra() == {}
    assert Sampling(16, top_k=20, repetition_penalty=1.1).extra() == {"top_k": 20, "repetition_penalty": 1.1}


def test_the_solver_sends_the_options_with_every_request():
    seen = []

    def answer(request):
        seen.append(request.sampling)
        return ANSWER

    problem = Problem(id="p", statement="Add two integers.", kind="stdin")
    Solver(ScriptedRunner(answer), RSAConfig(n=2, k=2, t=1, **OPTIONS)).run([problem])
    assert len(seen) == 4 and all(s.extra() == OPTIONS for s in seen)
    seen.clear()
    Solver(ScriptedRunner(answer), RSAConfig(n=2, k=2, t=1)).run([problem])
    assert all(s.extra() == {} for s in seen)  # unset: nothing sent


def test_solve_records_the_options_in_config_and_json(tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps([ANSWER]))
    flags = ["--top-k", "20", "--min-p", "0.05", "--presence-penalty", "0.3", "--repetition-penalty", "1.1"]
    done = subprocess.run(
        [
            *RSA_CODE,
            "solve",
            "a-plus-b",
            "-n",
            "2",
            "-k",
            "1",
            "-t",
            "1",
            "--runner",
            "scripted",
            "--model",
            str(script),
            *flags,
            "--json",
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)["config"]
    assert {k: printed[k] for k in OPTIONS} == OPTIONS
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert {k: saved["rsa"][k] for k in OPTIONS} == OPTIONS
    bad = subprocess.run([*RSA_CODE, "solve", "a-plus-b", "--min-p", "2"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error: --min-p")
