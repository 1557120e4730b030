"""`rsa-code eval`, `report`, `compare`, `export` through the command line, on real
LiveCodeBench rows, with the scripted runner and the local sandbox (fast and exact); the
real model and the Docker sandbox run in tests/test_end_to_end.py."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from solver.rundir import RunDir
from tests.conftest import LCB_FULL_TESTS_SAMPLE, LCB_HIDDEN100

RSA_CODE = [sys.executable, "-m", "solver.cli"]
ABC301_A = "n = int(input())\ns = input()\nt, a = s.count('T'), s.count('A')\nprint('T' if t > a or (t == a and s[-1] == 'A') else 'A')"


@pytest.fixture
def script(tmp_path):
    texts = [
        f"The winner is whoever wins more games.\n```python\n{ABC301_A}\n```",
        "Count and print.\n```python\nprint('T')\n```",
        "Loop over the tests.\n```python\nfor _ in range(int(input())):\n    print('YES')\n```",
        "class Solution:\n    def countSeniors(self, details):\n        return sum(int(d[11:13]) > 60 for d in details)",
        "I do not know.",
    ]
    path = tmp_path / "script.json"
    path.write_text(json.dumps(texts))
    return path


def eval_args(script, out, *extra):
    return [
        *RSA_CODE,
        "eval",
        "--data",
        str(LCB_FULL_TESTS_SAMPLE),
        "--data",
        str(LCB_HIDDEN100),
        "--limit",
        "5",
        "-n",
        "4",
        "-k",
        "2",
        "-t",
        "3",
        "--runner",
        "scripted",
        "--model",
        str(script),
        "--sandbox",
        "local",
        "--workers",
        "2",
        "--out",
        str(out),
        *extra,
    ]


def records(path):
    rounds = RunDir(path).rounds()
    return [(r.index, r.candidates, {g.key: g for g in r.grades}) for r in rounds]


@pytest.mark.slow
def test_killed_at_random_moments_the_run_resumes_to_exactly_the_uninterrupted_results(script, tmp_path):
    started = time.monotonic()
    straight = subprocess.run(eval_args(script, tmp_path / "straight"), capture_output=True, text=True, timeout=300)
    length = time.monotonic() - started
    assert straight.returncode == 0, straight.stderr
    assert "| round | pass@1 |" in straight.stdout

    # Kill within the time a whole run takes: early runs die, and as the saved rounds
    # accumulate a restart has less left to do, until one finishes.
    rng = random.Random(7)
    kills = 0
    for attempt in range(40):
        proc = subprocess.Popen(eval_args(script, tmp_path / "killed"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # the window widens with each attempt, so a machine slower now than for the
            # straight run (a start that alone outlasts the window) still gets through
            proc.wait(timeout=rng.uniform(0.3, 0.95) * length * (1 + attempt / 8))
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            continue
        assert proc.returncode == 0, proc.stderr.read()
        break
    else:
        pytest.fail("the run never finished")
    assert kills >= 2, "the test meant to kill the run at least twice; lengthen the run"
    assert records(tmp_path / "killed") == records(tmp_path / "straight")


def test_another_config_in_the_same_directory_is_refused(script, tmp_path):
    first = subprocess.run(eval_args(script, tmp_path / "run", "-t", "0"), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    other = subprocess.run(eval_args(script, tmp_path / "run", "-t", "1"), capture_output=True, text=True, timeout=300)
    assert other.returncode == 2
    assert "another config" in other.stderr and "rsa" in other.stderr


def test_report_compare_and_lcb_export(script, tmp_path):
    for name, method in (("rsa", "rsa"), ("sample", "sample")):
        done = subprocess.run(
            eval_args(script, tmp_path / name, "-t", "1", "--method", method, "--pass-k", "1,2"),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    report = subprocess.run([*RSA_CODE, "report", str(tmp_path / "rsa"), "--pass-k", "1,2,4"], capture_output=True, text=True)
    assert report.returncode == 0 and "pass@4" in report.stdout
    assert (tmp_path / "rsa" / "curve.png").exists() and (tmp_path / "rsa" / "summary.json").exists()
    summary = json.loads((tmp_path / "rsa" / "summary.json").read_text())
    assert summary["problems"] == 5 and len(summary["metrics"]["overall"]) == 2

    compare = subprocess.run([*RSA_CODE, "compare", str(tmp_path / "rsa"), str(tmp_path / "sample")], capture_output=True, text=True)
    assert compare.returncode == 0 and "| rsa |" in compare.stdout and "| sample |" in compare.stdout

    exported = subprocess.run([*RSA_CODE, "export", str(tmp_path / "rsa"), "--lcb"], capture_output=True, text=True)
    rows = json.loads(exported.stdout)
    assert len(rows) == 5 and all(len(r["code_list"]) == 4 for r in rows)
    # The file lcb_runner would grade, our own `grade` command grades to the run's own figure.
    (tmp_path / "gen.json").write_text(exported.stdout)
    graded = subprocess.run(
        [
            *RSA_CODE,
            "grade",
            "--problems",
            str(LCB_FULL_TESTS_SAMPLE),
            "--problems",
            str(LCB_HIDDEN100),
            "--programs",
            str(tmp_path / "gen.json"),
            "--sandbox",
            "local",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert graded.returncode == 0, graded.stderr
    final = summary["metrics"]["overall"][-1]
    assert json.loads(graded.stdout)["pass@1"] == pytest.approx(final["pass@1"])


def test_shards_merge_into_the_unsharded_report(script, tmp_path):
    whole = subprocess.run(eval_args(script, tmp_path / "whole", "-t", "1"), capture_output=True, text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr
    for i in range(2):
        shard = subprocess.run(
            eval_args(script, tmp_path / f"shard{i}", "-t", "1", "--shard", f"{i}/2"), capture_output=True, text=True, timeout=300
        )
        assert shard.returncode == 0, shard.stderr
    merged = subprocess.run(
        [*RSA_CODE, "report", str(tmp_path / "shard0"), str(tmp_path / "shard1"), "--out", str(tmp_path / "merged")],
        capture_output=True,
        text=True,
    )
    assert merged.returncode == 0, merged.stderr
    a = json.loads((tmp_path / "whole" / "summary.json").read_text())["metrics"]
    b = json.loads((tmp_path / "merged" / "summary.json").read_text())["metrics"]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "generation_seconds"} for r in rows]  # noqa: E731
    assert strip(a["overall"]) == strip(b["overall"]) and a["by_difficulty"] == b["by_difficulty"]
