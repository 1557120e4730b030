"""The whole pipeline with real parts: the embedded model on CPU, the Docker sandbox, real
LiveCodeBench rows with their official hidden tests."""

import json
import subprocess

import pytest
from datasets import load_dataset

from solver.rundir import RunDir
from tests.conftest import LCB_FULL_TESTS_SAMPLE
from tests.test_eval_cli import RSA_CODE


@pytest.mark.docker
@pytest.mark.model
@pytest.mark.slow
def test_eval_and_dataset_with_the_real_model_and_docker(tmp_path):
    run = tmp_path / "run"
    done = subprocess.run(
        [
            *RSA_CODE,
            "eval",
            "--data",
            str(LCB_FULL_TESTS_SAMPLE),
            "-n",
            "2",
            "-k",
            "2",
            "-t",
            "1",
            "--max-tokens",
            "96",
            "--pass-k",
            "1,2",
            "--sandbox",
            "docker",
            "--out",
            str(run),
        ],
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert done.returncode == 0, done.stderr
    assert "| round | pass@1 | pass@N | pass@2 |" in done.stdout
    assert "round 0 graded" in done.stderr and "round 1 graded" in done.stderr

    rounds = RunDir(run).rounds()
    assert [len(r.candidates) for r in rounds] == [6, 6]
    for r in rounds:
        assert {g.key for g in r.grades} == {c.key for c in r.candidates}
        assert not any(g.infra_error for g in r.grades)
        assert all(c.text and c.completion_tokens > 0 for c in r.candidates)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["model"].startswith("SmolLM2-135M-Instruct")
    assert (run / "curve.png").read_bytes()[:4] == b"\x89PNG"

    data = tmp_path / "ds"
    built = subprocess.run([*RSA_CODE, "dataset", str(run), "--out", str(data)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    aggregation = load_dataset("json", data_files=str(data / "aggregation.jsonl"), split="train")
    assert len(aggregation) == 6
    assert all(len(p) == 2 and p[1]["role"] == "user" for p in aggregation["prompt"])
