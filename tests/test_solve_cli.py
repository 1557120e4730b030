"""`rsa-code solve` end to end: with the scripted runner (fast, exact) and with the real
embedded model on CPU."""

import json
import subprocess
import sys

import pytest

RSA_CODE = [sys.executable, "-m", "solver.cli"]


def rsa_code(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*RSA_CODE, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def script(tmp_path):
    texts = [f"Idea {i}.\n```python\na, b = map(int, input().split())\nprint(a + b + {i % 2})\n```" for i in range(5)]
    path = tmp_path / "script.json"
    path.write_text(json.dumps(texts))
    return path


def test_solve_prints_the_chosen_program(script):
    done = rsa_code("solve", "a-plus-b", "-n", "4", "-k", "2", "-t", "2", "--runner", "scripted", "--model", str(script))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("a, b = map(int, input().split())\nprint(a + b + ")
    assert [line.split(":")[0] for line in done.stderr.splitlines() if line.startswith("round")] == ["round 0/2", "round 1/2", "round 2/2"]
    assert "tokens/s" in done.stderr


def test_solve_json_holds_the_whole_history_and_resumes_from_out(script, tmp_path):
    args = [
        "solve",
        "a-plus-b",
        "-n",
        "3",
        "-k",
        "2",
        "-t",
        "1",
        "--runner",
        "scripted",
        "--model",
        str(script),
        "--json",
        "--out",
        str(tmp_path / "run"),
    ]
    first = rsa_code(*args)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert [len(r) for r in result["rounds"]] == [3, 3]
    assert all(len(c["parents"]) == 2 for c in result["rounds"][1])
    chosen = result["chosen"]
    assert result["rounds"][chosen["round"]][chosen["index"]]["code"] == chosen["code"]
    again = rsa_code(*args)  # the run directory is complete: nothing is generated again
    assert again.returncode == 0 and "resuming" in again.stderr and "round 0/1" not in again.stderr
    assert json.loads(again.stdout) == result


@pytest.mark.parametrize(
    "args, message",
    [
        (["-n", "2", "-k", "3"], "k (3) cannot exceed n (2)"),
        (["-n", "0"], "-n:"),
        (["--temperature", "-1"], "--temperature:"),
        (["--max-model-len", "100", "--max-tokens", "200"], "--max-tokens 200 leaves no room"),
    ],
)
def test_bad_options_are_one_line_errors(script, args, message):
    done = rsa_code("solve", "a-plus-b", "--runner", "scripted", "--model", str(script), *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.model
@pytest.mark.slow
def test_solve_with_the_real_embedded_model(tmp_path):
    done = rsa_code(
        "solve", "a-plus-b", "-n", "2", "-k", "2", "-t", "1", "--max-tokens", "48", "--json", "--out", str(tmp_path / "run"), timeout=900
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["model"].startswith("SmolLM2-135M-Instruct")
    candidates = [c for population in result["rounds"] for c in population]
    assert len(candidates) == 4
    for c in candidates:
        assert c["text"].strip() and 0 < c["completion_tokens"] <= 48 and c["prompt_tokens"] > 50
        assert c["finish_reason"] in ("stop", "length")
    # An aggregation prompt holds two candidates and the statement: far longer than a first prompt.
    assert min(c["prompt_tokens"] for c in result["rounds"][1]) > max(c["prompt_tokens"] for c in result["rounds"][0])
    assert "round 1/1" in done.stderr
